//! `warroom check`: finds mistakes in config, commands, matrix and templates before an
//! incident does. Every problem is reported as `file:line: message`. This file
//! checks the deployment (templates, targets, matrix); `spec` checks each command
//! file and `step` each of its steps.

mod alerts;
mod drills;
pub mod probe;
mod spec;
mod step;

use std::collections::BTreeMap;

use crate::command::catalog::{find_line, Catalog, Problem, MATRIX_FILE};
use crate::config::Settings;
use crate::model::duration::parse_duration;
use crate::render::Renderer;

/// Checks everything `settings` points at. Empty means all is well.
pub fn check(settings: &Settings) -> Vec<Problem> {
    let (catalog, mut problems) =
        Catalog::load(&settings.commands_dir(), crate::app::handlers::NAMES);
    let templates_dir = settings.templates_dir();
    let mut broken_templates = std::collections::BTreeSet::new();
    let renderer = match Renderer::load(&templates_dir) {
        Ok((r, broken)) => {
            // Templates the lifecycle itself posts, whatever the commands say.
            let required = [
                crate::incident::stakeholders::ALERT,
                crate::incident::stakeholders::UPDATE,
                crate::incident::stakeholders::RESOLVED,
                crate::runbook::ending::DEFAULT_FAILURE_TEMPLATE,
            ];
            for name in required.into_iter().filter(|n| !r.has(n)) {
                problems.push(Problem {
                    file: templates_dir.join(name).display().to_string(),
                    line: 1,
                    message: "missing: warroom posts it to stakeholders or on failure".into(),
                });
            }
            // A field a template reads that no context has prints nothing (issue
            // 12: `{{ incident.titel }}` posted "INCIDENT ALERT: P1 - "): one
            // problem per mistake, at its line in the template.
            for name in r.names() {
                let used = r.variables(&name).unwrap_or_default();
                let source = r.source(&name).unwrap_or_default();
                for bad in crate::render::sample::unknown(&used) {
                    problems.push(Problem {
                        file: templates_dir.join(&name).display().to_string(),
                        line: find_line(&source, &bad),
                        message: crate::render::sample::explain(&bad),
                    });
                }
            }
            for (name, e) in &broken {
                let (line, message) = match e {
                    crate::render::RenderError::Template { line, message, .. } => {
                        (line.unwrap_or(1), message.clone())
                    }
                    other => (1, other.to_string()),
                };
                problems.push(Problem {
                    file: templates_dir.join(name).display().to_string(),
                    line,
                    message,
                });
            }
            broken_templates = broken.into_iter().map(|(n, _)| n).collect();
            Some(r)
        }
        Err(e) => {
            problems.push(Problem {
                file: templates_dir.display().to_string(),
                line: 1,
                message: e.to_string(),
            });
            None
        }
    };
    let config_file = settings.config_path.display().to_string();
    let config_source = std::fs::read_to_string(&settings.config_path).unwrap_or_default();
    for t in &settings.targets {
        if !crate::config::TARGET_KINDS.contains(&t.kind.as_str()) {
            problems.push(Problem {
                file: config_file.clone(),
                line: find_line(&config_source, &format!("[targets.{}]", t.name)),
                message: format!(
                    "target `{}`: unknown kind `{}` (known: {})",
                    t.name,
                    t.kind,
                    crate::config::TARGET_KINDS.join(", ")
                ),
            });
        }
    }
    check_durations(settings, &config_source, &mut problems);
    let Some(catalog) = catalog.map(|c| c.with_vars(&settings.file.vars)) else {
        return problems;
    };
    check_matrix(&catalog, settings, &mut problems);
    alerts::check(&catalog, settings, &mut problems);
    problems.extend(crate::chat::slack::manifest::check_names(&catalog));
    let targets: BTreeMap<&str, &str> = settings
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.kind.as_str()))
        .collect();
    for spec in catalog.specs() {
        let source = catalog.sources.get(&spec.path).cloned().unwrap_or_default();
        let mut c = spec::SpecCheck {
            spec,
            source: &source,
            catalog: &catalog,
            renderer: renderer.as_ref(),
            broken_templates: &broken_templates,
            targets: &targets,
            clocks: &settings.file.clocks,
            problems: &mut problems,
        };
        c.run();
    }
    drills::check(&catalog, settings, &config_source, &mut problems);
    problems
}

