//! The runbook an alert suggests: an `[[alerts.rules]]` command line with the
//! alert's `{labels.X}` and `{annotations.X}` filled in, bound against the
//! command's arguments exactly as a typed line is. A value that fails its
//! argument's pattern is shown with the reason and never offered: an alert
//! suggests, a person runs (the Run button sends the line as its presser).

use std::collections::BTreeMap;

use crate::command::catalog::{Catalog, Lookup};
use crate::command::parse::{self, CommandLine};
use crate::model::alert::Alert;

/// What a rule offers for one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suggestion {
    /// A line that binds: offered with a Run button.
    Ready(String),
    /// A line that does not: shown (as far as it could be filled) with why.
    Refused { line: String, why: String },
}

/// Fills `template` from `alert` and checks the result against the catalog.
pub fn suggest(catalog: &Catalog, template: &str, alert: &Alert) -> Suggestion {
    let refused = |line: &str, why: String| Suggestion::Refused {
        line: line.to_string(),
        why,
    };
    let parsed = match parse::parse(template) {
        Ok(p) => p,
        Err(e) => {
            return refused(
                template,
                format!("the rule's command line does not parse: {e}"),
            )
        }
    };
    let mut problems = Vec::new();
    let mut fill_one = |s: &str| match fill(s, &alert.labels, &alert.annotations) {
        Ok(v) => v,
        Err((shown, why)) => {
            problems.push(why);
            shown
        }
    };
    let line = CommandLine {
        name: parsed.name.clone(),
        positional: parsed.positional.iter().map(|p| fill_one(p)).collect(),
        named: parsed
            .named
            .iter()
            .map(|(k, v)| (k.clone(), fill_one(v)))
            .collect(),
    };
    let text = render(&line);
    if let Some(why) = problems.into_iter().next() {
        return refused(&text, why);
    }
    match catalog.lookup(&line) {
        Lookup::Spec { spec, rest } => {
            if let Err(e) = spec.bind(&line, &rest) {
                return refused(&text, e.to_string());
            }
        }
        _ => return refused(&text, format!("/{} is not a runbook command", line.name)),
    }
    // The text is what the button sends: it must read back as the line checked.
    match parse::parse(&text) {
        Ok(back) if back == line => Suggestion::Ready(text),
        _ => refused(&text, "a value cannot be written on a command line".into()),
    }
}

/// `s` with its placeholders replaced, or (what it could show, why not).
fn fill(
    s: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Result<String, (String, String)> {
    let mut out = String::new();
    let mut why = None;
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let key = &after[1..end];
        let value = match key.split_once('.') {
            Some(("labels", name)) => labels.get(name).map(|v| (v, "label")),
            Some(("annotations", name)) => annotations.get(name).map(|v| (v, "annotation")),
            _ => None,
        };
        match value {
            Some((v, _)) => {
                if v.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
                    why.get_or_insert(format!(
                        "`{}` holds a quote, a backslash or a line break, which no argument takes",
                        crate::render::escape::inline_code(v)
                    ));
                }
                out.push_str(v);
            }
            None => {
                why.get_or_insert(format!("the alert has no {key}"));
                out.push_str(&after[..=end]);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    match why {
        None => Ok(out),
        Some(why) => Err((out, why)),
    }
}

/// The line as it is typed: words bare, anything else quoted.
fn render(line: &CommandLine) -> String {
    let word = |v: &str| {
        if !v.is_empty()
            && v.chars()
                .all(|c| c.is_alphanumeric() || "-_.:/@#%+,".contains(c))
        {
            v.to_string()
        } else {
            format!("\"{v}\"")
        }
    };
    let mut out = format!("/{}", line.name);
    for p in &line.positional {
        out.push(' ');
        out.push_str(&word(p));
    }
    for (k, v) in &line.named {
        out.push_str(&format!(" {k}={}", word(v)));
    }
    out
}

#[cfg(test)]
mod tests;
