//! Commands every deployment has, independent of `commands/`: `/help`, `/approve`,
//! `/deny`, `/confirm`, `/cancel` and `/status`.

use chrono::Utc;

use crate::app::{App, Failure, Handled, Incoming, Outcome};
use crate::authz::{Refusal, Verdict};
use crate::chat::{MessageRef, Post, PostKind};
use crate::command::parse::CommandLine;
use crate::incident::kind;
use crate::render::{escape, hhmm};
use crate::runbook::engine::{self, RunOutcome};
use crate::runbook::run::{display_id, parse_id, Run, RunState, StepState};

pub const NAMES: &[&str] = &[
    "help", "approve", "deny", "confirm", "cancel", "status", "assess",
];

/// Handles `line` if it is a built-in; `None` lets the catalog look it up.
pub async fn dispatch(
    app: &App,
    msg: &Incoming,
    line: &CommandLine,
) -> Result<Option<Handled>, Failure> {
    if let Some(handled) = super::lifecycle::dispatch(app, msg, line).await? {
        return Ok(Some(handled));
    }
    if let Some(handled) = super::checklist::dispatch(app, msg, line).await? {
        return Ok(Some(handled));
    }
    let handled = match line.name.as_str() {
        "help" | "warroom" => super::help::help(app, msg, line).await?,
        "approve" => vote(app, msg, line, true).await?,
        "deny" => vote(app, msg, line, false).await?,
        "confirm" => confirm(app, msg, line).await?,
        "cancel" => cancel(app, msg, line).await?,
        "status" => status(app, msg).await?,
        "assess" => assess(app, msg, line).await?,
        _ => return Ok(None),
    };
    Ok(Some(handled))
}

async fn run_arg(app: &App, line: &CommandLine, verb: &str) -> Result<Run, Failure> {
    let usage = format!(
        "Usage: /{verb} RUN-n (the run id is in the request message; /status lists open runs)."
    );
    let raw = line
        .positional
        .first()
        .ok_or_else(|| Failure::Invalid(format!("Which run? {usage}")))?;
    let id = parse_id(raw).ok_or_else(|| {
        Failure::Invalid(format!(
            "`{}` is not a run id. {usage}",
            escape::inline_code(raw)
        ))
    })?;
    let run = app.store.run(id).await?.ok_or_else(|| {
        Failure::Invalid(format!(
            "{} does not exist. /status lists open runs.",
            display_id(id)
        ))
    })?;
    // Platforms may share one database, but a run reports where it was asked for:
    // decided from elsewhere, it would run where nobody sees its progress.
    if run.requested_by.platform != app.platform {
        return Err(Failure::Invalid(format!(
            "{} was requested on {}: /{verb} it there, where its progress is posted.",
            display_id(id),
            platform_label(&run.requested_by.platform)
        )));
    }
    Ok(run)
}

fn platform_label(platform: &str) -> &str {
    match platform {
        "slack" => "Slack",
        "discord" => "Discord",
        "console" => "the console",
        other => other,
    }
}

/// Marks an approval request that outlived its window as expired and says so.
pub async fn expire(app: &App, run: &Run) -> Result<(), Failure> {
    if app
        .store
        .transition(
            run.id,
            RunState::AwaitingApproval,
            RunState::Expired,
            Utc::now(),
            Some("approval window passed"),
        )
        .await?
    {
        let text = format!("⌛ {} /{} expired: it was not approved in time. Nothing ran. Request it again if it is still needed.", display_id(run.id), run.command);
        app.event(
            &run.incident_id,
            kind::APPROVAL,
            None,
            &text,
            Some(run.id),
            None,
        )
        .await?;
        edit_request(app, run, &text).await;
    }
    Ok(())
}

async fn edit_request(app: &App, run: &Run, text: &str) {
    if let Some(m) = run.progress_ref.as_deref().and_then(MessageRef::decode) {
        app.edit(&m, &Post::new(&run.channel, PostKind::Approval, text))
            .await;
    }
}

