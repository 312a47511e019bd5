//! The status page as an Atom feed (RFC 4287): one entry per stakeholder message,
//! newest first, its text as plain text (`type="text"`), XML-escaped.

use super::html::escape;
use super::{Links, StatusPage};

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The feed; `base` is the page's own URL or path, for the feed's links.
pub fn atom(page: &StatusPage, links: &Links, page_url: &str) -> String {
    let mut entries: Vec<(chrono::DateTime<chrono::Utc>, String)> = Vec::new();
    for i in &page.incidents {
        for (n, u) in i.updates.iter().enumerate() {
            let entry = format!(
                "<entry><id>urn:warroom:status:{id}:{n}</id><title>{id}: {title} ({status})</title>\
                 <updated>{updated}</updated><published>{published}</published>\
                 <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\
                 <content type=\"text\">{text}</content></entry>",
                id = escape(&i.id),
                title = escape(&i.title),
                status = escape(i.status),
                updated = stamp(u.updated_at),
                published = stamp(u.posted_at),
                page = escape(page_url),
                text = escape(&u.text),
            );
            entries.push((u.updated_at, entry));
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let updated = entries.first().map_or(page.generated_at, |e| e.0);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:warroom:status</id>\
         <title>{title}</title><updated>{updated}</updated><author><name>{title}</name></author>\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\
         <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>",
        title = escape(&page.title),
        updated = stamp(updated),
        feed = escape(&links.feed),
        page = escape(page_url),
    );
    for (_, e) in entries {
        out.push_str(&e);
    }
    out.push_str("</feed>\n");
    out
}
