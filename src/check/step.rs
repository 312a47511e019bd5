//! One step of a command file: its action, target, parameters, placeholders,
//! durations and expectations.

use super::spec::SpecCheck;
use crate::command::spec::ArgKind;
use crate::model::duration::parse_duration;
use crate::runbook::step::{param_source_is_known, Action, StepSpec};

impl SpecCheck<'_> {
    pub(super) fn step(&mut self, step: &StepSpec) {
        let name = step.name.clone();
        let needle = format!("\"{name}\"");
        let bad = |c: &mut Self, at: &str, msg: String| {
            c.report_in_step(&name, at, format!("step `{name}`: {msg}"))
        };
        for d in step
            .timeout
            .iter()
            .chain(step.poll.iter().flat_map(|p| [&p.every, &p.within]))
            .chain(step.watch.iter().map(|w| &w.every))
            .chain(step.watch.iter().filter_map(|w| w.lasting.as_ref()))
            .chain(step.budget.iter().map(|b| &b.within))
        {
            if parse_duration(d).is_none() {
                bad(self, d, format!("`{d}` is not a duration like 30s or 5m"));
            }
        }
        if let Some(w) = &step.watch {
            let arg_ok = |a: &String| {
                self.spec
                    .file
                    .args
                    .iter()
                    .any(|x| &x.name == a && x.kind == ArgKind::Duration)
            };
            match (&w.lasting, &w.for_arg) {
                (None, None) => bad(self, "watch", "watch needs `for` or `for_arg`".into()),
                (_, Some(a)) if !arg_ok(a) => bad(
                    self,
                    a,
                    format!("`{a}` is not a duration argument of this command"),
                ),
                _ => {}
            }
            if step.poll.is_some() {
                bad(
                    self,
                    "watch",
                    "a step either polls or watches, not both".into(),
                );
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
                // A target of an unknown kind is reported once, at warroom.toml.
                Some(kind) if !crate::config::TARGET_KINDS.contains(kind) => {}
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
                let counted = sh.count_lines.as_ref().map(|c| &c.matching);
                for re in sh
                    .expect_output
                    .iter()
                    .chain(&sh.reject_output)
                    .chain(counted)
                {
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
}

fn collect_strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