async fn vote(
    app: &App,
    msg: &Incoming,
    line: &CommandLine,
    approve: bool,
) -> Result<Handled, Failure> {
    let verb = if approve { "approve" } else { "deny" };
    let run = run_arg(app, line, verb).await?;
    let id = display_id(run.id);
    if run.state != RunState::AwaitingApproval {
        return Err(Failure::Invalid(format!(
            "{id} is {}; there is nothing to {verb}.",
            run.state.as_str().replace('_', " ")
        )));
    }
    if run.approval_expires_at.is_some_and(|t| t < Utc::now()) {
        expire(app, &run).await?;
        return Err(Failure::Invalid(format!(
            "{id} expired at {} UTC; nothing ran. Ask for /{} again.",
            run.approval_expires_at.map(hhmm).unwrap_or_default(),
            run.command
        )));
    }
    let matrix = &app.catalog.matrix;
    let votes: Vec<_> = app
        .store
        .votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let role = matrix
        .may_vote(&run.scenario, &run.requested_by, &votes, &msg.user)
        .map_err(|r| {
            let text = app.refusal_text(&r, &format!("{verb} {id}"));
            match r {
                // Not a permission problem: the decision is already counted.
                Refusal::AlreadyDecided | Refusal::NotNeeded { .. } => Failure::Invalid(text),
                _ => Failure::Denied(text),
            }
        })?;
    if !app
        .store
        .add_vote(run.id, &msg.user, &role, approve, Utc::now())
        .await?
    {
        return Err(Failure::Invalid(format!("You already decided on {id}.")));
    }
    let decided = if approve { "approved" } else { "denied" };
    let text = format!("{} {decided} {id} /{} as {role}", msg.user.id, run.command);
    app.event(
        &run.incident_id,
        kind::APPROVAL,
        Some(&msg.user.id),
        &text,
        Some(run.id),
        None,
    )
    .await?;
    // Re-read after our vote is committed, not the list read before it: two
    // approvers racing on two replicas would otherwise each see only their own vote
    // and leave the run waiting forever with both recorded. Each reads after its own
    // insert, so at least one of them sees both.
    let all: Vec<crate::authz::Vote> = app
        .store
        .votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let verdict = matrix
        .verdict(&run.scenario, &run.requested_by, &all)
        .map_err(|r| Failure::Internal(app.refusal_text(&r, "decide")))?;
    match verdict {
        Verdict::Denied { by } => {
            app.store
                .transition(
                    run.id,
                    RunState::AwaitingApproval,
                    RunState::Cancelled,
                    Utc::now(),
                    Some(&format!("denied by {}", by.id)),
                )
                .await?;
            let text = format!(
                "⛔ {id} /{} was denied by {} ({role}). Nothing ran.",
                run.command, by.id
            );
            edit_request(app, &run, &text).await;
            app.send(&Post::new(&run.channel, PostKind::Info, text))
                .await;
            Ok(Handled {
                outcome: Outcome::Done,
                run_id: Some(run.id),
            })
        }
        Verdict::Pending { missing } => {
            // The request message itself shows who decided and who is still needed.
            let spec = engine::spec_of(app, &run)?;
            let decided = app.store.votes(run.id).await?;
            let mut post =
                crate::app::runbook_command::approval_post(app, spec, &run, &missing, &decided);
            // Still naming who is awaited; platforms do not notify again on an edit.
            post.mentions = crate::app::runbook_command::members_of_titles(app, &missing);
            match run.progress_ref.as_deref().and_then(MessageRef::decode) {
                Some(m) => app.edit(&m, &post).await,
                None => {
                    app.send(&post).await;
                }
            }
            Ok(Handled {
                outcome: Outcome::Waiting,
                run_id: Some(run.id),
            })
        }
        Verdict::Approved => {
            if !app
                .store
                .transition(
                    run.id,
                    RunState::AwaitingApproval,
                    RunState::Running,
                    Utc::now(),
                    None,
                )
                .await?
            {
                return Err(Failure::Invalid(format!(
                    "{id} was already started or stopped by someone else."
                )));
            }
            app.event(
                &run.incident_id,
                kind::APPROVAL,
                None,
                &format!("{id} fully approved; running"),
                Some(run.id),
                None,
            )
            .await?;
            drive(app, run.id).await
        }
    }
}

