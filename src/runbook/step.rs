//! Step specs: what one `[[steps]]` table of a command file declares.
//!
//! A step names exactly one action. Values from the chat reach an action only through
//! `params` (SQL bound parameters) or `argv` items, and only after the command's
//! argument validation.

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::actions::http::HttpSpec;
pub use crate::actions::redis::RedisSpec;
pub use crate::actions::shell::ShellSpec;
pub use crate::actions::sql::SqlSpec;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// The seed's name for the phase.
    pub phase: String,
    pub within: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub name: String,
    /// Headline for the incident timeline when the step succeeds ("Feature flag
    /// disabled"); these are the `HH:MM - event` lines of the templates.
    #[serde(default)]
    pub timeline: Option<String>,
    /// Overrides the action's default timeout, e.g. "30s".
    #[serde(default)]
    pub timeout: Option<String>,
    /// Skip (and say so) when this target is not configured, as the seeds' "if
    /// applicable" steps.
    #[serde(default)]
    pub optional: bool,
    /// Run only when these arguments have these values, e.g. `{ part = "A" }`.
    #[serde(default)]
    pub only_if: BTreeMap<String, String>,
    /// Re-run the action until it succeeds or `within` passes.
    #[serde(default)]
    pub poll: Option<PollSpec>,
    /// Re-check the action on an interval for a while: every check must hold (seed
    /// 002's "Monitor for 15 minutes before declaring success", seed 001's "Monitorar
    /// por 2 horas"). The inverse of `poll`.
    #[serde(default)]
    pub watch: Option<WatchSpec>,
    /// On the last step of a seed's timed phase ("Step 1: Stop Sync Worker (1
    /// minute)"): the phase's documented budget, compared with the time the run took
    /// from the end of the previous budgeted step (or its start) to this one's end.
    #[serde(default)]
    pub budget: Option<BudgetSpec>,
    #[serde(default)]
    pub sql: Option<SqlSpec>,
    #[serde(default)]
    pub http: Option<HttpSpec>,
    #[serde(default)]
    pub redis: Option<RedisSpec>,
    #[serde(default)]
    pub shell: Option<ShellSpec>,
    #[serde(default)]
    pub page: Option<PageSpec>,
    #[serde(default)]
    pub confirm: Option<ConfirmSpec>,
    #[serde(default)]
    pub post: Option<PostStepSpec>,
    #[serde(default)]
    pub wait: Option<WaitSpec>,
}

/// The one action a step names.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    Sql(&'a SqlSpec),
    Http(&'a HttpSpec),
    Redis(&'a RedisSpec),
    Shell(&'a ShellSpec),
    Page(&'a PageSpec),
    Confirm(&'a ConfirmSpec),
    Post(&'a PostStepSpec),
    Wait(&'a WaitSpec),
}

impl StepSpec {
    /// The step's action, or why the step is malformed.
    pub fn action(&self) -> Result<Action<'_>, String> {
        let mut found: Vec<Action<'_>> = Vec::new();
        if let Some(a) = &self.sql {
            found.push(Action::Sql(a));
        }
        if let Some(a) = &self.http {
            found.push(Action::Http(a));
        }
        if let Some(a) = &self.redis {
            found.push(Action::Redis(a));
        }
        if let Some(a) = &self.shell {
            found.push(Action::Shell(a));
        }
        if let Some(a) = &self.page {
            found.push(Action::Page(a));
        }
        if let Some(a) = &self.confirm {
            found.push(Action::Confirm(a));
        }
        if let Some(a) = &self.post {
            found.push(Action::Post(a));
        }
        if let Some(a) = &self.wait {
            found.push(Action::Wait(a));
        }
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "step `{}` names no action (sql, http, redis, shell, wait, confirm, post or page)",
                self.name
            )),
            _ => Err(format!("step `{}` names more than one action", self.name)),
        }
    }

    /// The target the action reaches, if any.
    pub fn target(&self) -> Option<&str> {
        match self.action().ok()? {
            Action::Sql(s) => Some(&s.target),
            Action::Http(h) => Some(&h.target),
            Action::Redis(r) => Some(&r.target),
            Action::Shell(s) => s.pg_env.as_deref(),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.action() {
            Ok(Action::Sql(_)) => "sql",
            Ok(Action::Http(_)) => "http",
            Ok(Action::Redis(_)) => "redis",
            Ok(Action::Shell(_)) => "shell",
            Ok(Action::Page(_)) => "page",
            Ok(Action::Confirm(_)) => "confirm",
            Ok(Action::Post(_)) => "post",
            Ok(Action::Wait(_)) => "wait",
            Err(_) => "invalid",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollSpec {
    /// Pause between attempts, e.g. "10s".
    pub every: String,
    /// Give up after, e.g. "5m".
    pub within: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSpec {
    /// Pause between checks, e.g. "1m".
    pub every: String,
    /// How long it must hold, e.g. "15m".
    #[serde(rename = "for", default)]
    pub lasting: Option<String>,
    /// Or the name of a `duration` argument of the command (`monitor=15m`).
    #[serde(default)]
    pub for_arg: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    /// Role ids of the matrix whose members are mentioned.
    pub roles: Vec<String>,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmSpec {
    /// What the human must check before pressing Done.
    pub prompt: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostStepSpec {
    pub template: String,
    /// `incident` (the run's channel, the default) or `stakeholders`.
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    /// A fixed duration, e.g. "5m".
    #[serde(default)]
    pub duration: Option<String>,
    /// Or the name of a `duration` argument of the command.
    #[serde(default)]
    pub duration_arg: Option<String>,
}

/// Where a bound parameter's value comes from.
pub fn param_source_is_known(source: &str) -> bool {
    source.starts_with("args.")
        || source.starts_with("vars.")
        || matches!(source, "incident.id" | "run.id" | "run.requested_by")
}
