//! `warroom check`: finds mistakes in config, commands, matrix and templates before an
//! incident does. Every problem is reported as `file:line: message`.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::catalog::{find_line, Catalog, Problem, MATRIX_FILE};
use crate::command::spec::{parse_duration, ArgKind, CommandSpec};
use crate::config::Settings;
use crate::render::{Renderer, CONTEXT_ROOTS};
use crate::runbook::step::{param_source_is_known, Action, StepSpec};

const SEVERITIES: &[&str] = &["P0", "P1", "P2", "P3"];
const STATUSES: &[&str] = &[
    "investigating",
    "identified",
    "mitigating",
    "monitoring",
    "resolved",
];

/// Checks everything `settings` points at. Empty means all is well.
pub fn check(settings: &Settings) -> Vec<Problem> {
    let (catalog, mut problems) = Catalog::load(&settings.commands_dir());
    let templates_dir = settings.templates_dir();
    let renderer = match Renderer::load(&templates_dir) {
        Ok((r, broken)) => {
            // Templates the lifecycle itself posts, whatever the commands say.
            let required = [
                crate::incident::stakeholders::ALERT,
                crate::incident::stakeholders::UPDATE,
                crate::incident::stakeholders::RESOLVED,
                crate::runbook::engine::DEFAULT_FAILURE_TEMPLATE,
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
        let mut c = SpecCheck {
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

struct SpecCheck<'a> {
    spec: &'a CommandSpec,
    source: &'a str,
    catalog: &'a Catalog,
    renderer: Option<&'a Renderer>,
    targets: &'a BTreeMap<&'a str, &'a str>,
    problems: &'a mut Vec<Problem>,
}

impl SpecCheck<'_> {
    fn report(&mut self, needle: &str, message: String) {
        self.problems.push(Problem {
            file: self.spec.path.clone(),
            line: find_line(self.source, needle),
            message,
        });
    }

    /// Reports at the first `needle` after the step named `step`, so two steps with
    /// the same mistake each get their own line.
    fn report_in_step(&mut self, step: &str, needle: &str, message: String) {
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

    fn run(&mut self) {
        self.check_discord();
        let f = &self.spec.file;
        let h = &f.command;
        if !self.catalog.matrix.scenarios.contains_key(&h.scenario) {
            self.report(
                &h.scenario,
                format!("unknown scenario `{}` (not in {MATRIX_FILE})", h.scenario),
            );
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
        if crate::command::builtin::NAMES.contains(&h.name.as_str())
            || crate::command::lifecycle::NAMES.contains(&h.name.as_str())
            || crate::command::checklist::NAMES.contains(&h.name.as_str())
        {
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
        let templates: Vec<String> = [&f.post.on_start, &f.post.on_success, &f.post.on_failure]
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

    fn step(&mut self, step: &StepSpec) {
        let name = step.name.clone();
        let needle = format!("\"{name}\"");
        let bad = |c: &mut Self, at: &str, msg: String| {
            c.report_in_step(&name, at, format!("step `{name}`: {msg}"))
        };
        for d in step
            .timeout
            .iter()
            .chain(step.poll.iter().flat_map(|p| [&p.every, &p.within]))
        {
            if parse_duration(d).is_none() {
                bad(self, d, format!("`{d}` is not a duration like 30s or 5m"));
            }
        }
        for arg in step.only_if.keys() {
            if !self.spec.file.args.iter().any(|a| &a.name == arg) {
                bad(
                    self,
                    "only_if",
                    format!("only_if names `{arg}`, which is not an argument of this command"),
                );
            }
        }
        if let Some(t) = step.target() {
            // A shell step's target is the SQL target of its `pg_env`.
            let want = if step.kind() == "shell" {
                "sql"
            } else {
                step.kind()
            };
            match self.targets.get(t) {
                None => bad(
                    self,
                    t,
                    format!("unknown target `{t}` (not in warroom.toml)"),
                ),
                Some(kind) if *kind != want => bad(
                    self,
                    t,
                    format!("target `{t}` is a {kind} target, not {want}"),
                ),
                Some(_) => {}
            }
        }
        let mut texts: Vec<String> = Vec::new();
        match step.action() {
            Err(e) => self.report(&needle, e),
            Ok(Action::Sql(s)) => {
                if !s.runnable(true) && !s.runnable(false) {
                    bad(self, &needle, "no statement".into());
                }
                if !s.transaction.is_empty() && s.validate.is_empty() {
                    bad(
                        self,
                        "transaction",
                        "a transaction needs `validate` queries to check before COMMIT".into(),
                    );
                }
                for p in &s.params {
                    if !param_source_is_known(p) {
                        bad(self, p, format!("unknown parameter source `{p}` (use args.NAME, vars.NAME, incident.id, run.id or run.requested_by)"));
                    } else if let Some(arg) = p.strip_prefix("args.") {
                        if !self.spec.file.args.iter().any(|a| a.name == arg) {
                            bad(
                                self,
                                p,
                                format!("parameter `{p}` names no argument of this command"),
                            );
                        }
                    }
                }
                if let Some(rows) = &s.expect_rows {
                    if crate::actions::expect::parse_op(rows).is_none() {
                        bad(
                            self,
                            rows,
                            format!("expect_rows `{rows}` needs an operator, e.g. \"= 1\""),
                        );
                    }
                }
            }
            Ok(Action::Http(h)) => {
                texts.push(h.path.clone());
                if reqwest::Method::from_bytes(h.method.to_ascii_uppercase().as_bytes()).is_err() {
                    bad(
                        self,
                        &h.method,
                        format!("`{}` is not an HTTP method", h.method),
                    );
                }
                for ptr in h.checks.keys() {
                    if !ptr.starts_with('/') {
                        bad(
                            self,
                            ptr,
                            format!("check `{ptr}` is not a JSON pointer (it starts with /)"),
                        );
                    }
                }
                if let Some(re) = h
                    .expect_body
                    .as_ref()
                    .filter(|re| regex::Regex::new(re).is_err())
                {
                    bad(self, re, format!("expect_body `{re}` is not a valid regex"));
                }
                if let Some(b) = &h.backoff {
                    if parse_duration(b).is_none() {
                        bad(self, b, format!("backoff `{b}` is not a duration"));
                    }
                }
                if let Some(body) = &h.json {
                    collect_strings(body, &mut texts);
                }
            }
            Ok(Action::Redis(r)) => {
                if r.command.is_empty() {
                    bad(self, "command", "the Redis command is empty".into());
                }
                if let Some(why) = crate::actions::redis::refuse(r) {
                    bad(self, "command", why);
                }
                texts.extend(r.command.iter().cloned());
            }
            Ok(Action::Shell(sh)) => {
                if sh.argv.is_empty() {
                    bad(self, "argv", "argv is empty".into());
                }
                // The program may come from deployment config ({vars.X}), never from
                // the run (arguments, ids).
                let program_from_run = sh.argv.first().is_some_and(|p| {
                    crate::actions::placeholder::names(p)
                        .map_or(true, |n| n.iter().any(|n| !n.starts_with("vars.")))
                });
                if program_from_run {
                    bad(
                        self,
                        "argv",
                        "the program (argv[0]) can only use {vars.NAME} placeholders".into(),
                    );
                }
                for re in sh.expect_output.iter().chain(&sh.reject_output) {
                    if regex::Regex::new(re).is_err() {
                        bad(self, re, format!("`{re}` is not a valid regex"));
                    }
                }
                if let Some(t) = &sh.pg_env {
                    if self.targets.get(t.as_str()) != Some(&"sql") {
                        bad(
                            self,
                            t,
                            format!("pg_env names `{t}`, which is not a SQL target"),
                        );
                    }
                }
                texts.extend(sh.argv.iter().cloned());
                texts.extend(sh.cwd.iter().cloned());
                texts.extend(sh.env.values().cloned());
            }
            Ok(Action::Page(p)) => {
                for r in &p.roles {
                    if !self.catalog.matrix.roles.contains_key(r) {
                        bad(self, r, format!("page names unknown role `{r}`"));
                    }
                }
            }
            Ok(Action::Post(p)) => {
                self.template(&p.template);
                if let Some(c) = &p.channel {
                    if c != "incident" && c != "stakeholders" {
                        bad(
                            self,
                            c,
                            "channel must be `incident` or `stakeholders`".into(),
                        );
                    }
                }
            }
            Ok(Action::Wait(w)) => match (&w.duration, &w.duration_arg) {
                (Some(d), None) if parse_duration(d).is_none() => {
                    bad(self, d, format!("`{d}` is not a duration"))
                }
                (_, Some(a))
                    if !self
                        .spec
                        .file
                        .args
                        .iter()
                        .any(|x| &x.name == a && x.kind == ArgKind::Duration) =>
                {
                    bad(
                        self,
                        a,
                        format!("`{a}` is not a duration argument of this command"),
                    )
                }
                (None, None) => bad(
                    self,
                    &needle,
                    "wait needs `duration` or `duration_arg`".into(),
                ),
                _ => {}
            },
            Ok(Action::Confirm(c)) => texts.push(c.prompt.clone()),
        }
        for text in texts {
            match crate::actions::placeholder::names(&text) {
                Err(e) => bad(self, &text, e),
                Ok(names) => {
                    for n in names {
                        let ok = crate::actions::placeholder::known(&n)
                            && n.strip_prefix("args.")
                                .is_none_or(|a| self.spec.file.args.iter().any(|x| x.name == a))
                            && n.strip_prefix("vars.")
                                .is_none_or(|v| self.spec.file.vars.contains_key(v));
                        if !ok {
                            bad(
                                self,
                                &text,
                                format!("placeholder `{{{n}}}` is not provided by this command"),
                            );
                        }
                    }
                }
            }
        }
    }

    fn template(&mut self, name: &str) {
        let Some(renderer) = self.renderer else {
            return;
        };
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

fn collect_strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