async fn drive(app: &App, run_id: i64) -> Result<Handled, Failure> {
    let outcome = match engine::drive(app, run_id).await? {
        RunOutcome::Succeeded | RunOutcome::NotMine => Outcome::Done,
        RunOutcome::Waiting => Outcome::Waiting,
        RunOutcome::Failed => Outcome::StepFailed,
    };
    Ok(Handled {
        outcome,
        run_id: Some(run_id),
    })
}

async fn confirm(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let run = run_arg(app, line, "confirm").await?;
    let id = display_id(run.id);
    let steps = app.store.steps(run.id).await?;
    let Some(step) = steps.iter().find(|s| s.state == StepState::Waiting) else {
        return Err(Failure::Invalid(format!(
            "{id} is not waiting at a checkpoint (it is {}).",
            run.state.as_str().replace('_', " ")
        )));
    };
    app.catalog
        .matrix
        .may_confirm(&run.scenario, &msg.user)
        .map_err(|r| Failure::Denied(app.refusal_text(&r, &format!("confirm {id}"))))?;
    let out = format!("confirmed by {}", msg.user.id);
    if !app
        .store
        .step_transition(
            run.id,
            step.idx,
            StepState::Waiting,
            StepState::Succeeded,
            Utc::now(),
            Some(&out),
        )
        .await?
    {
        return Err(Failure::Invalid(format!(
            "{id}'s checkpoint was already confirmed."
        )));
    }
    let closed = format!(
        "✅ **{id}** checkpoint {}: {} — confirmed by {} at {} UTC.",
        step.idx + 1,
        step.name,
        msg.user.id,
        hhmm(Utc::now())
    );
    close_checkpoint(app, &run, step, &closed).await;
    let spec = engine::spec_of(app, &run)?;
    let timeline_text = spec
        .file
        .steps
        .get(step.idx as usize)
        .and_then(|s| s.timeline.clone())
        .unwrap_or_else(|| format!("{id}: checkpoint confirmed: {}", step.name));
    let ev = if spec
        .file
        .steps
        .get(step.idx as usize)
        .is_some_and(|s| s.timeline.is_some())
    {
        kind::MILESTONE
    } else {
        kind::STEP
    };
    app.event(
        &run.incident_id,
        ev,
        Some(&msg.user.id),
        &timeline_text,
        Some(run.id),
        Some(step.idx),
    )
    .await?;
    drive(app, run.id).await
}

/// Replaces a checkpoint's message (and its Done button) once it is settled.
async fn close_checkpoint(
    app: &App,
    run: &Run,
    step: &crate::runbook::run::StepRecord,
    text: &str,
) {
    if let Some(m) = step.message_ref.as_deref().and_then(MessageRef::decode) {
        app.edit(&m, &Post::new(&run.channel, PostKind::Checkpoint, text))
            .await;
    }
}

