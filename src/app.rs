//! The pipeline every chat message goes through, whatever the platform:
//! record → parse → authorize → (approve) → run → post.
//!
//! `App` owns the loaded catalog, templates, store, targets and the chat it answers
//! in. Adapters build an [`Incoming`] and call [`App::handle`]; the returned [`Outcome`]
//! is what `warroom run` turns into its exit code.

pub(crate) mod runbook_command;

use std::sync::Arc;

use chrono::Utc;
use secrecy::ExposeSecret;

use crate::actions::target::{HttpTarget, RedisTarget, SqlTarget, Targets};
use crate::authz::{Refusal, UserId};
use crate::chat::{Chat, MessageRef, Post, PostKind};
use crate::command::catalog::{Catalog, Lookup, Problem};
use crate::command::parse;
use crate::command::{builtin, checklist, lifecycle};
use crate::config::Settings;
use crate::incident::{kind, NewEvent};
use crate::render::{escape, Renderer};
use crate::store::{CommandOutcome, NewCommand, Store, StoreError};

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

/// Where a triaged command goes.
pub enum Route<'a> {
    /// A built-in or lifecycle command.
    Builtin(parse::CommandLine),
    /// A runbook command, bound and allowed to be requested.
    Runbook(runbook_command::Prepared<'a>),
}

/// What a platform answers at once (Slack's and Discord's 3-second deadline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// Recorded as `CMD-n` and being handled.
    Accepted(i64),
    /// The answer itself: a mistake (with what to type instead) or a refusal.
    Refused { text: String, outcome: Outcome },
    /// A redelivery of a command already received.
    Duplicate,
    /// The state database is down: nothing was recorded or run.
    Unavailable,
}

impl Ack {
    /// What the user reads, `shown` being their command line as typed.
    pub fn text(&self, shown: &str) -> String {
        let shown = escape::inline_code(shown);
        match self {
            Ack::Accepted(id) => format!("⏳ `{shown}` accepted (CMD-{id}); working on it."),
            Ack::Refused { text, .. } => text.clone(),
            Ack::Duplicate => format!("`{shown}` was already received."),
            Ack::Unavailable => DATABASE_DOWN.to_string(),
        }
    }
}

const DATABASE_DOWN: &str = "The state database is unavailable, so nothing was run. Retry in a \
     moment; if it is urgent, follow the runbook by hand and tell the incident channel.";

fn audit_of(outcome: Outcome) -> CommandOutcome {
    match outcome {
        Outcome::Invalid => CommandOutcome::Invalid,
        Outcome::Denied => CommandOutcome::Denied,
        Outcome::Waiting => CommandOutcome::Accepted,
        Outcome::Done | Outcome::Duplicate => CommandOutcome::Done,
        Outcome::StepFailed => CommandOutcome::Failed,
        Outcome::Internal => CommandOutcome::Error,
    }
}

