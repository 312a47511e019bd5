//! `/confirm RUN-n` ticks the checkpoint a run is parked at and drives it on;
//! `/cancel RUN-n` stops a run: waiting for approval or at a checkpoint at once; in
//! a wait at once; between or inside other steps before the next step, saying when
//! the one in flight ends.

use chrono::Utc;

use super::run_ref::{drive, run_arg};
use crate::app::{App, Handled, Incoming, Outcome};
use crate::chat::{MessageRef, Post, PostKind};
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::{display_id, Run, RunState, StepRecord, StepState};
use crate::render::hhmm;
use crate::runbook::approval::edit_request;
use crate::runbook::engine;

pub async fn confirm(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let run = run_arg(app, msg, line, "confirm").await?;
    let id = display_id(run.id);
    let steps = app.store.steps(run.id).await?;
    let Some(step) = steps.iter().find(|s| s.state == StepState::Waiting) else {
        return Err(Failure::Invalid(format!(
            "{id} is not waiting at a checkpoint (it is {}).",
            run.state.in_words()
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

/// What still happens after a cancel: the step in flight, and when it ends.
fn in_flight(app: &App, run: &Run, steps: &[StepRecord]) -> String {
    let Some(step) = steps.iter().find(|s| s.state == StepState::Running) else {
        return if run.state == RunState::Running
            && steps.iter().all(|s| s.state != StepState::Waiting)
        {
            " No step was running; nothing more runs.".to_string()
        } else {
            String::new()
        };
    };
    if step.kind == "wait" {
        return format!(
            " Step {} ({}) is a wait: it stops within a second; nothing after it runs.",
            step.idx + 1,
            step.name
        );
    }
    let ends = engine::spec_of(app, run)
        .ok()
        .and_then(|spec| spec.file.steps.get(step.idx as usize))
        .zip(step.started_at)
        .map(|(spec, started)| {
            let limit = crate::runbook::act::timeout(app, spec, &run.args);
            format!(
                ", by {} UTC at the latest (its timeout)",
                hhmm(crate::model::duration::after(started, limit))
            )
        })
        .unwrap_or_default();
    format!(
        " Step {} ({}) is not stopped half way: it ends on its own{ends}, and nothing after \
         it runs.",
        step.idx + 1,
        step.name
    )
}

/// Replaces a checkpoint's message (and its Done button) once it is settled.
async fn close_checkpoint(app: &App, run: &Run, step: &StepRecord, text: &str) {
    if let Some(m) = step.message_ref.as_deref().and_then(MessageRef::decode) {
        app.edit(&m, &Post::new(&run.channel, PostKind::Checkpoint, text))
            .await;
    }
}

pub async fn cancel(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let run = run_arg(app, msg, line, "cancel").await?;
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
        // Between steps or inside one: the engine stops before the next step (a
        // wait stops at once); what is in flight finishes, below.
        (RunState::Running, None) => RunState::Running,
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
    // Read after the cancel: a step that started before it is in flight; none can
    // start after it (`start_step` needs a running run).
    let now_steps = app.store.steps(run.id).await?;
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
        "⛔ {id} /{} cancelled by {}. Steps already done stay done.{}",
        run.command,
        msg.user.id,
        in_flight(app, &run, &now_steps)
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
