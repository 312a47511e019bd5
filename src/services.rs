//! What the domain acts through: the state store, the chat it posts in, the loaded
//! catalog and templates, the targets a runbook reaches, and the settings it reads.
//!
//! The runbook engine, the incident clocks and the stakeholder posts take a
//! `&Services`, never the application: they know nothing of how a command arrived
//! (`app::Incoming`), how it is answered (`app::Outcome`) or what is in flight.
//! [`crate::app::App`] holds one and derefs to it.

use std::sync::Arc;

use chrono::Utc;

use crate::actions::target::{HttpTarget, RedisTarget, SqlTarget, Targets};
use crate::authz::Refusal;
use crate::chat::{Chat, MessageRef, Post};
use crate::command::catalog::{Catalog, Problem};
use crate::command::spec::CommandSpec;
use crate::config::Settings;
use crate::model::incident::NewEvent;
use crate::render::{escape, Renderer};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("the command files have problems (run `warroom check`):\n{}", list(.0))]
    Catalog(Vec<Problem>),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("target `{0}`: {1}")]
    Target(String, String),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Services {
    pub settings: Settings,
    pub catalog: Catalog,
    pub renderer: Renderer,
    pub store: Store,
    pub targets: Targets,
    pub chat: Arc<dyn Chat>,
    /// The chat platform these services answer on (`console`, `slack`, `discord`).
    /// Several, one per platform, may share one state database: each opens
    /// incidents on its own platform, fires only their clocks and recovers only its
    /// own runs.
    pub platform: String,
    /// Stakeholder posts in progress (`incident::stakeholders::deliver`).
    pub bursts: Bursts,
}

/// The message a burst of stakeholder posts goes into, per incident: where it is and
/// when the burst began (`incident::stakeholders::deliver`). Kept by the process: a
/// burst is what one command does; another process starts a new message.
#[derive(Default)]
pub struct Bursts(
    std::sync::Mutex<std::collections::HashMap<String, (MessageRef, chrono::DateTime<Utc>)>>,
);

impl Bursts {
    /// The burst message of `incident`, if its burst began less than `window` ago.
    pub fn open(
        &self,
        incident: &str,
        now: chrono::DateTime<Utc>,
        window: std::time::Duration,
    ) -> Option<MessageRef> {
        let map = self.0.lock().expect("bursts lock");
        map.get(incident)
            .filter(|(_, since)| crate::model::duration::after(*since, window) > now)
            .map(|(m, _)| m.clone())
    }

    /// Starts a burst at `message` (or ends the incident's, with `None`).
    pub fn begin(&self, incident: &str, message: Option<MessageRef>, now: chrono::DateTime<Utc>) {
        let mut map = self.0.lock().expect("bursts lock");
        match message {
            Some(m) => map.insert(incident.to_string(), (m, now)),
            None => map.remove(incident),
        };
    }
}

impl Services {
    /// Loads commands and templates, opens the targets, and creates the embedded
    /// demo databases that stand in for unconfigured targets. `reserved` are the
    /// built-in command names no runbook may take.
    pub async fn build(
        platform: &str,
        settings: Settings,
        store: Store,
        chat: Arc<dyn Chat>,
        reserved: &[&str],
    ) -> Result<Services, StartError> {
        let (catalog, problems) = Catalog::load(&settings.commands_dir(), reserved);
        let catalog = match catalog.map(|c| c.with_vars(&settings.file.vars)) {
            Some(c) if problems.is_empty() => c,
            _ => return Err(StartError::Catalog(problems)),
        };
        let (renderer, broken) = Renderer::load(&settings.templates_dir())?;
        if let Some((_, e)) = broken.into_iter().next() {
            return Err(e.into());
        }
        let mut targets = Targets::default();
        for t in &settings.targets {
            let fail = |e: String| StartError::Target(t.name.clone(), e);
            match (t.kind.as_str(), &t.url) {
                ("http", Some(url)) => {
                    targets.http.insert(
                        t.name.clone(),
                        HttpTarget::new(url.clone(), t.token.clone()).map_err(fail)?,
                    );
                    continue;
                }
                ("redis", Some(url)) => {
                    targets
                        .redis
                        .insert(t.name.clone(), RedisTarget::new(url).map_err(fail)?);
                    continue;
                }
                ("http" | "redis", None) => continue,
                _ => {}
            }
            if let Some(url) = &t.url {
                targets.sql_urls.insert(t.name.clone(), url.clone());
            }
            let target = match (&t.url, &t.demo) {
                (Some(url), _) => {
                    SqlTarget::open(url).map_err(|e| StartError::Target(t.name.clone(), e))?
                }
                (None, Some(demo)) => {
                    targets.demo.insert(t.name.clone());
                    let path = settings.base.join(format!("warroom-demo-{demo}.db"));
                    crate::demo::open(demo, &path)
                        .await
                        .map_err(|e| StartError::Target(t.name.clone(), e))?
                }
                (None, None) => continue,
            };
            targets.sql.insert(t.name.clone(), target);
        }
        Ok(Services {
            settings,
            catalog,
            renderer,
            store,
            targets,
            chat,
            platform: platform.to_string(),
            bursts: Default::default(),
        })
    }