fn outcome_of(failure: &Failure) -> Outcome {
    match failure {
        Failure::Invalid(_) => Outcome::Invalid,
        Failure::Denied(_) => Outcome::Denied,
        Failure::Unavailable(_) | Failure::Store(_) | Failure::Internal(_) => Outcome::Internal,
    }
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
    /// Identifies this process in run leases.
    pub instance: String,
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
            instance: uuid::Uuid::new_v4().to_string(),
            named: Default::default(),
        })
    }

    /// Handles one message end to end. The message is recorded before anything else;
    /// if that fails, nothing runs and the user is told.
    pub async fn handle(&self, msg: &Incoming) -> Outcome {
        match self.record(msg).await {
            Ok(id) => self.process(msg, id).await,
            Err(outcome) => outcome,
        }
    }

    /// Records the message, with its outcome when that is already known.
    /// `Ok(None)` is a redelivery of one already recorded.
    pub async fn record_only(
        &self,
        msg: &Incoming,
        known: Option<(CommandOutcome, &str)>,
    ) -> Result<Option<i64>, StoreError> {
        let record = NewCommand {
            received_at: Utc::now(),
            platform: &msg.user.platform,
            channel: &msg.channel,
            user_id: &msg.user.id,
            text: &msg.text,
            dedup_key: msg.dedup_key.as_deref(),
            outcome: known.map(|(o, _)| o),
            detail: known.map(|(_, d)| d),
        };
        self.store.record_command(&record).await
    }

    /// The first half of [`App::handle`]: records the message. `Err` carries the
    /// outcome when there is nothing more to do: a redelivery, or the state database
    /// is down (the user is told).
    pub async fn record(&self, msg: &Incoming) -> Result<i64, Outcome> {
        match self.record_only(msg, None).await {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(Outcome::Duplicate),
            Err(e) => {
                tracing::error!(error = %e, "cannot record command");
                self.reply(msg, PostKind::Error, DATABASE_DOWN).await;
                Err(Outcome::Internal)
            }
        }
    }

    /// How a chat platform takes a command: triage it (parse, bind, authorize: pure,
    /// nothing runs), record it (with its outcome when triage already decided it),
    /// and say so at once, inside the platform's deadline. A mistake or a refusal is
    /// the answer itself; an accepted command goes on in the background and reports
    /// through the chat.
    pub async fn acknowledge(self: &Arc<Self>, msg: Incoming) -> Ack {
        let refused = self.triage(&msg).err();
        let known = refused
            .as_ref()
            .map(|f| (audit_of(outcome_of(f)), f.to_string()));
        let recorded = self
            .record_only(&msg, known.as_ref().map(|(o, d)| (*o, d.as_str())))
            .await;
        let id = match recorded {
            Ok(Some(id)) => id,
            Ok(None) => return Ack::Duplicate,
            Err(e) => {
                tracing::error!(error = %e, "cannot record command");
                return Ack::Unavailable;
            }
        };
        let app = self.clone();
        match refused {
            None => {
                tokio::spawn(async move {
                    app.process(&msg, id).await;
                });
                Ack::Accepted(id)
            }
            Some(failure) => {
                let outcome = outcome_of(&failure);
                if outcome == Outcome::Denied {
                    // The timeline note needs the database; the answer does not
                    // wait for it.
                    tokio::spawn(async move { app.note_refusal(&msg).await });
                }
                Ack::Refused {
                    text: failure.to_string(),
                    outcome,
                }
            }
        }
    }

    /// The second half of [`App::handle`]: everything after the record.
    pub async fn process(&self, msg: &Incoming, id: i64) -> Outcome {
        let result = match self.triage(msg) {
            Ok(route) => self.execute(msg, route).await,
            Err(failure) => Err(failure),
        };
        self.conclude(msg, id, result).await
    }

    /// Replies with what went wrong, notes refusals on the incident's timeline, and
    /// writes the outcome to the audit record.
    async fn conclude(&self, msg: &Incoming, id: i64, result: Result<Handled, Failure>) -> Outcome {
        let (outcome, detail, run_id) = match result {
            Ok(h) => (h.outcome, String::new(), h.run_id),
            Err(e) => {
                let outcome = outcome_of(&e);
                let text = match &e {
                    Failure::Store(_) | Failure::Internal(_) => {
                        tracing::error!(error = %e, command = id, "command failed");
                        format!("Internal error (ref CMD-{id}); nothing further was run. The log has the details.")
                    }
                    user_facing => user_facing.to_string(),
                };
                let kind = if outcome == Outcome::Denied {
                    PostKind::Denied
                } else {
                    PostKind::Error
                };
                self.reply(msg, kind, &text).await;
                if outcome == Outcome::Denied {
                    self.note_refusal(msg).await;
                }
                (outcome, e.to_string(), None)
            }
        };
        if let Err(e) = self
            .store
            .finish_command(id, audit_of(outcome), &detail, run_id)
            .await
        {
            tracing::error!(error = %e, command = id, "cannot record command outcome");
        }
        outcome
    }

    /// A refusal goes on the timeline of the channel's open incident, if any.
    async fn note_refusal(&self, msg: &Incoming) {
        let label = parse::parse(&msg.text)
            .map(|line| match self.catalog.lookup(&line) {
                Lookup::Spec { spec, .. } => spec.full_name(),
                _ => line.name,
            })
            .unwrap_or_default();
        let note = format!("{} was refused /{label}: not authorized", msg.user.id);
        let noted = async {
            if let Some(incident) = self.store.open_incident(&msg.channel).await? {
                self.event(
                    &incident.id,
                    kind::DENIED,
                    Some(&msg.user.id),
                    &note,
                    None,
                    None,
                )
                .await?;
            }
            Ok::<(), StoreError>(())
        };
        if let Err(e) = noted.await {
            tracing::error!(error = %e, "cannot note a refusal on the timeline");
        }
    }

    /// Parses, looks up, binds and authorizes against the matrix: everything that
    /// needs no state. Built-ins that decide against state (`/approve`) check the
    /// rest when they run.
    pub fn triage(&self, msg: &Incoming) -> Result<Route<'_>, Failure> {
        let line = parse::parse(&msg.text).map_err(|e| Failure::Invalid(format!("{e}.")))?;
        let name = line.name.as_str();
        if lifecycle::NAMES.contains(&name) || checklist::NAMES.contains(&name) {
            lifecycle::authorize(self, msg, &line)?;
            return Ok(Route::Builtin(line));
        }
        if builtin::NAMES.contains(&name) || name == parse::UMBRELLA {
            return Ok(Route::Builtin(line));
        }
        match self.catalog.lookup(&line) {
            Lookup::Spec { spec, rest } => Ok(Route::Runbook(runbook_command::prepare(
                self, msg, line, spec, &rest,
            )?)),
            Lookup::NeedsSub { name, subs, given } => {
                let usages: Vec<String> = self
                    .catalog
                    .family(&name)
                    .iter()
                    .map(|s| s.usage())
                    .collect();
                let what = match given {
                    Some(g) => format!("`{}` is not a form of /{name}", escape::inline_code(&g)),
                    None => format!("/{name} needs one of: {}", subs.join(", ")),
                };
                Err(Failure::Invalid(format!(
                    "{what}. Usage:\n{}",
                    usages.join("\n")
                )))
            }
            Lookup::Unknown { suggestion } => {
                let hint = suggestion.map_or(String::new(), |s| format!(" Did you mean /{s}?"));
                Err(Failure::Invalid(format!(
                    "Unknown command /{}.{hint} Type /help to see the commands you can run.",
                    line.name
                )))
            }
        }
    }

    async fn execute(&self, msg: &Incoming, route: Route<'_>) -> Result<Handled, Failure> {
        match route {
            Route::Builtin(line) => builtin::dispatch(self, msg, &line)
                .await?
                .ok_or_else(|| Failure::Internal(format!("/{} has no handler", line.name))),
            Route::Runbook(prepared) => runbook_command::run(self, msg, prepared).await,
        }
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

    /// Finds runs whose process died mid-step, marks them interrupted and says so.
    /// They are never re-run automatically: a half-applied step needs a human.
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
