//! `{...}` placeholders in argv items, Redis keys, HTTP paths and bodies: the one way a
//! run's values reach those places. A placeholder fills part of one item; it never
//! splits an item or reaches a shell, and in URLs its value is percent-encoded.
//!
//! Sources: `{args.NAME}`, `{vars.NAME}`, `{incident.id}`, `{run.id}`,
//! `{run.requested_by}`, `{now:%Y%m%d_%H%M%S}`. `{{` and `}}` are literal braces.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What placeholders can read.
pub struct Scope<'a> {
    pub args: &'a Value,
    pub vars: &'a BTreeMap<String, String>,
    pub incident_id: Option<&'a str>,
    pub run_id: Option<i64>,
    pub requested_by: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// How a value is written into its place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    /// A URL path or query component.
    Url,
}

/// `strftime` letters allowed in `{now:...}`; anything else could produce surprises.
fn time_format_ok(fmt: &str) -> bool {
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            if !matches!(
                chars.next(),
                Some('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 's' | 'j')
            ) {
                return false;
            }
        } else if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | 'T' | ':')) {
            return false;
        }
    }
    true
}

/// The placeholder names in `s`, for `warroom check`.
pub fn names(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    walk(s, |name| {
        out.push(name.to_string());
        Ok(String::new())
    })?;
    Ok(out)
}

/// Whether a placeholder name is one this module knows (args/vars existence is the
/// caller's to check).
pub fn known(name: &str) -> bool {
    name.starts_with("args.")
        || name.starts_with("vars.")
        || matches!(name, "incident.id" | "run.id" | "run.requested_by")
        || name.strip_prefix("now:").is_some_and(time_format_ok)
}

pub fn expand(s: &str, scope: &Scope<'_>, enc: Encoding) -> Result<String, String> {
    walk(s, |name| {
        let raw = value(name, scope)?;
        Ok(match enc {
            Encoding::Plain => raw,
            Encoding::Url => {
                percent_encoding::utf8_percent_encode(&raw, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            }
        })
    })
}

fn value(name: &str, scope: &Scope<'_>) -> Result<String, String> {
    if let Some(arg) = name.strip_prefix("args.") {
        return match scope.args.get(arg) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Null) | None => Err(format!("argument `{arg}` was not given")),
            Some(other) => Ok(other.to_string()),
        };
    }
    if let Some(var) = name.strip_prefix("vars.") {
        return scope
            .vars
            .get(var)
            .cloned()
            .ok_or_else(|| format!("no var `{var}`"));
    }
    if let Some(fmt) = name.strip_prefix("now:") {
        if !time_format_ok(fmt) {
            return Err(format!("unsupported time format `{fmt}`"));
        }
        return Ok(scope.now.format(fmt).to_string());
    }
    match name {
        "incident.id" => Ok(scope.incident_id.unwrap_or("INC-(new)").to_string()),
        "run.id" => Ok(scope
            .run_id
            .map_or("RUN-(new)".to_string(), crate::model::run::display_id)),
        "run.requested_by" => Ok(scope.requested_by.unwrap_or_default().to_string()),
        other => Err(format!("unknown placeholder `{{{other}}}`")),
    }
}

fn walk(s: &str, mut f: impl FnMut(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!("unmatched `}}` in `{s}`"));
        }
        let end = tail
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{s}`"))?;
        out.push_str(&f(&tail[1..end])?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn scope<'a>(args: &'a Value, vars: &'a BTreeMap<String, String>) -> Scope<'a> {
        Scope {
            args,
            vars,
            incident_id: Some("INC-20261122-001"),
            run_id: Some(7),
            requested_by: Some("U_ONCALL"),
            now: Utc.with_ymd_and_hms(2026, 11, 22, 3, 4, 5).unwrap(),
        }
    }

    #[test]
    fn placeholders_fill_parts_of_one_item() {
        let args = json!({"version": "v3.0.0", "ttl": 3600, "evil": "a b; rm -rf / $(id)"});
        let vars = BTreeMap::from([("worker".to_string(), "pems-write-sync-worker".to_string())]);
        let s = scope(&args, &vars);
        let table = [
            ("{args.version}", "v3.0.0"),
            (
                "--name=pre_deployment_{now:%Y%m%d_%H%M}",
                "--name=pre_deployment_20261122_0304",
            ),
            ("{vars.worker}", "pems-write-sync-worker"),
            ("{args.ttl}", "3600"),
            (
                "incident-{incident.id}-{run.id}",
                "incident-INC-20261122-001-RUN-7",
            ),
            ("{{literal}}", "{literal}"),
            ("{args.evil}", "a b; rm -rf / $(id)"),
        ];
        for (input, want) in table {
            assert_eq!(expand(input, &s, Encoding::Plain).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let args = json!({"org": "org-rio/../admin?x=1&y"});
        let vars = BTreeMap::new();
        let got = expand(
            "/api/pfa-data?organizationId={args.org}",
            &scope(&args, &vars),
            Encoding::Url,
        )
        .unwrap();
        assert_eq!(
            got,
            "/api/pfa-data?organizationId=org%2Drio%2F%2E%2E%2Fadmin%3Fx%3D1%26y"
        );
    }

    #[test]
    fn bad_placeholders_are_errors_not_guesses() {
        let args = json!({});
        let vars = BTreeMap::new();
        let s = scope(&args, &vars);
        for bad in [
            "{args.missing}",
            "{vars.none}",
            "{unknown}",
            "{now:%Y %n}",
            "{oops",
            "oops}",
        ] {
            assert!(expand(bad, &s, Encoding::Plain).is_err(), "{bad}");
        }
        assert!(known("now:%Y%m%d_%H%M%S") && !known("now:$(id)") && !known("env.HOME"));
    }
}