async fn cancel(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let run = run_arg(app, line, "cancel").await?;
    let id = display_id(run.id);
    let may = run.requested_by == msg.user
        || app
            .catalog
            .matrix
            .may_confirm(&run.scenario, &msg.user)
            .is_ok();
    if !may {
        return Err(Failure::Denied(format!(
            "Only the requester or a role that may run /{} can cancel {id}.",
            run.command
        )));
    }
    let steps = app.store.steps(run.id).await?;
    let parked = steps.iter().find(|s| s.state == StepState::Waiting);
    let from = match (run.state, parked) {
        (RunState::AwaitingApproval, _) => RunState::AwaitingApproval,
        (RunState::Running, Some(_)) => RunState::Running,
        (RunState::Running, None) => {
            return Err(Failure::Invalid(format!(
                "{id} is executing a step right now and cannot be cancelled mid-step."
            )))
        }
        (s, _) => {
            return Err(Failure::Invalid(format!(
                "{id} is already {}.",
                s.as_str().replace('_', " ")
            )))
        }
    };
    if !app
        .store
        .transition(
            run.id,
            from,
            RunState::Cancelled,
            Utc::now(),
            Some(&format!("cancelled by {}", msg.user.id)),
        )
        .await?
    {
        return Err(Failure::Invalid(format!(
            "{id} changed state meanwhile; check /status."
        )));
    }
    if let Some(s) = parked {
        app.store
            .step_transition(
                run.id,
                s.idx,
                StepState::Waiting,
                StepState::Skipped,
                Utc::now(),
                Some("cancelled"),
            )
            .await?;
    }
    let text = format!(
        "⛔ {id} /{} cancelled by {}. Steps already done stay done.",
        run.command, msg.user.id
    );
    if let Some(s) = parked {
        close_checkpoint(app, &run, s, &text).await;
    }
    if from == RunState::AwaitingApproval {
        // The request loses its buttons: nothing is left to approve.
        edit_request(app, &run, &text).await;
    }
    app.event(
        &run.incident_id,
        kind::RUN,
        Some(&msg.user.id),
        &text,
        Some(run.id),
        None,
    )
    .await?;
    app.send(&Post::new(&run.channel, PostKind::Info, text))
        .await;
    Ok(Handled {
        outcome: Outcome::Done,
        run_id: Some(run.id),
    })
}

/// Decision support: anyone may ask; it changes nothing. The answer goes to the
/// channel, since the whole incident team needs it.
async fn assess(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let facts = crate::assess::facts(line)
        .map_err(|e| Failure::Invalid(format!("{e}. Usage: {}", crate::assess::USAGE)))?;
    let text = crate::assess::render(&crate::assess::assess(&facts));
    let headline = text.lines().next().unwrap_or_default().to_string();
    app.send(&Post::new(&msg.channel, PostKind::Info, text))
        .await;
    if let Some(incident) = app.store.open_incident(&msg.channel).await? {
        let note = format!("{} ran /assess: {headline}", msg.user.id);
        app.event(
            &incident.id,
            kind::COMMAND,
            Some(&msg.user.id),
            &note,
            None,
            None,
        )
        .await?;
    }
    Ok(Handled::done())
}

async fn status(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    let mut out = String::new();
    match app.store.open_incident(&msg.channel).await? {
        Some(i) => {
            let mins = (Utc::now() - i.detected_at).num_minutes();
            out.push_str(&format!(
                "**{}** {} — {} ({}), open for {mins} min, detected {} UTC.\n",
                i.id,
                i.severity,
                escape::markdown(&i.title),
                i.status,
                hhmm(i.detected_at)
            ));
            let runs = app.store.incident_runs(&i.id).await?;
            for r in runs.iter().rev().take(10) {
                out.push_str(&format!(
                    "• {} /{} — {} (by {})\n",
                    display_id(r.id),
                    r.command,
                    r.state.as_str().replace('_', " "),
                    r.requested_by.id
                ));
            }
        }
        None => out.push_str("No open incident in this channel.\n"),
    }
    let waiting = app.store.runs_in_state(RunState::AwaitingApproval).await?;
    if !waiting.is_empty() {
        out.push_str("Waiting for approval: ");
        out.push_str(
            &waiting
                .iter()
                .map(|r| format!("{} /{}", display_id(r.id), r.command))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    app.send(
        &Post::new(&msg.channel, PostKind::Info, out.trim_end().to_string()).ephemeral(&msg.user),
    )
    .await;
    Ok(Handled::done())
}
