//! `[alerts]` of `warroom.toml`: each rule names a runbook command and only its
//! arguments, with placeholders of the two kinds an alert fills; severities are
//! P0..P3. (A value an alert brings is checked when the alert comes.)

use crate::command::catalog::{find_line, Catalog, Lookup, Problem};
use crate::command::parse;
use crate::config::Settings;
use crate::model::incident::SEVERITIES;

pub fn check(catalog: &Catalog, settings: &Settings, problems: &mut Vec<Problem>) {
    let file = settings.config_path.display().to_string();
    let source = std::fs::read_to_string(&settings.config_path).unwrap_or_default();
    let cfg = &settings.file.alerts;
    let mut say = |needle: &str, message: String| {
        problems.push(Problem {
            file: file.clone(),
            line: find_line(&source, needle),
            message,
        })
    };
    for (label, sev) in cfg
        .severities
        .iter()
        .chain([(&"default_severity".to_string(), &cfg.default_severity)])
    {
        if !SEVERITIES.contains(&sev.as_str()) {
            say(
                sev,
                format!("[alerts] `{label}` maps to `{sev}`, not one of P0, P1, P2, P3"),
            );
        }
    }
    for rule in &cfg.rules {
        let line = match parse::parse(&rule.run) {
            Ok(l) => l,
            Err(e) => {
                say(&rule.run, format!("[[alerts.rules]] `{}`: {e}", rule.run));
                continue;
            }
        };
        let Lookup::Spec { spec, .. } = catalog.lookup(&line) else {
            say(
                &rule.run,
                format!(
                    "[[alerts.rules]] `{}`: /{} is not a runbook command",
                    rule.run, line.name
                ),
            );
            continue;
        };
        for (key, value) in &line.named {
            if key != "dry-run" && !spec.file.args.iter().any(|a| &a.name == key) {
                say(
                    &rule.run,
                    format!(
                        "[[alerts.rules]] `{}`: /{} has no argument `{key}`",
                        rule.run,
                        spec.full_name()
                    ),
                );
            }
            for p in value
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(p, _)| p)
            {
                if !(p.starts_with("labels.") || p.starts_with("annotations.")) {
                    say(
                        &rule.run,
                        format!(
                            "[[alerts.rules]] `{}`: `{{{p}}}` is neither {{labels.X}} nor {{annotations.X}}",
                            rule.run
                        ),
                    );
                }
            }
        }
    }
}