/// Every duration in `warroom.toml` (issue 12: `step_timeout = "60 parsecs"` passed
/// and silently became 60 s).
/// What a clean `warroom check` looked at, for its success line (issue 12: it named
/// only `warroom.toml`).
pub fn summary(settings: &Settings) -> String {
    let (catalog, _) = Catalog::load(&settings.commands_dir(), crate::app::handlers::NAMES);
    let templates = Renderer::load(&settings.templates_dir())
        .map(|(r, _)| r.names().len())
        .unwrap_or(0);
    let (commands, roles, scenarios, checklists) = catalog.as_ref().map_or((0, 0, 0, 0), |c| {
        (
            c.specs().count(),
            c.matrix.roles.len(),
            c.matrix.scenarios.len(),
            c.checklists.len(),
        )
    });
    format!(
        "ok: {} ({} targets), {commands} commands and {checklists} checklists in {}, {roles} roles and {scenarios} scenarios in {MATRIX_FILE}, {templates} templates in {}: no problems found",
        settings.config_path.display(),
        settings.targets.len(),
        settings.commands_dir().display(),
        settings.templates_dir().display(),
    )
}

fn check_durations(settings: &Settings, source: &str, problems: &mut Vec<Problem>) {
    let file = settings.config_path.display().to_string();
    let f = &settings.file;
    let mut all: Vec<(String, &str)> = vec![("step_timeout".into(), &f.warroom.step_timeout)];
    for (sev, c) in &f.clocks.severities {
        all.push((format!("clocks.severities.{sev}.rto"), &c.rto));
        all.push((format!("clocks.severities.{sev}.respond"), &c.respond));
        all.push((
            format!("clocks.severities.{sev}.update_every"),
            &c.update_every,
        ));
    }
    for (name, c) in &f.clocks.components {
        if let Some(rto) = &c.rto {
            all.push((format!("clocks.components.{name}.rto"), rto));
        }
        if let Some(rpo) = &c.rpo {
            all.push((format!("clocks.components.{name}.rpo"), rpo));
        }
        let paths = c
            .escalation
            .iter()
            .chain(c.escalation_by_severity.values().flatten());
        for l in paths {
            all.push((
                format!("clocks.components.{name} escalation ({}).after", l.title),
                &l.after,
            ));
        }
    }
    for (i, l) in f.clocks.escalation.iter().enumerate() {
        all.push((
            format!("clocks.escalation[{}] ({}).after", i + 1, l.title),
            &l.after,
        ));
    }
    for (key, value) in all {
        if parse_duration(value).is_none() {
            problems.push(Problem {
                file: file.clone(),
                line: find_line(source, &format!("\"{value}\"")),
                message: format!(
                    "`{key}` = \"{value}\" is not a duration: write it like 90s, 15m, 2h or 500ms"
                ),
            });
        }
    }
}

fn check_matrix(catalog: &Catalog, settings: &Settings, problems: &mut Vec<Problem>) {
    let path = settings
        .commands_dir()
        .join(MATRIX_FILE)
        .display()
        .to_string();
    let source = catalog.sources.get(&path).cloned().unwrap_or_default();
    let m = &catalog.matrix;
    for (id, sc) in &m.scenarios {
        let at = find_line(&source, &format!("[scenarios.{id}]"));
        if sc.request.is_empty() {
            problems.push(Problem {
                file: path.clone(),
                line: at,
                message: format!(
                    "scenario `{id}`: `request` names no role, so nobody could run it"
                ),
            });
        }
        for role in sc
            .request
            .iter()
            .chain(&sc.decide)
            .chain(&sc.notify)
            .chain(&sc.confirm)
        {
            if !m.roles.contains_key(role) {
                problems.push(Problem {
                    file: path.clone(),
                    line: at,
                    message: format!("scenario `{id}`: unknown role `{role}`"),
                });
            }
        }
        if parse_duration(&sc.approval_ttl).is_none() {
            problems.push(Problem {
                file: path.clone(),
                line: at,
                message: format!(
                    "scenario `{id}`: approval_ttl `{}` is not a duration like 15m",
                    sc.approval_ttl
                ),
            });
        }
    }
}
