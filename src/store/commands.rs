//! The record of every received command, written before anything runs.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{millis, Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewCommand<'a> {
    pub received_at: DateTime<Utc>,
    pub platform: &'a str,
    pub channel: &'a str,
    pub user_id: &'a str,
    pub text: &'a str,
    /// The platform's delivery id (Slack retries resend it); `None` never collides.
    pub dedup_key: Option<&'a str>,
    /// Already known when it is recorded (a typo or a refusal answered in the
    /// ack); `None` while it is being handled.
    pub outcome: Option<CommandOutcome>,
    pub detail: Option<&'a str>,
    /// A refusal's line for the timeline of the channel's open incident, if it
    /// has one (written with the record's batch, after the ack).
    pub note: Option<&'a str>,
}

/// How a received command ended, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    Invalid,
    Denied,
    Accepted,
    Done,
    Failed,
    Error,
    /// Its handler stopped before it finished (see [`Store::orphaned_commands`]).
    Interrupted,
    /// Written after its user was told it was not recorded (the state database did
    /// not answer within the ack budget): it never runs.
    Unavailable,
}

impl CommandOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Invalid => "invalid",
            CommandOutcome::Denied => "denied",
            CommandOutcome::Accepted => "accepted",
            CommandOutcome::Done => "done",
            CommandOutcome::Failed => "failed",
            CommandOutcome::Error => "error",
            CommandOutcome::Interrupted => "interrupted",
            CommandOutcome::Unavailable => "unavailable",
        }
    }
}

/// A command whose handler stopped before it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanedCommand {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub channel: String,
    pub user_id: String,
    pub text: String,
}

impl Store {
    /// Says this process is alive at `now` (a task of [`Store::connect`] calls it
    /// every second; the time never moves back), and forgets processes not heard
    /// from in a day.
    pub async fn heartbeat(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO instances (id, seen_at) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET seen_at = CASE
                 WHEN excluded.seen_at > instances.seen_at THEN excluded.seen_at
                 ELSE instances.seen_at END",
        );
        sqlx::query(&sql)
            .bind(self.instance())
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        let sql = self.sql("DELETE FROM instances WHERE seen_at < $1");
        sqlx::query(&sql)
            .bind(millis(now - chrono::Duration::days(1)))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Commands of `platform` still being handled, received before `quiet_since`
    /// (and within the day before), whose handler has not said it is alive since
    /// then: it died with them.
    pub async fn orphaned_commands(
        &self,
        platform: &str,
        quiet_since: DateTime<Utc>,
    ) -> Result<Vec<OrphanedCommand>, StoreError> {
        let sql = self.sql(
            "SELECT c.id, c.received_at, c.channel, c.user_id, c.text FROM commands_received c
             LEFT JOIN instances i ON i.id = c.handler
             WHERE c.outcome = 'received' AND c.platform = $1
               AND c.received_at < $2 AND c.received_at >= $3
               AND (i.seen_at IS NULL OR i.seen_at < $2)
             ORDER BY c.id",
        );
        let rows = sqlx::query(&sql)
            .bind(platform)
            .bind(millis(quiet_since))
            .bind(millis(quiet_since - chrono::Duration::days(1)))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| OrphanedCommand {
                id: r.get(0),
                received_at: super::from_millis(r.get(1)),
                channel: r.get(2),
                user_id: r.get(3),
                text: r.get(4),
            })
            .collect())
    }

    /// Marks an orphaned command interrupted; false if it finished (or another
    /// process marked it) meanwhile.
    pub async fn interrupt_command(&self, id: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE commands_received SET outcome = $2,
                detail = 'the process handling it stopped'
             WHERE id = $1 AND outcome = 'received'",
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(CommandOutcome::Interrupted.as_str())
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a command. Returns `None` when the dedup key was already seen: the
    /// platform redelivered something already handled.
    pub async fn record_command(&self, c: &NewCommand<'_>) -> Result<Option<i64>, StoreError> {
        if let Some(key) = c.dedup_key {
            return self.recorder.record(c, key, None).await;
        }
        let sql = self.sql(
            "INSERT INTO commands_received (received_at, platform, channel, user_id, text, dedup_key, outcome, detail, handler)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (dedup_key) DO NOTHING
             RETURNING id",
        );
        let row = sqlx::query(&sql)
            .bind(millis(c.received_at))
            .bind(c.platform)
            .bind(c.channel)
            .bind(c.user_id)
            .bind(c.text)
            .bind(c.dedup_key)
            .bind(c.outcome.map_or("received", CommandOutcome::as_str))
            .bind(c.detail)
            .bind(self.instance())
            .fetch_optional(&mut *self.writing().await?)
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(row.map(|r| r.get::<i64, _>(0)))
    }

    /// [`Store::record_command`] answered by `deadline`: past it,
    /// [`StoreError::TooLate`], and the command is then never run (not written, or
    /// written with outcome `unavailable`), so a user told "not recorded" is told
    /// the truth. A command without a delivery id gets one of its own.
    pub async fn record_command_by(
        &self,
        c: &NewCommand<'_>,
        deadline: tokio::time::Instant,
    ) -> Result<Option<i64>, StoreError> {
        let own;
        let key = match c.dedup_key {
            Some(key) => key,
            None => {
                own = format!("once:{}", uuid::Uuid::new_v4());
                &own
            }
        };
        let c = NewCommand {
            dedup_key: Some(key),
            ..*c
        };
        self.recorder.record(&c, key, Some(deadline)).await
    }

    pub async fn finish_command(
        &self,
        id: i64,
        outcome: CommandOutcome,
        detail: &str,
        run_id: Option<i64>,
    ) -> Result<(), StoreError> {
        // With the others finishing now, in one statement (see `recorder`).
        self.recorder
            .finish(id, outcome.as_str(), detail, run_id)
            .await
    }

    /// `(text, outcome, detail)` of every recorded command, oldest first.
    pub async fn commands(&self) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT text, outcome, detail FROM commands_received ORDER BY id")
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}
