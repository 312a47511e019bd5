//! Command specs as data: what `commands/*.toml` declares about one command, and how a
//! parsed [`CommandLine`] is validated against it into an [`Invocation`].
//!
//! Validation is where chat text stops being text: every argument is matched against
//! an anchored regex or an enum before any action may see it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::pattern::ArgPattern;
use serde::Deserialize;

use super::parse::CommandLine;
use crate::model::duration::parse_duration;
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
    /// `false` for a command that belongs inside an incident (a check after a
    /// rollback): in a channel with none open it is refused, with what to do,
    /// instead of opening one and alerting stakeholders.
    #[serde(default = "opens_incident")]
    pub opens_incident: bool,
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
    /// An emergency stop the seed calls immediate: where the matrix wants approvers,
    /// it runs at once on its requester's word, and they are asked to ratify it
    /// within this long (break-glass); unratified, it escalates.
    #[serde(default)]
    pub break_glass: Option<String>,
    /// An emergency stop: it supersedes a waiting request of its own severity in its
    /// scope too (a recovery parked at a checkpoint must not hold back the stop).
    #[serde(default)]
    pub emergency: bool,
    /// The `[clocks.components]` entry whose objectives (RTO, RPO) and escalation
    /// path the incident this command opens runs on: the seed's, not the severity's.
    #[serde(default)]
    pub component: Option<String>,
}

fn opens_incident() -> bool {
    true
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
    /// What stakeholders hear on `/incident resolve` when this command is the
    /// incident's last successful run: the seed's RESOLVED template, filled with
    /// this run. Its success template says what is true at that moment
    /// ("mitigated; monitoring"), never "resolved".
    #[serde(default)]
    pub on_resolve: Option<String>,
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
    /// Lower bound and upper bound for `int` args; without them, ±[`INT_BOUND`].
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// The longest a `duration` arg may be (`"2h"`); without it, [`LONGEST`].
    #[serde(default)]
    pub longest: Option<String>,
}

/// How far an `int` argument without bounds of its own may go either way.
pub const INT_BOUND: i64 = 1_000_000_000_000;

/// The longest a `duration` argument without a bound of its own may be: a day,
/// the longest lease a wait step is given.
pub const LONGEST: Duration = Duration::from_secs(24 * 3600);

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
                (None, None) if arg.required => {
                    // `/kanban-off Socket down`: the words were meant as this value.
                    let words: Vec<&str> = pos.clone().map(String::as_str).collect();
                    if words.is_empty() {
                        return Err(ArgError::Missing(arg.name.clone()));
                    }
                    return Err(ArgError::Invalid {
                        name: arg.name.clone(),
                        reason: format!(
                            "is required, named: type {}=\"{}\"",
                            arg.name,
                            crate::render::escape::inline_code(&words.join(" "))
                        ),
                    });
                }
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
            let shown = crate::render::escape::inline_code(raw);
            // A counted class is explained from the pattern; any other pattern by
            // the argument's help, which says in words what it takes (issue 12:
            // users were shown the regex).
            let why = match (re.explain(raw), arg.help.trim()) {
                (Some(words), _) => format!("`{shown}` {words}"),
                (None, "") => format!(
                    "`{shown}` is not accepted (allowed: {})",
                    arg.pattern.as_deref().unwrap_or_default()
                ),
                (None, help) => format!("`{shown}` is not accepted: it must be {help}"),
            };
            let fix = re.cleaned(raw).map_or(String::new(), |v| {
                format!(
                    ". Try {}=\"{}\"",
                    arg.name,
                    crate::render::escape::inline_code(&v)
                )
            });
            return Err(invalid(format!("{why}{fix}")));
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
            let (min, max) = (arg.min.unwrap_or(-INT_BOUND), arg.max.unwrap_or(INT_BOUND));
            if n < min || n > max {
                return Err(invalid(format!("must be between {min} and {max}")));
            }
            ArgValue::Int(n)
        }
        ArgKind::Duration => {
            let d = parse_duration(raw)
                .ok_or_else(|| invalid("must be a duration like 30s, 5m or 2h".into()))?;
            let longest = arg
                .longest
                .as_deref()
                .and_then(parse_duration)
                .unwrap_or(LONGEST);
            if d > longest {
                return Err(invalid(format!(
                    "must be at most {}",
                    crate::render::human_duration(longest.as_millis() as i64)
                )));
            }
            ArgValue::Duration(d)
        }
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
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

#[cfg(test)]
mod tests;
