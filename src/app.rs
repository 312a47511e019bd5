//! The pipeline every chat message goes through, whatever the platform:
//! record → parse → authorize → (approve) → run → post.
//!
//! `App` owns the loaded catalog, templates, store, targets and the chat it answers
//! in. The console and `warroom run` build an [`Incoming`] and call [`App::handle`]
//! (the returned [`Outcome`] is `run`'s exit code); chat platforms call
//! [`App::acknowledge`] and answer with its [`Ack`]. The stages live in `pipeline`.

mod pipeline;
pub(crate) mod runbook_command;

pub use pipeline::{Ack, Route, ACK_BUDGET};

use std::sync::Arc;

use chrono::Utc;
use secrecy::ExposeSecret;

use crate::actions::target::{HttpTarget, RedisTarget, SqlTarget, Targets};
use crate::authz::{Refusal, UserId};
use crate::chat::{Chat, MessageRef, Post, PostKind};
use crate::command::catalog::{Catalog, Problem};
use crate::config::Settings;
use crate::incident::{kind, NewEvent};
use crate::render::{escape, Renderer};
use crate::store::{Store, StoreError};

/// One message from a chat platform.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub user: UserId,
    pub channel: String,
    pub text: String,
    /// The platform's delivery id; a redelivery with the same key is ignored.
    pub dedup_key: Option<String>,
}

/// How handling ended. Exit codes are DESIGN.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Waiting for approvals or a human checkpoint.
    Waiting,
    Invalid,
    Denied,
    StepFailed,
    Internal,
    /// A redelivery of a message already handled.
    Duplicate,
}

impl Outcome {
    /// How a reply saying why a command did not run is styled.
    pub fn reply_kind(self) -> PostKind {
        if self == Outcome::Denied {
            PostKind::Denied
        } else {
            PostKind::Error
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Done | Outcome::Waiting | Outcome::Duplicate => 0,
            Outcome::Invalid => 2,
            Outcome::Denied => 3,
            Outcome::StepFailed => 4,
            Outcome::Internal => 1,
        }
    }
}

/// Why a command was not carried out. `Display` of the user variants is what the
/// channel sees; internal failures are shown only as a reference.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Denied(String),
    /// The deployment cannot run it (a target is not configured); said plainly.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// What a handler reports back to the pipeline for the audit record.
pub struct Handled {
    pub outcome: Outcome,
    pub run_id: Option<i64>,
}

impl Handled {
    pub fn done() -> Self {
        Handled {
            outcome: Outcome::Done,
            run_id: None,
        }
    }
}

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

/// How long a process may go unheard (it says it is alive every second) before
/// the commands it was handling count as lost.
pub const HANDLER_QUIET: std::time::Duration = std::time::Duration::from_secs(30);

/// Commands being handled in the background, counted so that a shutdown can let
/// them finish before the database closes under them.
#[derive(Default, Clone)]
pub struct Inflight(Arc<InflightInner>);

