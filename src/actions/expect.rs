//! Expectations on values: `0`, `"= 0"`, `"< 0.1"`, `">= 1"`, `"!= 0"`, or a literal.
//! Shared by SQL result checks and HTTP JSON-pointer checks.

use serde_json::Value;

/// Checks `actual` against an expectation written in a command file.
pub fn check(actual: &Value, expected: &toml::Value) -> Result<(), String> {
    match expected {
        toml::Value::String(s) => check_str(actual, s),
        toml::Value::Integer(n) => compare(actual, "=", *n as f64),
        toml::Value::Float(x) => compare(actual, "=", *x),
        toml::Value::Boolean(b) => {
            if as_bool(actual) == Some(*b) {
                Ok(())
            } else {
                Err(format!("expected {b}, got {}", show(actual)))
            }
        }
        other => Err(format!("unsupported expectation {other}")),
    }
}

/// Parses an operator expression such as `< 0.1`; `None` for a plain literal.
pub fn parse_op(s: &str) -> Option<(&'static str, f64)> {
    let s = s.trim();
    for op in ["<=", ">=", "!=", "==", "<", ">", "="] {
        if let Some(rest) = s.strip_prefix(op) {
            let n: f64 = rest.trim().parse().ok()?;
            let op: &'static str = if op == "==" { "=" } else { op };
            return Some((op, n));
        }
    }
    None
}

/// How an expectation reads in a dry run: `< 0.1`, `= 0`, `= "healthy"`.
pub fn show_expect(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) if parse_op(s).is_some() => s.clone(),
        other => format!("= {other}"),
    }
}

fn check_str(actual: &Value, s: &str) -> Result<(), String> {
    if let Some((op, n)) = parse_op(s) {
        return compare(actual, op, n);
    }
    let got = match actual {
        Value::String(a) => a.clone(),
        other => other.to_string(),
    };
    if got == s {
        Ok(())
    } else {
        Err(format!("expected {s:?}, got {}", show(actual)))
    }
}

fn compare(actual: &Value, op: &str, n: f64) -> Result<(), String> {
    let Some(a) = as_f64(actual) else {
        return Err(format!("expected a number {op} {n}, got {}", show(actual)));
    };
    let ok = match op {
        "<" => a < n,
        "<=" => a <= n,
        ">" => a > n,
        ">=" => a >= n,
        "!=" => a != n,
        _ => a == n,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {op} {n}, got {}", show(actual)))
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.as_str() {
            "true" | "t" => Some(true),
            "false" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expectations_compare_as_written() {
        let t = |s: &str| toml::Value::String(s.into());
        let table: &[(Value, toml::Value, bool)] = &[
            (json!(0), toml::Value::Integer(0), true),
            (json!(3), toml::Value::Integer(0), false),
            (json!("0"), toml::Value::Integer(0), true),
            (json!(0.05), t("< 0.1"), true),
            (json!(0.1), t("< 0.1"), false),
            (json!(0.1), t("<= 0.1"), true),
            (json!(5), t(">= 1"), true),
            (json!(0), t("!= 0"), false),
            (json!(2), t("== 2"), true),
            (json!(null), t("= 0"), false),
            (json!("healthy"), t("healthy"), true),
            (json!("down"), t("healthy"), false),
            (json!(true), toml::Value::Boolean(true), true),
            (json!(1), toml::Value::Boolean(true), true),
            (json!("f"), toml::Value::Boolean(false), true),
            (json!("abc"), t("< 1"), false),
        ];
        for (actual, expected, ok) in table {
            assert_eq!(
                check(actual, expected).is_ok(),
                *ok,
                "{actual} vs {expected}"
            );
        }
    }

    #[test]
    fn failures_say_what_was_expected_and_seen() {
        let e = check(&json!(3), &toml::Value::Integer(0)).unwrap_err();
        assert_eq!(e, "expected = 0, got 3");
    }
}
