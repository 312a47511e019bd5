//! Command specs as data: what `commands/*.toml` declares about one command, and how a
//! parsed [`CommandLine`] is validated against it into an [`Invocation`].
//!
//! Validation is where chat text stops being text: every argument is matched against
//! an anchored regex or an enum before any action may see it.

use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::parse::CommandLine;
use crate::runbook::step::StepSpec;

/// One file of `commands/`: a command (or one subcommand of it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    pub command: CommandHeader,
    #[serde(default)]
    pub args: Vec<ArgSpec>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    #[serde(default)]
    pub on_failure: Vec<StepSpec>,
    #[serde(default)]
    pub post: PostSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandHeader {
    pub name: String,
    #[serde(default)]
    pub sub: Option<String>,
    pub help: String,
    /// The authorization row (a scenario of the matrix) this command falls under.
    pub scenario: String,
    /// Severity of the incident this command opens when none is open.
    #[serde(default)]
    pub severity: Option<String>,
    /// Incident title used when this command opens the incident.
    #[serde(default)]
    pub title: Option<String>,
    /// Runs sharing a scope never overlap. Defaults to the command's full name.
    #[serde(default)]
    pub scope: Option<String>,
    /// Incident status once the run succeeds (`monitoring` or `resolved`).
    #[serde(default)]
    pub sets_status: Option<String>,
    /// The seed section this command implements, shown in help.
    #[serde(default)]
    pub source: Option<String>,
}

/// Templates posted around a run. Paths are relative to `templates/`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostSpec {
    #[serde(default)]
    pub on_start: Option<String>,
    #[serde(default)]
    pub on_success: Option<String>,
    #[serde(default)]
    pub on_failure: Option<String>,
    /// Also post these templates to the stakeholder channel.
    #[serde(default)]
    pub stakeholders: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    #[default]
    String,
    Int,
    Duration,
    Bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    pub name: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub kind: ArgKind,
    /// Anchored regex the value must match; anchoring is enforced, not trusted.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// Filled from the positional words, in declaration order.
    #[serde(default)]
    pub positional: bool,
    /// Lower bound and upper bound for `int` args.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
}

/// A spec ready for use: the file plus its compiled argument patterns.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub file: SpecFile,
    /// Where it was loaded from, for `file:line` messages.
    pub path: String,
    pub patterns: Vec<Option<ArgPattern>>,
}

impl CommandSpec {
    /// `rollback full` or `kanban-off`.
    pub fn full_name(&self) -> String {
        match &self.file.command.sub {
            Some(sub) => format!("{} {}", self.file.command.name, sub),
            None => self.file.command.name.clone(),
        }
    }

    /// The runbook pack: the directory under `commands/` the file lives in.
    pub fn pack(&self) -> String {
        std::path::Path::new(&self.path)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != "commands")
            .unwrap_or_default()
    }

    pub fn scope(&self) -> String {
        self.file
            .command
            .scope
            .clone()
            .unwrap_or_else(|| self.full_name())
    }

    /// `/rollback full reason=<text> [top=<int, default 20>]`
    pub fn usage(&self) -> String {
        let mut out = format!("/{}", self.full_name());
        for a in self.file.args.iter().filter(|a| a.positional) {
            out.push_str(&format!(" <{}>", a.name));
        }
        for a in self.file.args.iter().filter(|a| !a.positional) {
            let value = if a.choices.is_empty() {
                format!("<{}>", a.name)
            } else {
                a.choices.join("|")
            };
            if a.required {
                out.push_str(&format!(" {}={}", a.name, value));
            } else {
                out.push_str(&format!(" [{}={}]", a.name, value));
            }
        }
        out.push_str(" [dry-run=true]");
        out
    }

    /// Checks a parsed line (with the subcommand already consumed) against this spec.
    pub fn bind(&self, line: &CommandLine, positional: &[String]) -> Result<Invocation, ArgError> {
        let mut values: BTreeMap<String, ArgValue> = BTreeMap::new();
        let mut dry_run = false;
        for (key, _) in &line.named {
            if key == DRY_RUN {
                continue;
            }
            if !self.file.args.iter().any(|a| &a.name == key) {
                return Err(ArgError::Unknown(key.clone()));
            }
        }
        if let Some(v) = line.get(DRY_RUN) {
            dry_run = parse_bool(v).ok_or_else(|| ArgError::Invalid {
                name: "dry-run".into(),
                reason: "must be true or false".into(),
            })?;
        }
        let mut pos = positional.iter();
        for (i, arg) in self.file.args.iter().enumerate() {
            let given = if arg.positional {
                line.get(&arg.name)
                    .map(str::to_string)
                    .or_else(|| pos.next().cloned())
            } else {
                line.get(&arg.name).map(str::to_string)
            };
            let raw = match (given, &arg.default) {
                (Some(v), _) => v,
                (None, Some(d)) => d.clone(),
                (None, None) if arg.required => return Err(ArgError::Missing(arg.name.clone())),
                (None, None) => continue,
            };
            let value = check_value(arg, self.patterns[i].as_ref(), &raw)?;
            values.insert(arg.name.clone(), value);
        }
        if let Some(extra) = pos.next() {
            return Err(ArgError::ExtraPositional(extra.clone()));
        }
        Ok(Invocation {
            args: values,
            dry_run,
        })
    }
}

