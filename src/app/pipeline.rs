//! The pipeline's stages: record, triage (parse, bind, authorize: pure), execute,
//! conclude (reply, audit). `handle` runs them in order for the console and
//! `warroom run`; `acknowledge` is how a chat platform takes a command within its
//! deadline: triage and record, answer, and leave the rest to the background.

use std::sync::Arc;

use chrono::Utc;

use super::handlers::{self, runbook};
use super::{App, Handled, Incoming, Outcome};
use crate::chat::PostKind;
use crate::command::catalog::Lookup;
use crate::command::parse;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::render::escape;
use crate::store::{CommandOutcome, NewCommand, StoreError};

/// Where a triaged command goes.
pub enum Route<'a> {
    /// A built-in or lifecycle command.
    Builtin(parse::CommandLine),
    /// A runbook command, bound and allowed to be requested.
    Runbook(runbook::Prepared<'a>),
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
    /// The state database is down or did not answer within [`RECORD_BUDGET`]:
    /// nothing was recorded, nothing ran, and nothing will.
    Unavailable,
}

/// How long the answer may wait for the record: Slack and Discord give up on an
/// answer after 3 s and show the user an error.
pub const ACK_BUDGET: std::time::Duration = std::time::Duration::from_millis(2000);

/// How long the record may take: past it the command is given up (never written,
/// or written as never to run) and its user told so, inside [`ACK_BUDGET`]. A
/// database that is down is told as down, never as slow: a "maybe it runs later"
/// answer made people retype commands that then ran twice, or wait for ones that
/// never ran (issue 14).
pub const RECORD_BUDGET: std::time::Duration = std::time::Duration::from_millis(1500);

/// How long a handled command's outcome is retried while the database is away.
const FINISH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl Ack {
    /// What the user reads, `shown` being their command line as typed.
    pub fn text(&self, shown: &str) -> String {
        let shown = escape::inline_code(shown);
        match self {
            Ack::Accepted(id) => format!("⏳ `{shown}` accepted (CMD-{id}); working on it."),
            Ack::Refused { text, .. } => text.clone(),
            Ack::Duplicate => format!("`{shown}` was already received."),
            Ack::Unavailable => format!("❌ `{shown}` was not recorded: {DATABASE_DOWN}"),
        }
    }
}

const DATABASE_DOWN: &str = "the state database is unavailable, so nothing ran and \
     nothing will. Retype it when /status answers; if it is urgent, follow the runbook by \
     hand and tell the incident channel.";

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
        // A command this deployment cannot run (its target is not configured) is
        // not an internal error (issue 12): like a mistake, nothing ran, and the
        // message says what to configure. `warroom run` exits 2.
        Failure::Invalid(_) | Failure::Unavailable(_) => Outcome::Invalid,
        Failure::Denied(_) => Outcome::Denied,
        Failure::Store(_) | Failure::Internal(_) => Outcome::Internal,
    }
}

