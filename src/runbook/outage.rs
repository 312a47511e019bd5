//! A run whose state database went away under it. Its process lives on, so the
//! crash recovery (`App::recover`) would later call it "interrupted: warroom
//! stopped while it ran", which is not what happened (issue 14). The run's own
//! task waits for the database instead, then marks it interrupted with the real
//! cause and says so in its channel, once (compare-and-set, like the recovery).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::chat::{Post, PostKind};
use crate::model::incident::kind;
use crate::model::run::{display_id, Run, RunState, StepRecord, StepState};
use crate::services::Services;
use crate::store::StoreError;

/// How long the run's task keeps trying to say what happened: past this, the
/// crash recovery reports it (with the generic cause) when the database is back.
const PATIENCE: Duration = Duration::from_secs(30 * 60);

/// Marks `run` interrupted by the outage that began at `since` (first failed write,
/// `error`), retrying until the database answers or [`PATIENCE`] runs out. Returns
/// whether this call marked it.
pub async fn stopped_by_outage(
    svc: &Services,
    run: &Run,
    since: DateTime<Utc>,
    error: &StoreError,
) -> bool {
    tracing::error!(run = run.id, error = %error, "the state database went away during a run");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut pause = Duration::from_millis(500);
    loop {
        match mark(svc, run, since).await {
            Ok(marked) => return marked,
            Err(e) if !e.is_closed() && tokio::time::Instant::now() + pause < deadline => {
                tracing::debug!(run = run.id, error = %e, "still no state database; waiting to report the run");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                tracing::error!(run = run.id, error = %e, "gave up reporting a run stopped by a database outage");
                return false;
            }
        }
    }
}

async fn mark(svc: &Services, run: &Run, since: DateTime<Utc>) -> Result<bool, StoreError> {
    let cause = format!(
        "the state database was unavailable from {} UTC",
        crate::render::hhmm(since)
    );
    let stop = Interruption {
        detail: &cause,
        step_output: "its result could not be recorded: the state database was unavailable",
        kind: PostKind::Error,
    };
    interrupt(svc, run, &stop, |step, _| {
        let id = display_id(run.id);
        match step {
            Some(step) => format!(
                "⚠️ {id} /{} stopped during step {} ({}): {cause}, so warroom could not record \
                 what that step did and went no further. Nothing was re-run. Check that step's \
                 effect by hand before running /{} again.",
                run.command,
                step.idx + 1,
                step.name,
                run.command
            ),
            None => format!(
                "⚠️ {id} /{} stopped between steps: {cause}, so warroom went no further. Nothing \
                 was re-run; no step was half done. /status {id} shows what ran; type /{} again to \
                 go on from the start.",
                run.command, run.command
            ),
        }
    })
    .await
}

/// Why a run is being marked interrupted, as the run and its step in flight record it.
pub struct Interruption<'a> {
    /// The run's detail.
    pub detail: &'a str,
    /// The output of the step it was in, if any.
    pub step_output: &'a str,
    pub kind: PostKind,
}

/// Marks `run` interrupted (compare-and-set from `running`: one process reports
/// each), fails the step it was in, and says `say(step in flight, all steps)` on
/// its incident's timeline and in its channel. False if another process moved it
/// first. Shared by the crash recovery (`App::recover`) and [`stopped_by_outage`].
pub async fn interrupt(
    svc: &Services,
    run: &Run,
    stop: &Interruption<'_>,
    say: impl FnOnce(Option<&StepRecord>, &[StepRecord]) -> String,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let steps = svc.store.steps(run.id).await?;
    let step = steps.iter().find(|s| s.state == StepState::Running);
    if !svc
        .store
        .transition(
            run.id,
            RunState::Running,
            RunState::Interrupted,
            now,
            Some(stop.detail),
        )
        .await?
    {
        return Ok(false);
    }
    if let Some(step) = step {
        svc.store
            .step_transition(
                run.id,
                step.idx,
                StepState::Running,
                StepState::Failed,
                now,
                Some(stop.step_output),
            )
            .await?;
    }
    let text = say(step, &steps);
    svc.event(
        &run.incident_id,
        kind::RUN,
        None,
        &text,
        Some(run.id),
        step.map(|s| s.idx),
    )
    .await?;
    svc.send(&Post::new(&run.channel, stop.kind, text)).await;
    Ok(true)
}