#[derive(Default)]
struct InflightInner {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Held by one background command; dropping it says the command is over.
pub struct InflightGuard(Arc<InflightInner>);

impl Inflight {
    pub fn enter(&self) -> InflightGuard {
        self.0
            .count
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InflightGuard(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until no command is being handled, or `limit` passes; returns how
    /// many were still running.
    pub async fn drain(&self, limit: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Created before the check, so a guard dropped in between still wakes it.
            let idle = self.0.idle.notified();
            let n = self.count();
            if n == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.count();
            }
        }
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        let before = self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if before == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

pub struct App {
    pub settings: Settings,
    pub catalog: Catalog,
    pub renderer: Renderer,
    pub store: Store,
    pub targets: Targets,
    pub chat: Arc<dyn Chat>,
    /// The chat platform this app answers on (`console`, `slack`, `discord`). Several
    /// apps, one per platform, may share one state database: each opens incidents on
    /// its own platform, fires only their clocks and recovers only its own runs.
    pub platform: String,
    /// Accepted commands still being handled in the background.
    pub inflight: Inflight,
    /// Users whose display name this process has already stored.
    named: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
}

impl App {
    /// [`App::build_on`] the console platform: `warroom run`, `console` and tests.
    pub async fn build(settings: Settings, chat: Arc<dyn Chat>) -> Result<App, StartError> {
        App::build_on("console", settings, chat).await
    }

    /// Loads commands and templates, opens the state database and the targets, and
    /// creates the embedded demo databases that stand in for unconfigured targets.
    pub async fn build_on(
        platform: &str,
        settings: Settings,
        chat: Arc<dyn Chat>,
    ) -> Result<App, StartError> {
        let store = Store::connect(settings.database_url.expose_secret()).await?;
        App::build_with(platform, settings, store, chat).await
    }

    /// [`App::build_on`] an open store (shared with the platform's outbox).
    pub async fn build_with(
        platform: &str,
        settings: Settings,
        store: Store,
        chat: Arc<dyn Chat>,
    ) -> Result<App, StartError> {
        let (catalog, problems) = Catalog::load(&settings.commands_dir());
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
        Ok(App {
            settings,
            catalog,
            renderer,
            store,
            targets,
            chat,
            platform: platform.to_string(),
            named: Default::default(),
            inflight: Inflight::default(),
        })
    }

    /// Whether `user`'s display name is still to be learnt by this process.
    pub fn unnamed(&self, user: &UserId) -> bool {
        self.named
            .lock()
            .map(|n| !n.contains(&(user.platform.clone(), user.id.clone())))
            .unwrap_or(true)
    }

    /// Stores the name a platform gives `user`, once per process, for the
    /// post-mortem's list of people. Failing to is only logged.
    pub async fn remember_name(&self, user: &UserId, name: &str) {
        let name = name.trim();
        if name.is_empty() || !self.unnamed(user) {
            return;
        }
        let name: String = name.chars().take(80).collect();
        match self
            .store
            .remember_name(&user.platform, &user.id, &name, Utc::now())
            .await
        {
            Ok(()) => {
                if let Ok(mut n) = self.named.lock() {
                    n.insert((user.platform.clone(), user.id.clone()));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot store a display name"),
        }
    }

    /// Posts to the user who sent `msg`, visible only to them.
    pub async fn reply(&self, msg: &Incoming, kind: PostKind, text: &str) {
        let post =
            Post::new(&msg.channel, kind, escape::neutralize_mentions(text)).ephemeral(&msg.user);
        self.send(&post).await;
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

    /// Reports the commands of this platform that were accepted but died with the
    /// process handling them (kill -9, OOM, a deploy): each is marked interrupted
    /// once (whichever replica gets there first) and its user told, so no accepted
    /// command vanishes silently. The clock calls this every second with the
    /// wall-clock time (heartbeats are real time, whatever the incident clock says).
    pub async fn report_lost_commands(
        &self,
        now: chrono::DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let quiet_since = now - chrono::Duration::from_std(HANDLER_QUIET).unwrap_or_default();
        let mut n = 0;
        for lost in self
            .store
            .orphaned_commands(&self.platform, quiet_since)
            .await?
        {
            if !self.store.interrupt_command(lost.id).await? {
                continue;
            }
            let msg = Incoming {
                user: UserId::new(&self.platform, &lost.user_id),
                channel: lost.channel.clone(),
                text: lost.text.clone(),
                dedup_key: None,
            };
            let text = format!(
                "⚠️ warroom stopped while handling your {} (CMD-{}, received {} UTC), so it \
                 cannot tell how far it got. /status shows its run if one started; if none \
                 did, type the command again.",
                escape::inline_code(&lost.text),
                lost.id,
                lost.received_at.format("%H:%M")
            );
            self.reply(&msg, PostKind::Error, &text).await;
            if let Some(incident) = self.store.open_incident(&lost.channel).await? {
                let note = format!(
                    "{}'s command CMD-{} was lost when warroom stopped while handling it",
                    lost.user_id, lost.id
                );
                self.event(&incident.id, kind::COMMAND, None, &note, None, None)
                    .await?;
            }
            n += 1;
        }
        Ok(n)
    }

    /// Finds runs whose step outlived its lease (the process running it died),
    /// marks them interrupted and says so in their channel. They are never re-run
    /// automatically: a half-applied step needs a human. At start and on every
    /// clock tick.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let now = Utc::now();
        let orphans = self.store.orphaned_runs(now).await?;
        let mut n = 0;
        for run in orphans
            .into_iter()
            .filter(|r| r.requested_by.platform == self.platform)
        {
            let steps = self.store.steps(run.id).await?;
            let Some(step) = steps
                .iter()
                .find(|s| s.state == crate::runbook::run::StepState::Running)
            else {
                continue;
            };
            if !self
                .store
                .transition(
                    run.id,
                    crate::runbook::run::RunState::Running,
                    crate::runbook::run::RunState::Interrupted,
                    now,
                    Some("the process running it stopped"),
                )
                .await?
            {
                continue;
            }
            self.store
                .step_transition(
                    run.id,
                    step.idx,
                    crate::runbook::run::StepState::Running,
                    crate::runbook::run::StepState::Failed,
                    now,
                    Some("interrupted: the process stopped while this step ran"),
                )
                .await?;
            let id = crate::runbook::run::display_id(run.id);
            let text = format!(
                "⚠️ {id} /{} was interrupted during step {} ({}): warroom stopped while it ran. \
                 Nothing was re-run. Check that step's effect by hand before running /{} again.",
                run.command,
                step.idx + 1,
                step.name,
                run.command
            );
            self.event(
                &run.incident_id,
                kind::RUN,
                None,
                &text,
                Some(run.id),
                Some(step.idx),
            )
            .await?;
            self.send(&Post::new(&run.channel, PostKind::Info, text))
                .await;
            n += 1;
        }
        Ok(n)
    }

    /// Environment variables to set before `spec` can run here: one per required
    /// (non-optional) target that is not configured.
    pub fn missing_config(&self, spec: &crate::command::spec::CommandSpec) -> Vec<String> {
        let mut out: Vec<String> = spec
            .file
            .steps
            .iter()
            .filter(|s| !s.optional)
            .filter_map(|s| s.target())
            .filter(|t| !self.targets.has(t) && !self.targets.sql_urls.contains_key(*t))
            .map(|t| {
                self.settings
                    .file
                    .targets
                    .get(t)
                    .and_then(|c| c.url_env.clone())
                    .unwrap_or_else(|| format!("a [targets.{t}] entry"))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Demo targets `spec` would touch, to say so before anyone mistakes it for
    /// production.
    pub fn demo_targets(&self, spec: &crate::command::spec::CommandSpec) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_drain_waits_for_the_commands_in_flight_and_no_longer_than_its_limit() {
        let inflight = Inflight::default();
        assert_eq!(inflight.drain(Duration::from_secs(5)).await, 0);
        let (a, b) = (inflight.enter(), inflight.enter());
        assert_eq!(inflight.drain(Duration::from_millis(20)).await, 2);
        drop(a);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(b);
        });
        assert_eq!(inflight.drain(Duration::from_secs(30)).await, 0);
    }
}