impl App {
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
        self.record_by(msg, known, None, None).await
    }

    /// [`App::record_only`], given up at `deadline` (see [`Store::record_command_by`]).
    async fn record_by(
        &self,
        msg: &Incoming,
        known: Option<(CommandOutcome, &str)>,
        note: Option<&str>,
        deadline: Option<tokio::time::Instant>,
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
            note,
        };
        metrics::counter!("warroom_commands_received_total", "platform" => crate::model::metric::platform(&msg.user.platform))
            .increment(1);
        match deadline {
            Some(at) => self.store.record_command_by(&record, at).await,
            None => self.store.record_command(&record).await,
        }
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
                let shown = escape::inline_code(&msg.text);
                let text = format!("❌ `{shown}` was not recorded: {DATABASE_DOWN}");
                self.reply(msg, PostKind::Error, &text).await;
                Err(Outcome::Internal)
            }
        }
    }

    /// How a chat platform takes a command: triage it (parse, bind, authorize: pure,
    /// nothing runs), record it (with its outcome when triage already decided it),
    /// and say so at once, inside the platform's deadline. A mistake or a refusal is
    /// the answer itself; an accepted command goes on in the background and reports
    /// through the chat.
    ///
    /// The record and what follows run in a task of their own, bounded by
    /// [`RECORD_BUDGET`]: a database that does not answer by then is told as
    /// unavailable, and the command is never run later.
    pub async fn acknowledge(self: &Arc<Self>, msg: Incoming) -> Ack {
        let started = std::time::Instant::now();
        let platform = crate::model::metric::platform(&msg.user.platform);
        let ack = self.acknowledge_inner(msg).await;
        let answer = match &ack {
            Ack::Accepted(_) => "accepted",
            Ack::Refused { .. } => "refused",
            Ack::Duplicate => "duplicate",
            Ack::Unavailable => "unavailable",
        };
        metrics::histogram!("warroom_ack_seconds", "platform" => platform)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("warroom_acks_total", "platform" => platform, "answer" => answer)
            .increment(1);
        ack
    }

    async fn acknowledge_inner(self: &Arc<Self>, msg: Incoming) -> Ack {
        let refused = self.triage(&msg).err();
        let (tx, answer) = tokio::sync::oneshot::channel();
        let app = self.clone();
        let handling = self.inflight.enter();
        tokio::spawn(async move {
            let known = refused
                .as_ref()
                .map(|f| (audit_of(outcome_of(f)), f.to_string()));
            if let Some(f) = &refused {
                app.count_command(&msg, audit_of(outcome_of(f)));
            }
            // A refusal goes on the channel's open incident with the record's
            // batch, after the ack: no lookup of its own.
            let note = refused
                .as_ref()
                .filter(|f| outcome_of(f) == Outcome::Denied)
                .map(|_| app.refusal_note(&msg));
            let deadline = tokio::time::Instant::now() + RECORD_BUDGET;
            let recorded = app
                .record_by(
                    &msg,
                    known.as_ref().map(|(o, d)| (*o, d.as_str())),
                    note.as_deref(),
                    Some(deadline),
                )
                .await;
            let id = match recorded {
                Ok(Some(id)) => id,
                Ok(None) => {
                    let _ = tx.send(Ack::Duplicate);
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot record command");
                    let _ = tx.send(Ack::Unavailable);
                    return;
                }
            };
            match refused {
                None => {
                    let _ = tx.send(Ack::Accepted(id));
                    app.process(&msg, id).await;
                }
                Some(failure) => {
                    let _ = tx.send(Ack::Refused {
                        text: failure.to_string(),
                        outcome: outcome_of(&failure),
                    });
                }
            }
            drop(handling);
        });
        match tokio::time::timeout(ACK_BUDGET, answer).await {
            Ok(Ok(ack)) => ack,
            Ok(Err(_)) => Ack::Unavailable,
            // The record is bounded well inside the budget; this is a runtime too
            // starved to answer at all, and the record gives up by itself.
            Err(_) => {
                tracing::error!(budget = ?ACK_BUDGET, "a command's record did not answer within the ack budget");
                Ack::Unavailable
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
                    Failure::Store(_) => {
                        tracing::error!(error = %e, command = id, "command stopped by the state database");
                        format!(
                            "⚠️ The state database became unavailable while warroom handled \
                             this (CMD-{id}), so it went no further. If a run had started, its \
                             channel says where it stopped; /status shows it once the database \
                             answers."
                        )
                    }
                    Failure::Internal(_) => {
                        tracing::error!(error = %e, command = id, "command failed");
                        format!("Internal error (ref CMD-{id}); nothing further was run. The log has the details.")
                    }
                    user_facing => user_facing.to_string(),
                };
                self.reply(msg, outcome.reply_kind(), &text).await;
                if outcome == Outcome::Denied {
                    self.note_refusal(msg).await;
                }
                (outcome, e.to_string(), None)
            }
        };
        self.count_command(msg, audit_of(outcome));
        self.finish(id, audit_of(outcome), &detail, run_id).await;
        outcome
    }

    /// Writes a command's outcome, waiting out an outage of the state database (up
    /// to [`FINISH_PATIENCE`]), so no handled command stays `received` while its
    /// process lives on (issue 14). Past that, the crash recovery reports it.
    async fn finish(&self, id: i64, outcome: CommandOutcome, detail: &str, run_id: Option<i64>) {
        let deadline = tokio::time::Instant::now() + FINISH_PATIENCE;
        let mut pause = std::time::Duration::from_millis(500);
        loop {
            match self.store.finish_command(id, outcome, detail, run_id).await {
                Ok(()) => return,
                Err(e) if !e.is_closed() && tokio::time::Instant::now() + pause < deadline => {
                    tracing::warn!(error = %e, command = id, "cannot record command outcome yet; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(10));
                }
                Err(e) => {
                    tracing::error!(error = %e, command = id, "cannot record command outcome");
                    return;
                }
            }
        }
    }

    /// Counts a command by name and outcome. The name is one the catalog or the
    /// built-ins know, else `unknown`: typed text never becomes a label.
    fn count_command(&self, msg: &Incoming, outcome: CommandOutcome) {
        let name = parse::parse(&msg.text)
            .ok()
            .and_then(|line| {
                if handlers::is_builtin(&line.name) {
                    return Some(line.name);
                }
                match self.catalog.lookup(&line) {
                    Lookup::Spec { spec, .. } => Some(spec.full_name()),
                    Lookup::NeedsSub { name, .. } => Some(name),
                    Lookup::Unknown { .. } => None,
                }
            })
            .unwrap_or_else(|| "unknown".into());
        metrics::counter!("warroom_commands_total", "command" => name, "outcome" => outcome.as_str())
            .increment(1);
    }

    /// What the timeline of the channel's open incident says of a refusal.
    fn refusal_note(&self, msg: &Incoming) -> String {
        let label = parse::parse(&msg.text)
            .map(|line| match self.catalog.lookup(&line) {
                Lookup::Spec { spec, .. } => spec.full_name(),
                _ => line.name,
            })
            .unwrap_or_default();
        format!("{} was refused /{label}: not authorized", msg.user.id)
    }

    /// A refusal decided while running (not at triage) goes on the timeline of
    /// the channel's open incident, if any.
    async fn note_refusal(&self, msg: &Incoming) {
        let note = self.refusal_note(msg);
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
        if handlers::needs_incident_role(name) {
            handlers::incident::authorize(self, msg, &line)?;
        }
        if handlers::is_builtin(name) {
            return Ok(Route::Builtin(line));
        }
        match self.catalog.lookup(&line) {
            Lookup::Spec { spec, rest } => Ok(Route::Runbook(runbook::prepare(
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
            Route::Builtin(line) => handlers::dispatch(self, msg, &line).await,
            Route::Runbook(prepared) => runbook::run(self, msg, prepared).await,
        }
    }
}
