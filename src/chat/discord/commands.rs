//! Discord application (slash) commands, generated from the catalog, and the way
//! back: an interaction's options turned into the command line the core parses.
//!
//! A runbook command's arguments become typed options (choices, integer bounds,
//! required first); a family (`/rollback quick|full|partial`) becomes subcommands.
//! Built-ins take their arguments as typed text (`text`), or the run they act on
//! (`run`). Every command gets a `dry-run` option where the core accepts one.

use serde_json::{json, Value};

use crate::app::handlers;
use crate::command::catalog::Catalog;
use crate::command::parse;
use crate::command::spec::{ArgKind, CommandSpec};

const STRING: u8 = 3;
const INTEGER: u8 = 4;
const BOOLEAN: u8 = 5;
const SUB_COMMAND: u8 = 1;

/// Built-ins that act on one run: `/approve run:RUN-7`.
const RUN_COMMANDS: &[&str] = &["approve", "deny", "ratify", "confirm", "cancel"];

/// Discord's rule for command and option names.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name.chars().all(|c| {
            c == '-' || c == '_' || c.is_numeric() || (c.is_alphabetic() && c.is_lowercase())
        })
}

fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.is_empty() {
        return "-".into();
    }
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn arg_options(spec: &CommandSpec) -> Vec<Value> {
    let mut options: Vec<Value> = spec
        .file
        .args
        .iter()
        .filter(|a| valid_name(&a.name))
        .map(|a| {
            let help = if a.help.is_empty() {
                format!("{} for /{}", a.name, spec.full_name())
            } else {
                a.help.clone()
            };
            let kind = match a.kind {
                ArgKind::Int => INTEGER,
                ArgKind::Bool => BOOLEAN,
                ArgKind::String | ArgKind::Duration => STRING,
            };
            let mut o = json!({
                "type": kind,
                "name": a.name,
                "description": clip(&help, 100),
                "required": a.required && a.default.is_none(),
            });
            if !a.choices.is_empty() && kind == STRING {
                o["choices"] = a
                    .choices
                    .iter()
                    .take(25)
                    .map(|c| json!({ "name": clip(c, 100), "value": c }))
                    .collect();
            }
            if kind == INTEGER {
                if let Some(min) = a.min {
                    o["min_value"] = min.into();
                }
                if let Some(max) = a.max {
                    o["max_value"] = max.into();
                }
            }
            o
        })
        .collect();
    options.push(json!({
        "type": BOOLEAN,
        "name": "dry-run",
        "description": "Only show what would run; change nothing",
        "required": false,
    }));
    // Discord wants required options first.
    options.sort_by_key(|o| !o["required"].as_bool().unwrap_or(false));
    options.truncate(25);
    options
}

fn builtin_options(name: &str) -> Vec<Value> {
    if RUN_COMMANDS.contains(&name) {
        return vec![json!({
            "type": STRING, "name": "run", "required": true,
            "description": "The run, e.g. RUN-7 (in the request message; /status lists them)",
        })];
    }
    if name == "status" {
        return Vec::new();
    }
    let required = name == parse::UMBRELLA;
    vec![json!({
        "type": STRING, "name": "text", "required": required,
        "description": format!("What you would type after /{name}"),
    })]
}

