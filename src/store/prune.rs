//! Keeping what grows without bound from slowing what runs every second (issue 18):
//! timers that fired or were cancelled, and sent outbox rows nothing can refer to
//! again (edits, and private replies, which no platform lets a bot edit), are
//! deleted once they are a week old. Nothing read later needs them: the timeline
//! keeps what each timer said and the platforms keep what was posted. A public
//! post's row stays, since a later edit (a checkpoint confirmed days later) finds
//! the platform's message id in it; undelivered and failed rows stay too (they are
//! evidence of what did not reach anyone).

use chrono::{DateTime, Utc};

use super::{millis, Store, StoreError};

/// How long finished timers and sent posts are kept.
pub const KEEP: chrono::Duration = chrono::Duration::days(7);

/// What one prune removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub timers: u64,
    pub outbox: u64,
}

impl Store {
    /// Deletes finished timers and sent outbox rows older than [`KEEP`] at `now`.
    pub async fn prune(&self, now: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let before = millis(now - KEEP);
        let timers = sqlx::query(&self.sql(
            "DELETE FROM timers WHERE due_at < $1 AND (fired_at IS NOT NULL OR cancelled = 1)",
        ))
        .bind(before)
        .execute(&mut *self.writing().await?)
        .await?
        .rows_affected();
        let outbox = sqlx::query(&self.sql(
            "DELETE FROM outbox WHERE state = 'sent' AND sent_at < $1 AND (op = 'update' OR paced = 0)",
        ))
        .bind(before)
        .execute(&mut *self.writing().await?)
        .await?
        .rows_affected();
        Ok(Pruned { timers, outbox })
    }
}
