//! `warroom check`: finds mistakes in config, commands, matrix and templates before an
//! incident does. Every problem is reported as `file:line: message`. This file
//! checks the deployment (templates, targets, matrix); `spec` checks each command
//! file and `step` each of its steps.

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
            for (name, e) in broken {
                problems.push(Problem {
                    file: templates_dir.join(&name).display().to_string(),
                    line: 1,
                    message: e.to_string(),
                });
            }
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
    for t in &settings.targets {
        if !matches!(t.kind.as_str(), "sql" | "http" | "redis") {
            problems.push(Problem {
                file: config_file.clone(),
                line: 1,
                message: format!(
                    "target `{}`: unknown kind `{}` (known: sql, http, redis)",
                    t.name, t.kind
                ),
            });
        }
    }
    let Some(catalog) = catalog.map(|c| c.with_vars(&settings.file.vars)) else {
        return problems;
    };
    check_matrix(&catalog, settings, &mut problems);
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
            targets: &targets,
            problems: &mut problems,
        };
        c.run();
    }
    problems
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