fn check_value(
    arg: &ArgSpec,
    pattern: Option<&ArgPattern>,
    raw: &str,
) -> Result<ArgValue, ArgError> {
    let invalid = |reason: String| ArgError::Invalid {
        name: arg.name.clone(),
        reason,
    };
    if !arg.choices.is_empty() && !arg.choices.iter().any(|c| c == raw) {
        return Err(invalid(format!(
            "must be one of {}",
            arg.choices.join(", ")
        )));
    }
    if let Some(re) = pattern {
        if !re.is_match(raw) {
            let shown = arg.pattern.as_deref().unwrap_or_default();
            return Err(invalid(format!(
                "`{}` is not accepted (allowed: {shown})",
                crate::render::escape::inline_code(raw),
            )));
        }
    }
    Ok(match arg.kind {
        ArgKind::String => ArgValue::Text(raw.to_string()),
        ArgKind::Bool => {
            ArgValue::Bool(parse_bool(raw).ok_or_else(|| invalid("must be true or false".into()))?)
        }
        ArgKind::Int => {
            let n: i64 = raw
                .parse()
                .map_err(|_| invalid("must be a whole number".into()))?;
            if arg.min.is_some_and(|m| n < m) || arg.max.is_some_and(|m| n > m) {
                return Err(invalid(format!(
                    "must be between {} and {}",
                    arg.min.map_or("-∞".into(), |m| m.to_string()),
                    arg.max.map_or("∞".into(), |m| m.to_string())
                )));
            }
            ArgValue::Int(n)
        }
        ArgKind::Duration => ArgValue::Duration(
            parse_duration(raw)
                .ok_or_else(|| invalid("must be a duration like 30s, 5m or 2h".into()))?,
        ),
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Parses `250ms`, `30s`, `5m`, `2h` (and a bare number of seconds).
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => n,
        "" | "s" => n.checked_mul(1000)?,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// A validated argument value. Only these reach actions, as bound parameters or argv items.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Text(String),
    Int(i64),
    Bool(bool),
    Duration(Duration),
}

impl ArgValue {
    pub fn as_text(&self) -> String {
        match self {
            ArgValue::Text(s) => s.clone(),
            ArgValue::Int(n) => n.to_string(),
            ArgValue::Bool(b) => b.to_string(),
            ArgValue::Duration(d) => format!("{}s", d.as_secs_f64()),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ArgValue::Text(s) => s.clone().into(),
            ArgValue::Int(n) => (*n).into(),
            ArgValue::Bool(b) => (*b).into(),
            ArgValue::Duration(d) => (d.as_millis() as u64).into(),
        }
    }

    pub fn from_json(kind: ArgKind, v: &serde_json::Value) -> Option<ArgValue> {
        Some(match kind {
            ArgKind::String => ArgValue::Text(v.as_str()?.to_string()),
            ArgKind::Int => ArgValue::Int(v.as_i64()?),
            ArgKind::Bool => ArgValue::Bool(v.as_bool()?),
            ArgKind::Duration => ArgValue::Duration(Duration::from_millis(v.as_u64()?)),
        })
    }
}

/// A command line bound to a spec: every value validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Invocation {
    pub args: BTreeMap<String, ArgValue>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("`{0}` is required")]
    Missing(String),
    #[error("`{0}` is not an argument of this command")]
    Unknown(String),
    #[error("`{name}` {reason}")]
    Invalid { name: String, reason: String },
    #[error("unexpected word `{0}` (arguments are name=value; quote values with spaces: reason=\"db down\")")]
    ExtraPositional(String),
}