/// Every command of the catalog plus the built-ins, as the body of Discord's bulk
/// overwrite (`PUT /applications/{id}/commands`).
pub fn definitions(catalog: &Catalog) -> Vec<Value> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = catalog
        .specs()
        .map(|s| s.file.command.name.as_str())
        .collect();
    names.dedup();
    for name in names {
        if !valid_name(name) {
            tracing::warn!(command = name, "not a valid Discord command name; skipped");
            continue;
        }
        let family = catalog.family(name);
        let plain = family.iter().find(|s| s.file.command.sub.is_none());
        let (description, options) = match plain {
            Some(spec) => (spec.file.command.help.clone(), arg_options(spec)),
            None => {
                let subs: Vec<Value> = family
                    .iter()
                    .filter_map(|s| s.file.command.sub.as_deref().map(|sub| (sub, s)))
                    .filter(|(sub, _)| valid_name(sub))
                    .take(25)
                    .map(|(sub, s)| {
                        json!({
                            "type": SUB_COMMAND,
                            "name": sub,
                            "description": clip(&s.file.command.help, 100),
                            "options": arg_options(s),
                        })
                    })
                    .collect();
                (format!("/{name}: {} forms", subs.len()), subs)
            }
        };
        out.push(json!({
            "type": 1,
            "name": name,
            "description": clip(&description, 100),
            "options": options,
        }));
    }
    let builtins = handlers::NAMES
        .iter()
        .chain(std::iter::once(&parse::UMBRELLA));
    for name in builtins {
        out.push(json!({
            "type": 1,
            "name": name,
            "description": clip(crate::chat::slack::manifest::built_in_help(name), 100),
            "options": builtin_options(name),
        }));
    }
    out
}

/// One option of an interaction, as Discord sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Text(String),
    Int(i64),
    Bool(bool),
    /// A subcommand with its own options.
    Sub(Vec<(String, OptionValue)>),
}

/// `"quoted \"like\" this"`, as the parser reads it back verbatim.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The command line an interaction stands for: `/rollback full reason="..."`.
pub fn command_line(name: &str, options: &[(String, OptionValue)]) -> String {
    let mut line = format!("/{name}");
    push_options(&mut line, name, options);
    line
}

fn push_options(line: &mut String, name: &str, options: &[(String, OptionValue)]) {
    for (key, value) in options {
        match value {
            OptionValue::Sub(inner) => {
                line.push(' ');
                line.push_str(key);
                push_options(line, name, inner);
            }
            // Built-ins: the text is what the user would have typed after the name.
            OptionValue::Text(t) if key == "text" && !RUN_COMMANDS.contains(&name) => {
                line.push(' ');
                line.push_str(t);
            }
            OptionValue::Text(t) if key == "run" => {
                line.push(' ');
                line.push_str(&quote(t));
            }
            OptionValue::Text(t) => line.push_str(&format!(" {key}={}", quote(t))),
            OptionValue::Int(n) => line.push_str(&format!(" {key}={n}")),
            OptionValue::Bool(b) => line.push_str(&format!(" {key}={b}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::parse::parse;

    fn text(s: &str) -> OptionValue {
        OptionValue::Text(s.into())
    }

    #[test]
    fn options_become_the_line_the_parser_reads_back() {
        type Options = Vec<(String, OptionValue)>;
        let table: Vec<(&str, Options, &str)> = vec![
            (
                "kanban-off",
                vec![("reason".into(), text("socket \"down\" \\ now"))],
                r#"/kanban-off reason="socket \"down\" \\ now""#,
            ),
            (
                "rollback",
                vec![(
                    "full".into(),
                    OptionValue::Sub(vec![
                        ("reason".into(), text("x")),
                        ("dry-run".into(), OptionValue::Bool(true)),
                    ]),
                )],
                r#"/rollback full reason="x" dry-run=true"#,
            ),
            (
                "kanban-selective-off",
                vec![("top".into(), OptionValue::Int(3))],
                "/kanban-selective-off top=3",
            ),
            (
                "approve",
                vec![("run".into(), text("RUN-7"))],
                r#"/approve "RUN-7""#,
            ),
            (
                "incident",
                vec![("text".into(), text(r#"declare P1 "Checkout 5xx""#))],
                r#"/incident declare P1 "Checkout 5xx""#,
            ),
            ("status", vec![], "/status"),
        ];
        for (name, options, want) in table {
            let line = command_line(name, &options);
            assert_eq!(line, want);
            parse(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
        let parsed = parse(r#"/kanban-off reason="socket \"down\" \\ now""#).unwrap();
        assert_eq!(parsed.get("reason"), Some(r#"socket "down" \ now"#));
    }

    #[test]
    fn names_follow_discords_rule() {
        for ok in ["kanban-off", "dry-run", "top", "affected_users", "a1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["Kanban", "", "with space", "x".repeat(33).as_str(), "a.b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
