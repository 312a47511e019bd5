//! One command file: its header, arguments, posts and templates, and what Discord
//! would refuse of it. Its steps are `step`'s.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::catalog::{find_line, Catalog, Problem, MATRIX_FILE};
use crate::command::spec::{ArgKind, CommandSpec};
use crate::model::incident::{SEVERITIES, STATUSES};
use crate::render::{Renderer, CONTEXT_ROOTS};
use crate::runbook::step::StepSpec;

pub struct SpecCheck<'a> {
    pub spec: &'a CommandSpec,
    pub source: &'a str,
    pub catalog: &'a Catalog,
    pub renderer: Option<&'a Renderer>,
    /// Templates that failed to load: reported once, at their own line, not again
    /// by each command that posts them.
    pub broken_templates: &'a std::collections::BTreeSet<String>,
    pub targets: &'a BTreeMap<&'a str, &'a str>,
    /// `[clocks.components]`, which a runbook's `component` must name.
    pub clocks: &'a crate::config::Clocks,
    pub problems: &'a mut Vec<Problem>,
}

impl SpecCheck<'_> {
    pub(super) fn report(&mut self, needle: &str, message: String) {
        self.problems.push(Problem {
            file: self.spec.path.clone(),
            line: find_line(self.source, needle),
            message,
        });
    }

    /// Reports at the first `needle` after the step named `step`, so two steps with
    /// the same mistake each get their own line.
    pub(super) fn report_in_step(&mut self, step: &str, needle: &str, message: String) {
        let start = self.source.find(&format!("\"{step}\"")).unwrap_or(0);
        let line = match self.source[start..].find(needle) {
            Some(i) => crate::config::line_of(self.source, start + i),
            None => find_line(self.source, needle),
        };
        self.problems.push(Problem {
            file: self.spec.path.clone(),
            line,
            message,
        });
    }

    /// What Discord would refuse when the commands are registered (Slack takes any
    /// of these): names outside its rule, or more options than it allows.
    fn check_discord(&mut self) {
        use crate::chat::discord::commands::valid_name;
        let f = &self.spec.file;
        let h = &f.command;
        for name in std::iter::once(&h.name).chain(h.sub.as_ref()) {
            if !valid_name(name) {
                self.report(
                    name,
                    format!(
                        "`{name}` cannot be a Discord command name (lowercase letters, \
                         digits, - and _, at most 32)"
                    ),
                );
            }
        }
        for a in &f.args {
            if !valid_name(&a.name) {
                self.report(
                    &format!("\"{}\"", a.name),
                    format!(
                        "argument `{}` cannot be a Discord option name (lowercase letters, \
                         digits, - and _, at most 32)",
                        a.name
                    ),
                );
            }
            if a.choices.len() > 25 {
                self.report(
                    &format!("\"{}\"", a.name),
                    format!(
                        "argument `{}` has {} choices; Discord shows at most 25",
                        a.name,
                        a.choices.len()
                    ),
                );
            }
        }
        // One option per argument, plus dry-run.
        if f.args.len() + 1 > 25 {
            self.report(
                "[[args]]",
                format!(
                    "{} arguments: Discord allows 24 per command (plus dry-run)",
                    f.args.len()
                ),
            );
        }
    }

    pub fn run(&mut self) {
        self.check_discord();
        let f = &self.spec.file;
        let h = &f.command;
        if !self.catalog.matrix.scenarios.contains_key(&h.scenario) {
            self.report(
                &h.scenario,
                format!("unknown scenario `{}` (not in {MATRIX_FILE})", h.scenario),
            );
        }
        // Issue 13: an unknown component silently ran on the severity's clocks.
        if let Some(c) = &h.component {
            if !self.clocks.components.contains_key(c) {
                let known: Vec<&str> = self.clocks.components.keys().map(String::as_str).collect();
                self.report(
                    &format!("component = \"{c}\""),
                    format!(
                        "unknown component `{c}` (not in [clocks.components]: {}); its incident would run on the severity's clocks",
                        known.join(", ")
                    ),
                );
            }
        }
        if let Some(sev) = &h.severity {
            if !SEVERITIES.contains(&sev.as_str()) {
                self.report(
                    "severity",
                    format!("severity `{sev}` is not one of {}", SEVERITIES.join(", ")),
                );
            }
        }
        if let Some(st) = &h.sets_status {
            if !STATUSES.contains(&st.as_str()) {
                self.report(
                    "sets_status",
                    format!("sets_status `{st}` is not one of {}", STATUSES.join(", ")),
                );
            }
        }
        if let Some(within) = &h.break_glass {
            if crate::model::duration::parse_duration(within).is_none() {
                self.report(
                    "break_glass",
                    format!("break_glass `{within}` is not a duration such as \"15m\""),
                );
            }
        }
        if crate::app::handlers::NAMES.contains(&h.name.as_str()) {
            self.report("name", format!("/{} is a built-in command", h.name));
        }
        let mut seen = BTreeSet::new();
        for (i, a) in f.args.iter().enumerate() {
            let needle = format!("\"{}\"", a.name);
            if !seen.insert(a.name.clone()) {
                self.report(&needle, format!("argument `{}` is declared twice", a.name));
            }
            if a.name == crate::command::spec::DRY_RUN {
                self.report(&needle, "`dry_run` is reserved for every command".into());
            }
            let well_formed = a
                .name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
                && a.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                self.report(
                    &needle,
                    format!(
                        "argument `{}`: names are lower case letters, digits and `_`",
                        a.name
                    ),
                );
            }
            if a.kind == ArgKind::String && a.pattern.is_none() && a.choices.is_empty() {
                self.report(&needle, format!("argument `{}` needs a `pattern` or `choices`: chat text is never passed on unchecked", a.name));
            }
            let worded = self
                .spec
                .patterns
                .get(i)
                .and_then(|p| p.as_ref())
                .is_none_or(|p| p.explains_itself());
            if !worded && a.help.trim().is_empty() {
                self.report(&needle, format!("argument `{}` needs a `help`: a value its pattern refuses is explained with it, in words, not as the regex", a.name));
            }
            if let Some(l) = &a.longest {
                if a.kind != ArgKind::Duration
                    || crate::model::duration::parse_duration(l).is_none()
                {
                    self.report(
                        &needle,
                        format!("argument `{}`: `longest` is for duration arguments and must be like 2h", a.name),
                    );
                }
            }
            if let Some(d) = &a.default {
                let probe = crate::command::parse::CommandLine {
                    name: h.name.clone(),
                    positional: vec![],
                    named: vec![(a.name.clone(), d.clone())],
                };
                let single = CommandSpec {
                    file: crate::command::spec::SpecFile {
                        args: vec![a.clone()],
                        ..f.clone()
                    },
                    path: self.spec.path.clone(),
                    patterns: vec![self.spec.patterns.get(i).cloned().flatten()],
                };
                if let Err(e) = single.bind(&probe, &[]) {
                    self.report(&needle, format!("default of `{}` is invalid: {e}", a.name));
                }
            }
        }
        let templates: Vec<String> = [
            &f.post.on_start,
            &f.post.on_success,
            &f.post.on_failure,
            &f.post.on_resolve,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        for t in &templates {
            self.template(t);
        }
        let steps: Vec<StepSpec> = f.steps.iter().chain(&f.on_failure).cloned().collect();
        if f.steps.is_empty() {
            self.report("[command]", "the command has no steps".into());
        }
        for step in &steps {
            self.step(step);
        }
    }

    pub(super) fn template(&mut self, name: &str) {
        let Some(renderer) = self.renderer else {
            return;
        };
        if self.broken_templates.contains(name) {
            return;
        }
        let vars = match renderer.variables(name) {
            Ok(v) => v,
            Err(_) => {
                self.report(
                    name,
                    format!("unknown template `{name}` (not in templates/)"),
                );
                return;
            }
        };
        for var in vars {
            let mut parts = var.splitn(2, '.');
            let root = parts.next().unwrap_or_default();
            let field = parts.next();
            let provided = match (root, field) {
                ("args", Some(f)) => self.spec.file.args.iter().any(|a| a.name == f),
                ("vars", Some(f)) => self.spec.file.vars.contains_key(f),
                (r, _) => CONTEXT_ROOTS.contains(&r),
            };
            if !provided {
                self.report(
                    name,
                    format!("template `{name}` uses `{var}`, which this command does not provide"),
                );
            }
        }
    }
}
