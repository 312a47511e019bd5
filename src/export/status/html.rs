//! The status page as one HTML document: no JavaScript, no external resources,
//! landmarks (`header`, `main`, `footer`, labelled sections), text that says every
//! state (colour only repeats it), contrast above WCAG AA's 4.5:1, and a layout
//! that reflows down to 320 px. It refreshes itself with a meta refresh.
//!
//! Every piece of text is HTML-escaped here, whatever escaping it had for chat:
//! the stakeholder texts are the core's Markdown, of which bold, code, list items
//! and backslash escapes are rendered, and nothing else is markup.

use super::{component_words, IncidentState, Links, StatusPage};
use crate::render::hhmm;

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of the core's Markdown as HTML: `**bold**`, `` `code` ``, `\x`
/// escapes, and a leading/trailing `_` of an emphasised line dropped.
fn inline(line: &str) -> String {
    let line = line.trim_end();
    let line = match line.strip_prefix('_').and_then(|l| l.strip_suffix('_')) {
        Some(inner) if !inner.is_empty() => inner,
        _ => line,
    };
    let chars: Vec<char> = line.chars().collect();
    let (mut out, mut bold, mut code) = (String::new(), false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && !code && i + 1 < chars.len() {
            out.push_str(&escape(&chars[i + 1].to_string()));
            i += 2;
            continue;
        }
        if c == '`' {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
        } else if c == '*' && !code && chars.get(i + 1) == Some(&'*') {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            i += 1;
        } else if c != '\u{200B}' {
            out.push_str(&escape(&c.to_string()));
        }
        i += 1;
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// A stakeholder text as paragraphs and lists.
pub fn text(md: &str) -> String {
    let mut out = String::new();
    let mut list = false;
    for line in md.lines() {
        let t = line.trim_start();
        if t.trim().is_empty() || t.starts_with("```") {
            continue;
        }
        if let Some(item) = t.strip_prefix("- ") {
            if !list {
                out.push_str("<ul>");
                list = true;
            }
            out.push_str(&format!("<li>{}</li>", inline(item)));
            continue;
        }
        if list {
            out.push_str("</ul>");
            list = false;
        }
        out.push_str(&format!("<p>{}</p>", inline(t)));
    }
    if list {
        out.push_str("</ul>");
    }
    out
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "<time datetime=\"{}\">{} {} UTC</time>",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        t.format("%Y-%m-%d"),
        hhmm(t)
    )
}

fn incident(i: &IncidentState, level: &str) -> String {
    let mut out = format!(
        "<article class=\"incident\" aria-labelledby=\"{id}\"><{level} id=\"{id}\">{} &middot; {}</{level}>\
         <p class=\"meta\"><span class=\"sev\">{}</span> <span class=\"state\">{}</span> \
         &middot; started {}",
        escape(&i.id),
        escape(&i.title),
        escape(&i.severity),
        escape(i.status),
        time(i.started_at),
        id = escape(&i.id),
    );
    if let Some(r) = i.resolved_at {
        out.push_str(&format!(" &middot; resolved {}", time(r)));
    }
    out.push_str("</p><ol class=\"updates\">");
    for u in &i.updates {
        out.push_str(&format!(
            "<li><p class=\"when\">{}</p>{}</li>",
            time(u.updated_at),
            text(&u.text)
        ));
    }
    out.push_str("</ol></article>");
    out
}

const STYLE: &str = "body{margin:0;font:1rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;\
color:#1a1a1a;background:#fff}header,main,footer{max-width:48rem;margin:0 auto;padding:1rem}\
header{border-bottom:1px solid #767676}h1{font-size:1.5rem;margin:0}h2{font-size:1.25rem}\
h3{font-size:1.1rem;margin:.5rem 0}.incident p,.incident h3{overflow-wrap:anywhere}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .25rem;border-bottom:1px solid #767676}\
.operational{color:#0b6b2f}.degraded,.monitoring{color:#7a4b00}.partial_outage,.major_outage{color:#a30000}\
.incident{border-left:4px solid #a30000;padding:0 0 0 .75rem;margin:1rem 0}\
.resolved .incident{border-left-color:#0b6b2f}.meta,.when{color:#4a4a4a;margin:.25rem 0}\
.updates{padding-left:1.25rem}.updates li{margin:.5rem 0}code{background:#f2f2f2;padding:0 .2rem}\
a{color:#0645ad}";

/// The whole page.
pub fn html(page: &StatusPage, links: &Links) -> String {
    let open: Vec<&IncidentState> = page.incidents.iter().filter(|i| i.open).collect();
    let resolved: Vec<&IncidentState> = page.incidents.iter().filter(|i| !i.open).collect();
    let overall = match open.len() {
        0 => "All systems operational.".to_string(),
        1 => "1 incident is open.".to_string(),
        n => format!("{n} incidents are open."),
    };
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{refresh}\">\
         <title>{title}</title><link rel=\"alternate\" type=\"application/atom+xml\" \
         title=\"{title}\" href=\"{feed}\"><style>{STYLE}</style></head><body>\
         <header><h1>{title}</h1><p class=\"meta\">As of {now}; this page refreshes every \
         {refresh} s.</p></header><main>\
         <section aria-labelledby=\"overall\"><h2 id=\"overall\">Current status</h2>\
         <p>{overall}</p></section>\
         <section aria-labelledby=\"components\"><h2 id=\"components\">Components</h2>\
         <table><thead><tr><th scope=\"col\">Component</th><th scope=\"col\">Priority</th>\
         <th scope=\"col\">Status</th></tr></thead><tbody>",
        refresh = page.refresh,
        title = escape(&page.title),
        feed = escape(&links.feed),
        now = time(page.generated_at),
    );
    for c in &page.components {
        out.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"{}\">{}</td></tr>",
            escape(&c.name),
            escape(&c.priority),
            c.status,
            component_words(c.status)
        ));
    }
    out.push_str(
        "</tbody></table></section>\
         <section aria-labelledby=\"open\"><h2 id=\"open\">Open incidents</h2>",
    );
    if open.is_empty() {
        out.push_str("<p>None.</p>");
    }
    for i in open {
        out.push_str(&incident(i, "h3"));
    }
    out.push_str(&format!(
        "</section><section class=\"resolved\" aria-labelledby=\"past\">\
         <h2 id=\"past\">Resolved in the last {} days</h2>",
        page.days
    ));
    if resolved.is_empty() {
        out.push_str("<p>None.</p>");
    }
    for i in resolved {
        out.push_str(&incident(i, "h3"));
    }
    out.push_str(&format!(
        "</section></main><footer><p>Follow: <a href=\"{}\">Atom feed</a> &middot; \
         <a href=\"{}\">JSON</a></p></footer></body></html>\n",
        escape(&links.feed),
        escape(&links.json)
    ));
    out
}
