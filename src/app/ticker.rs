//! The application's heartbeat: every second, fire the incident clocks' due
//! timers, expire approval requests whose window passed (their message then says
//! so without anyone pressing a button), and report commands and runs that died
//! with their process; remind the channel of overdue drills; and seal the audit
//! trail.

use std::time::Duration;

use chrono::Utc;

use super::App;
use crate::incident::clock::{fire_due, Clock};
use crate::model::run::RunState;
use crate::runbook::approval::expire;
use crate::store::StoreError;

/// How old a recorded row must be before the tick seals it.
const SEAL_HORIZON: Duration = Duration::from_secs(2);

/// Fires every timer due by the clock's now, closes approval requests whose
/// window has passed (their message then says so without anyone pressing a
/// button), and reports commands and runs that died with their process. Returns
/// how many timers fired.
pub async fn tick(app: &App, clock: &dyn Clock) -> Result<usize, StoreError> {
    let now = clock.now();
    let n = fire_due(app, now).await?;
    if let Err(e) = app.report_lost_commands(Utc::now()).await {
        tracing::warn!(error = %e, "cannot check for commands lost with their process");
    }
    // Not only at start: a run whose process died while a replica (or the next
    // process, started before the lease lapsed) lives on is reported once its
    // step's lease lapses.
    if let Err(e) = app.recover().await {
        tracing::warn!(error = %e, "cannot check for interrupted runs");
    }
    // Seals what was recorded up to a moment ago into the audit chain (rows of
    // transactions still committing are sealed on a later tick).
    let horizon = crate::model::duration::before(Utc::now(), SEAL_HORIZON);
    if let Err(e) = app.store.seal_audit(horizon).await {
        tracing::warn!(error = %e, "cannot seal the audit trail");
    }
    // Break-glass stops nobody ratified in time escalate (simulated clock in tests).
    if let Err(e) = crate::runbook::breakglass::sweep(app, now).await {
        tracing::warn!(error = %e, "cannot check break-glass ratifications");
    }
    // A drill past its due date is told to the incident channel, once per due date.
    if let Err(e) = crate::runbook::drill::remind_overdue(app, now).await {
        tracing::warn!(error = %e, "cannot check which drills are due");
    }
    // At start and then hourly in each process, what grows without bound is
    // pruned (deletes are idempotent, so replicas need no coordination).
    if prune_due() {
        match app.store.prune(Utc::now()).await {
            Ok(p) if p.timers + p.outbox > 0 => {
                tracing::info!(
                    timers = p.timers,
                    outbox = p.outbox,
                    "pruned finished timers and sent posts"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot prune finished timers and sent posts"),
        }
    }
    for run in app.store.runs_in_state(RunState::AwaitingApproval).await? {
        let lapsed = run.approval_expires_at.is_some_and(|t| t < now);
        if lapsed && run.requested_by.platform == app.platform {
            if let Err(e) = expire(app, &run).await {
                tracing::warn!(error = %e, run = run.id, "cannot expire an approval request");
            }
        }
    }
    Ok(n)
}

/// How often a process prunes.
const PRUNE_EVERY: i64 = 3600;

/// True on the first tick of a process and once an hour after.
fn prune_due() -> bool {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    (last == i64::MIN || now - last >= PRUNE_EVERY)
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// Fires due timers every second until `stop` says so.
pub async fn run(app: &App, clock: &dyn Clock, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = tick(app, clock).await {
            tracing::warn!(error = %e, "incident clocks could not fire");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
}