/// The key every command accepts: show what would run, change nothing.
pub const DRY_RUN: &str = "dry_run";

/// A compiled argument pattern: an anchored regex, plus character-count bounds when
/// the pattern was a single class under counted repetition.
#[derive(Debug, Clone)]
pub struct ArgPattern {
    re: Regex,
    min: usize,
    max: Option<usize>,
}

impl ArgPattern {
    pub fn is_match(&self, value: &str) -> bool {
        let n = value.chars().count();
        n >= self.min && self.max.is_none_or(|m| n <= m) && self.re.is_match(value)
    }
}

/// Largest compiled pattern accepted; `warroom check` reports bigger ones.
const PATTERN_SIZE_LIMIT: usize = 2 << 20;

/// Compiles a pattern so that it must match the whole value.
///
/// `[\w .,-]{3,200}` is the natural way to write "a short reason", but a Unicode
/// class under a counted repetition compiles into hundreds of copies of the class
/// (seconds and hundreds of MB). The same language is "only class characters, 3 to
/// 200 of them", so that shape is compiled as `CLASS*` plus a length check.
pub fn compile_anchored(pattern: &str) -> Result<ArgPattern, regex::Error> {
    let build = |p: &str| {
        regex::RegexBuilder::new(&format!("^(?:{p})$"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
    };
    if let Some((class, min, max)) = counted_class(pattern) {
        return Ok(ArgPattern {
            re: build(&format!("(?:{class})*"))?,
            min,
            max,
        });
    }
    Ok(ArgPattern {
        re: build(pattern)?,
        min: 0,
        max: None,
    })
}

/// `Some((class, min, max))` when the whole pattern is one character class repeated.
fn counted_class(pattern: &str) -> Option<(String, usize, Option<usize>)> {
    use regex_syntax::hir::HirKind;
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut h = &hir;
    while let HirKind::Capture(c) = h.kind() {
        h = &c.sub;
    }
    let HirKind::Repetition(rep) = h.kind() else {
        return None;
    };
    if !matches!(rep.sub.kind(), HirKind::Class(_)) {
        return None;
    }
    Some((
        rep.sub.to_string(),
        rep.min as usize,
        rep.max.map(|m| m as usize),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse::parse;

    fn spec(toml_text: &str) -> CommandSpec {
        let file: SpecFile = toml::from_str(toml_text).expect("test spec parses");
        let patterns = file
            .args
            .iter()
            .map(|a| a.pattern.as_deref().map(|p| compile_anchored(p).unwrap()))
            .collect();
        CommandSpec {
            file,
            path: "test.toml".into(),
            patterns,
        }
    }

    const KANBAN: &str = r#"
        [command]
        name = "kanban-off"
        help = "off"
        scenario = "production-p0"
        [[args]]
        name = "reason"
        pattern = '[\w .,:;()/-]{3,200}'
        required = true
        [[args]]
        name = "top"
        kind = "int"
        default = "20"
        min = 1
        max = 500
        [[args]]
        name = "company"
        positional = true
        pattern = '[A-Za-z0-9_-]{1,64}'
        [[args]]
        name = "mode"
        choices = ["soft", "hard"]
        default = "soft"
        [[args]]
        name = "wait"
        kind = "duration"
        default = "5m"
    "#;

    fn bind(line: &str) -> Result<Invocation, ArgError> {
        let s = spec(KANBAN);
        let l = parse(line).unwrap();
        s.bind(&l, &l.positional)
    }

    #[test]
    fn arguments_bind_with_defaults_and_kinds() {
        let inv = bind("/kanban-off reason=\"socket down\"").unwrap();
        assert_eq!(inv.args["reason"], ArgValue::Text("socket down".into()));
        assert_eq!(inv.args["top"], ArgValue::Int(20));
        assert_eq!(inv.args["mode"], ArgValue::Text("soft".into()));
        assert_eq!(
            inv.args["wait"],
            ArgValue::Duration(Duration::from_secs(300))
        );
        assert!(!inv.args.contains_key("company"));
        assert!(!inv.dry_run);
        let inv = bind("/kanban-off acme reason=abc top=3 dry-run=true").unwrap();
        assert_eq!(inv.args["company"], ArgValue::Text("acme".into()));
        assert_eq!(inv.args["top"], ArgValue::Int(3));
        assert!(inv.dry_run);
    }

    #[test]
    fn bad_arguments_are_refused_with_the_reason() {
        let table: &[(&str, ArgError)] = &[
            ("/kanban-off", ArgError::Missing("reason".into())),
            (
                "/kanban-off reason=abc nope=1",
                ArgError::Unknown("nope".into()),
            ),
            (
                "/kanban-off reason=abc a b",
                ArgError::ExtraPositional("b".into()),
            ),
            ("/kanban-off reason=ab", invalid("reason")),
            ("/kanban-off reason=\"$(rm -rf /)\"", invalid("reason")),
            (
                "/kanban-off reason=\"a'; DROP TABLE x;--\"",
                invalid("reason"),
            ),
            ("/kanban-off reason=\"ok\nline\"", invalid("reason")),
            ("/kanban-off reason=abc top=0", invalid("top")),
            ("/kanban-off reason=abc top=501", invalid("top")),
            ("/kanban-off reason=abc top=1e3", invalid("top")),
            ("/kanban-off reason=abc mode=medium", invalid("mode")),
            ("/kanban-off reason=abc wait=soon", invalid("wait")),
            ("/kanban-off reason=abc dry-run=maybe", invalid("dry-run")),
            ("/kanban-off reason=abc \"a;b\"", invalid("company")),
            ("/kanban-off reason=abc \"acme\nx\"", invalid("company")),
        ];
        for (line, want) in table {
            let got = bind(line).expect_err(line);
            match (&got, want) {
                (ArgError::Invalid { name, .. }, ArgError::Invalid { name: w, .. }) => {
                    assert_eq!(name, w, "{line}")
                }
                _ => assert_eq!(&got, want, "{line}"),
            }
        }
    }

    fn invalid(name: &str) -> ArgError {
        ArgError::Invalid {
            name: name.into(),
            reason: String::new(),
        }
    }

    #[test]
    fn counted_classes_keep_their_meaning_and_stay_small() {
        let p = compile_anchored(r"[\w .,:;()/#%+-]{3,200}").unwrap();
        assert!(p.is_match("Socket.IO não conecta (company 12)"));
        assert!(!p.is_match("ab"), "too short");
        assert!(!p.is_match(&"a".repeat(201)), "too long");
        assert!(p.is_match(&"ã".repeat(200)), "counted in characters");
        assert!(!p.is_match("abc$(id)"));
        let any = compile_anchored("(?s).{1,5}").unwrap();
        assert!(any.is_match("a\nb") && !any.is_match("") && !any.is_match("abcdef"));
        let plain = compile_anchored("v[0-9]+\\.[0-9]+").unwrap();
        assert!(plain.is_match("v3.0") && !plain.is_match("v3.0; rm"));
    }

    #[test]
    fn patterns_are_anchored_even_when_the_author_forgot() {
        let re = compile_anchored("[a-z]+").unwrap();
        assert!(re.is_match("abc"));
        assert!(!re.is_match("abc; rm -rf /"));
        let re = compile_anchored("a|b").unwrap();
        assert!(!re.is_match("ab"));
    }

    #[test]
    fn usage_lists_required_optional_and_choices() {
        assert_eq!(
            spec(KANBAN).usage(),
            "/kanban-off <company> reason=<reason> [top=<top>] [mode=soft|hard] [wait=<wait>] [dry-run=true]"
        );
    }

    #[test]
    fn durations_parse_in_common_units() {
        let table = [
            ("250ms", Some(250)),
            ("30s", Some(30_000)),
            ("30", Some(30_000)),
            ("5m", Some(300_000)),
            ("2h", Some(7_200_000)),
            ("5 m", None),
            ("m", None),
            ("-1s", None),
            ("99999999999999999999h", None),
        ];
        for (s, ms) in table {
            assert_eq!(parse_duration(s).map(|d| d.as_millis() as u64), ms, "{s}");
        }
    }
}
