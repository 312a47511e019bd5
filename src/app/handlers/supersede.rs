//! A higher-severity command supersedes a lower-severity request that is only
//! waiting in its scope: awaiting approval, or parked at a checkpoint. Seed 001's
//! decision matrix says "still degraded → escalate to Scenario 1": a pending
//! `/kanban-selective-off` (P1, 30-minute approval window) must not hold back
//! `/kanban-off` (P0). The waiting run is cancelled (compare-and-set), its request or
//! checkpoint closed, and its requester told why. A run inside a step is never
//! superseded: stopping it half way could leave its effect half applied.

use chrono::Utc;

use crate::app::{App, Incoming};
use crate::chat::{MessageRef, Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::incident::{kind, SEVERITIES};
use crate::model::run::{display_id, Run, RunState, StepState};
use crate::runbook::approval::edit_request;
use crate::runbook::engine;

/// P0 → 0 … P3 → 3, an emergency stop ahead of the rest of its severity; a command
/// without a severity ranks below every one.
fn rank(spec: &CommandSpec) -> (usize, bool) {
    let h = &spec.file.command;
    let severity = h
        .severity
        .as_deref()
        .and_then(|s| SEVERITIES.iter().position(|x| *x == s))
        .unwrap_or(SEVERITIES.len());
    (severity, !h.emergency)
}

/// Cancels `live` for `spec` when `spec` ranks higher (a higher severity, or an
/// emergency stop over a request of its severity) and `live` only waits; true when
/// the scope is now free.
pub async fn supersede(
    app: &App,
    msg: &Incoming,
    spec: &CommandSpec,
    live: &Run,
) -> Result<bool, Failure> {
    let Ok(live_spec) = engine::spec_of(app, live) else {
        return Ok(false);
    };
    let ours = spec.file.command.severity.as_deref();
    let theirs = live_spec.file.command.severity.as_deref();
    if rank(spec) >= rank(live_spec) {
        return Ok(false);
    }
    let steps = app.store.steps(live.id).await?;
    let parked = steps.iter().find(|s| s.state == StepState::Waiting);
    let waiting = match (live.state, parked) {
        (RunState::AwaitingApproval, _) => "waiting for approval",
        (RunState::Running, Some(_)) if !steps.iter().any(|s| s.state == StepState::Running) => {
            "parked at a checkpoint"
        }
        _ => return Ok(false),
    };
    let id = display_id(live.id);
    let why = format!(
        "superseded by /{} ({}) requested by {}",
        spec.full_name(),
        ours.unwrap_or("?"),
        msg.user.id
    );
    if !app
        .store
        .transition(
            live.id,
            live.state,
            RunState::Cancelled,
            Utc::now(),
            Some(&why),
        )
        .await?
    {
        // Decided meanwhile (approved, denied, cancelled): the caller reports it busy
        // or finds the scope free on its retry.
        return Ok(false);
    }
    if let Some(s) = parked {
        app.store
            .step_transition(
                live.id,
                s.idx,
                StepState::Waiting,
                StepState::Skipped,
                Utc::now(),
                Some("superseded"),
            )
            .await?;
    }
    let text = format!(
        "⛔ {id} /{} ({}, {waiting}) was cancelled: {why}, which covers the same scope \
         ({}) with higher priority. Steps already done stay done; nothing more of {id} runs.",
        live.command,
        theirs.unwrap_or("no severity"),
        live.scope
    );
    if let Some(s) = parked {
        if let Some(m) = s.message_ref.as_deref().and_then(MessageRef::decode) {
            app.edit(&m, &Post::new(&live.channel, PostKind::Checkpoint, &text))
                .await;
        }
    }
    if live.state == RunState::AwaitingApproval {
        edit_request(app, live, &text).await;
    }
    app.event(
        &live.incident_id,
        kind::SUPERSEDED,
        Some(&msg.user.id),
        &text,
        Some(live.id),
        None,
    )
    .await?;
    // Told where they asked, by name: the request they wait on is gone.
    let mut post = Post::new(&live.channel, PostKind::Page, text);
    if live.requested_by.id != msg.user.id {
        post.mentions = vec![live.requested_by.id.clone()];
    }
    app.send(&post).await;
    Ok(true)
}
