//! What drives one run: its services, its spec and its progress message, which
//! every state change re-renders in place; and how driving it ended.

use super::progress::progress_text;
use crate::chat::{MessageRef, Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::run::{Run, StepRecord};
use crate::services::Services;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded,
    Failed,
    /// Parked at a human checkpoint.
    Waiting,
    /// Another process holds the run.
    NotMine,
}

pub struct Driver<'a> {
    pub svc: &'a Services,
    pub spec: &'a CommandSpec,
    pub progress: Option<MessageRef>,
    /// Lines kept above the steps (who approved).
    pub note: String,
}

impl Driver<'_> {
    pub async fn refresh(&mut self, run_id: i64) -> Result<(Run, Vec<StepRecord>), Failure> {
        let run = self
            .svc
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| Failure::Internal(format!("run {run_id} vanished")))?;
        let steps = self.svc.store.steps(run_id).await?;
        let post = Post::new(
            &run.channel,
            PostKind::Progress,
            progress_text(&run, &steps, &self.note),
        );
        match &self.progress {
            Some(m) => self.svc.edit(m, &post).await,
            None => {
                if let Some(m) = self.svc.send(&post).await {
                    self.svc.store.set_progress_ref(run.id, &m.encode()).await?;
                    self.progress = Some(m);
                }
            }
        }
        Ok((run, steps))
    }
}
