//! Nothing vanishes with a process: commands accepted by a process that died are
//! reported to their users, and runs whose step outlived its lease are marked
//! interrupted and said in their channel. Never re-run: a human decides.

use chrono::Utc;

use super::{App, Incoming, HANDLER_QUIET};
use crate::chat::PostKind;
use crate::model::duration::before;
use crate::model::incident::kind;
use crate::model::run::{display_id, StepRecord, StepState};
use crate::model::user::UserId;
use crate::render::escape;
use crate::runbook::outage::{interrupt, Interruption};
use crate::store::StoreError;

impl App {
    /// Reports the commands of this platform that were accepted but died with the
    /// process handling them (kill -9, OOM, a deploy): each is marked interrupted
    /// once (whichever replica gets there first) and its user told, so no accepted
    /// command vanishes silently. The clock calls this every second with the
    /// wall-clock time (heartbeats are real time, whatever the incident clock says).
    pub async fn report_lost_commands(
        &self,
        now: chrono::DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let quiet_since = before(now, HANDLER_QUIET);
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

    /// Finds runs whose process is gone (their lease lapsed, whatever their steps
    /// were doing), marks them interrupted (compare-and-set: one replica reports
    /// each) and says in their channel where they stopped. They are never re-run
    /// automatically: a half-applied step needs a human. At start and on every
    /// clock tick.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let now = Utc::now();
        let orphans = self
            .store
            .orphaned_runs(now, before(now, RUN_QUIET))
            .await?;
        let mut n = 0;
        for run in orphans
            .into_iter()
            .filter(|r| r.requested_by.platform == self.platform)
        {
            let stop = Interruption {
                detail: "the process running it stopped",
                step_output: "interrupted: the process stopped while this step ran",
                kind: PostKind::Info,
            };
            let told = interrupt(self, &run, &stop, |step, steps| {
                let id = display_id(run.id);
                match step {
                    Some(step) => format!(
                        "⚠️ {id} /{} was interrupted during step {} ({}): warroom stopped while \
                         it ran. Nothing was re-run. Check that step's effect by hand before \
                         running /{} again.",
                        run.command,
                        step.idx + 1,
                        step.name,
                        run.command
                    ),
                    None => format!(
                        "⚠️ {id} /{} was interrupted {}: warroom stopped while it ran. Nothing \
                         was re-run; no step was half done. /status {id} shows what ran; type /{} \
                         again to run it from the start.",
                        run.command,
                        where_it_stopped(steps),
                        run.command
                    ),
                }
            })
            .await?;
            if !told {
                continue;
            }
            n += 1;
        }
        Ok(n)
    }
}

/// How long a running run that never took a lease may stay still before it is
/// taken for dead (the engine claims it within milliseconds of starting it).
const RUN_QUIET: std::time::Duration = std::time::Duration::from_secs(120);

/// Where a run with no step in flight stopped: before its first step, between
/// two, or after its last (before it was marked finished).
fn where_it_stopped(steps: &[StepRecord]) -> String {
    let main: Vec<&StepRecord> = steps.iter().filter(|s| s.phase == "main").collect();
    let done = |s: &&StepRecord| matches!(s.state, StepState::Succeeded | StepState::Skipped);
    match main.iter().position(|s| !done(s)) {
        None => "after its last step, before it was marked finished".to_string(),
        Some(0) => format!("before its first step ({})", main[0].name),
        Some(next) => format!(
            "between step {} ({}) and step {} ({})",
            next,
            main[next - 1].name,
            next + 1,
            main[next].name
        ),
    }
}