    /// Posts, logging (not failing) when the chat is down: the state is already saved.
    pub async fn send(&self, post: &Post) -> Option<MessageRef> {
        let post = &safe(post);
        match self.chat.post(post).await {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, channel = %post.channel, "post failed");
                None
            }
        }
    }

    pub async fn edit(&self, message: &MessageRef, post: &Post) {
        if let Err(e) = self.chat.update(message, &safe(post)).await {
            tracing::warn!(error = %e, "edit failed");
        }
    }

    pub async fn event(
        &self,
        incident_id: &str,
        kind: &str,
        actor: Option<&str>,
        text: &str,
        run_id: Option<i64>,
        step_idx: Option<i64>,
    ) -> Result<(), StoreError> {
        let e = NewEvent {
            kind,
            actor,
            text,
            run_id,
            step_idx,
        };
        self.store.append_event(incident_id, Utc::now(), &e).await
    }

    /// Environment variables to set before `spec` can run here: one per required
    /// (non-optional) target that is not configured, or that only the embedded demo
    /// serves where a step needs the real database (a program run with `pg_env`).
    pub fn missing_config(&self, spec: &CommandSpec) -> Vec<String> {
        let mut out: Vec<String> = spec
            .file
            .steps
            .iter()
            .filter(|s| !s.optional)
            .filter_map(|s| s.target().map(|t| (s, t)))
            .filter(|(s, t)| {
                // A program given a database's PG* variables (pg_dump) needs a real
                // PostgreSQL: the embedded SQLite demo cannot stand in for it.
                let needs_real = matches!(s.action(), Ok(crate::runbook::step::Action::Shell(_)))
                    && self.targets.demo.contains(*t);
                needs_real || (!self.targets.has(t) && !self.targets.sql_urls.contains_key(*t))
            })
            .map(|(_, t)| {
                self.settings
                    .file
                    .targets
                    .get(t)
                    .and_then(|c| c.url_env.clone())
                    .unwrap_or_else(|| format!("a [targets.{t}] entry"))
            })
            .collect();
        out.extend(self.missing_dirs(spec));
        out.sort();
        out.dedup();
        out
    }

    /// `[vars]` naming a directory a program step runs in that does not exist here
    /// (`{vars.pfa_repo}/backend` on a machine without the checkout): the program
    /// would fail at its first step, so the command is not offered as runnable.
    fn missing_dirs(&self, spec: &CommandSpec) -> Vec<String> {
        let mut out = Vec::new();
        for step in spec.file.steps.iter().filter(|s| !s.optional) {
            let Ok(crate::runbook::step::Action::Shell(sh)) = step.action() else {
                continue;
            };
            let Some(cwd) = sh.cwd.as_deref() else {
                continue;
            };
            let Some(rest) = cwd.strip_prefix("{vars.") else {
                continue;
            };
            let Some((name, tail)) = rest.split_once('}') else {
                continue;
            };
            let value = spec
                .file
                .vars
                .get(name)
                .or_else(|| self.settings.file.vars.get(name));
            if let Some(dir) = value {
                if !std::path::Path::new(&format!("{dir}{tail}")).is_dir() {
                    out.push(format!("[vars] {name} (no directory {dir} here)"));
                }
            }
        }
        out
    }

    /// Demo targets `spec` would touch, to say so before anyone mistakes it for
    /// production.
    pub fn demo_targets(&self, spec: &CommandSpec) -> Vec<String> {
        let mut out: Vec<String> = spec
            .file
            .steps
            .iter()
            .filter_map(|s| s.target())
            .filter(|t| self.targets.demo.contains(*t))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn refusal_text(&self, r: &Refusal, what: &str) -> String {
        match r {
            Refusal::UnknownScenario(s) => format!("{what} falls under scenario `{s}`, which the matrix does not define."),
            Refusal::NotRequester { allowed } => format!(
                "You are not allowed to {what}: it needs one of these roles: {}. Ask someone who holds one.",
                allowed.join(", ")
            ),
            Refusal::OwnRun => format!("You cannot {what}: you requested it, and approval must come from someone else."),
            Refusal::NoDecidingRole { needed } => {
                format!("You cannot {what}: only {} may decide.", needed.join(" / "))
            }
            Refusal::AlreadyDecided => format!("You already decided on this; you cannot {what} twice."),
            Refusal::NotNeeded { role, still_needed } => format!(
                "The {role} decision is already given; still needed: {} (a different person).",
                still_needed.join(", ")
            ),
        }
    }
}

/// Every post leaves with its mentions neutralized: step output (SQL rows, HTTP
/// bodies, program output) is data from outside and may contain `<!channel>`.
/// Mentions travel in `Post::mentions`, never in text. Idempotent.
fn safe(post: &Post) -> Post {
    let mut post = post.clone();
    post.text = escape::neutralize_mentions(&post.text);
    post
}
