//! `[drills]` of `warroom.toml`: each drill's cadence is a duration, its `run` line
//! names a runbook, every target that runbook reaches has a twin of the same kind,
//! and every program it runs is one the drill vouches for (issue 13: a drill never
//! runs against production).

use crate::command::catalog::{find_line, Catalog, Lookup, Problem};
use crate::command::parse;
use crate::config::Settings;
use crate::model::duration::parse_duration;
use crate::runbook::step::Action;

pub fn check(catalog: &Catalog, settings: &Settings, source: &str, problems: &mut Vec<Problem>) {
    let file = settings.config_path.display().to_string();
    let mut say = |needle: &str, message: String| {
        problems.push(Problem {
            file: file.clone(),
            line: find_line(source, needle),
            message,
        })
    };
    let kind = |t: &str| settings.file.targets.get(t).map(|c| c.kind.as_str());
    for (name, d) in &settings.file.drills {
        let at = format!("[drills.{name}]");
        if let Some(every) = d.every.as_deref().filter(|e| parse_duration(e).is_none()) {
            say(
                &format!("\"{every}\""),
                format!("drill `{name}`: every = \"{every}\" is not a duration (30d, 90d, 12h)"),
            );
        }
        let spec = match parse::parse(&d.run) {
            Ok(line) => match catalog.lookup(&line) {
                Lookup::Spec { spec, .. } => spec,
                _ => {
                    say(&at, format!("drill `{name}`: `{}` names no runbook", d.run));
                    continue;
                }
            },
            Err(e) => {
                say(
                    &at,
                    format!("drill `{name}`: `{}` does not parse: {e}", d.run),
                );
                continue;
            }
        };
        for t in &d.staging {
            if kind(t).is_none() {
                say(
                    &at,
                    format!("drill `{name}`: staging target `{t}` is not a [targets] entry"),
                );
            }
        }
        for (prod, twin) in &d.targets {
            if prod == twin {
                say(&at, format!("drill `{name}`: `{prod}` is its own twin: a drill never runs against production"));
            }
            match (kind(prod), kind(twin)) {
                (_, None) => say(
                    &at,
                    format!("drill `{name}`: twin `{twin}` is not a [targets] entry"),
                ),
                (Some(a), Some(b)) if a != b => say(
                    &at,
                    format!(
                        "drill `{name}`: `{prod}` is a {a} target but its twin `{twin}` is {b}"
                    ),
                ),
                _ => {}
            }
        }
        for step in spec.file.steps.iter().chain(&spec.file.on_failure) {
            match step.target() {
                Some(t) if d.twin(t).is_none() => say(
                    &at,
                    format!(
                        "drill `{name}`: step \"{}\" of /{} reaches `{t}`, which has no twin in [drills.{name}.targets]",
                        step.name,
                        spec.full_name()
                    ),
                ),
                None => {
                    if let Ok(Action::Shell(s)) = step.action() {
                        let program = s.argv.first().map(String::as_str).unwrap_or("");
                        if !d.programs.iter().any(|p| p == program) {
                            say(
                                &at,
                                format!(
                                    "drill `{name}`: step \"{}\" of /{} runs `{program}`, which is not in its `programs`",
                                    step.name,
                                    spec.full_name()
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
