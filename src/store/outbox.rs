//! Outbox rows: enqueue, claim (one deliverer per row), and record the outcome.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{from_millis, millis, Store, StoreError};

/// Rows per batched outbox statement (two parameters each at most).
const OUTBOX_BATCH: usize = 500;

/// A row claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    /// `post` or `update`.
    pub op: String,
    /// For an update: the outbox id of the post it edits.
    pub target: Option<i64>,
    /// Counts toward the channel's pace (public posts and edits, not private replies).
    pub paced: bool,
    pub payload: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// How many messages of a split post the platform has taken already.
    pub parts_done: i64,
    /// The platform's id of the first message, once it went out.
    pub platform_ref: Option<String>,
    /// Its lease lapsed while another deliverer held it (that process died, perhaps
    /// after the platform took the message).
    pub taken_over: bool,
}

/// A post or edit to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewOutbox<'a> {
    pub platform: &'a str,
    pub channel: &'a str,
    /// `post` or `update`.
    pub op: &'a str,
    /// For an update: the outbox id of the post it edits.
    pub target: Option<i64>,
    /// Counts toward the channel's pace.
    pub paced: bool,
    /// The serialized `Post`.
    pub payload: &'a str,
}

impl Store {
    /// Queues a post or an edit; its id once it is committed. Rows queued at the
    /// same time share one INSERT (see `recorder`).
    pub async fn enqueue(&self, n: &NewOutbox<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.recorder.queue(n, millis(now)).await
    }

    /// Resolves when a row has been queued since the last call (or at once if one
    /// was): the deliverer wakes for it instead of at its next tick.
    pub async fn outbox_queued(&self) {
        self.outbox_queued.notified().await;
    }

    /// Due rows of `platform`, oldest first (not yet claimed). The `state IN`
    /// term is the partial index `outbox_waiting`'s own, so the pass reads only
    /// waiting rows however many were sent before.
    pub async fn due_outbox(
        &self,
        platform: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = self.sql(
            "SELECT id, channel, op, target, payload, attempts, created_at, paced, parts_done,
                    platform_ref, state FROM outbox
             WHERE platform = $3 AND state IN ('pending', 'sending') AND not_before <= $1
               AND (state = 'pending' OR lease_until < $1)
             ORDER BY id LIMIT $2",
        );
        let rows = sqlx::query(&sql)
            .bind(millis(now))
            .bind(limit)
            .bind(platform)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| OutboxRow {
                id: r.get(0),
                channel: r.get(1),
                op: r.get(2),
                target: r.get(3),
                payload: r.get(4),
                attempts: r.get(5),
                created_at: from_millis(r.get(6)),
                paced: r.get::<i64, _>(7) != 0,
                parts_done: r.get(8),
                platform_ref: r.get(9),
                taken_over: r.get::<String, _>(10) == "sending",
            })
            .collect())
    }

    /// How many of `platform`'s rows are still to be sent, due or not (a retry
    /// backing off, a post waiting for its channel's pace).
    pub async fn outbox_pending(&self, platform: &str) -> Result<i64, StoreError> {
        let sql = self.sql(
            "SELECT COUNT(*) FROM outbox WHERE platform = $1 AND state IN ('pending', 'sending')",
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .bind(platform)
            .fetch_one(&mut *self.reading().await?)
            .await?;
        Ok(n)
    }

    /// Takes a row for delivery until `until`; false if another deliverer has it.
    pub async fn claim_outbox(
        &self,
        id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = 'sending', lease_until = $1
             WHERE id = $2 AND (state = 'pending' OR (state = 'sending' AND lease_until < $3))",
        );
        let done = sqlx::query(&sql)
            .bind(millis(until))
            .bind(id)
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the rows of `ids` that no other deliverer holds, in one statement;
    /// returns those it took.
    pub async fn claim_outbox_many(
        &self,
        ids: &[i64],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = self.sql(&format!(
            "UPDATE outbox SET state = 'sending', lease_until = $1
             WHERE id IN ({}) AND (state = 'pending' OR (state = 'sending' AND lease_until < $2))
             RETURNING id",
            list.join(", ")
        ));
        let mut query = sqlx::query_scalar(&sql)
            .bind(millis(until))
            .bind(millis(now));
        for id in ids {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(&mut *self.writing().await?).await?)
    }

    /// Marks delivered rows sent, each with its platform id, in one statement.
    pub async fn outbox_sent_many(
        &self,
        sent: &[(i64, Option<String>)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in sent.chunks(OUTBOX_BATCH) {
            // By primary key: an UPDATE ... FROM (VALUES ...) join was planned as a
            // scan of the whole outbox (100k sent rows after a year).
            let cases: Vec<String> = (0..chunk.len())
                .map(|i| format!("WHEN ${} THEN ${}", 2 * i + 2, 2 * i + 3))
                .collect();
            let ids: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", 2 * i + 2))
                .collect();
            let sql = self.sql(&format!(
                "UPDATE outbox SET state = 'sent', platform_ref = CASE id {} END, sent_at = $1,
                        lease_until = NULL
                 WHERE id IN ({})",
                cases.join(" "),
                ids.join(", ")
            ));
            let mut query = sqlx::query(&sql).bind(millis(now));
            for (id, platform_ref) in chunk {
                query = query.bind(*id).bind(platform_ref.as_deref());
            }
            query.execute(&mut *self.writing().await?).await?;
        }
        Ok(())
    }

    /// Puts rows back without counting an attempt, in one statement.
    pub async fn outbox_defer_many(
        &self,
        ids: &[i64],
        not_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(OUTBOX_BATCH) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = self.sql(&format!(
                "UPDATE outbox SET state = 'pending', not_before = $1, lease_until = NULL
                 WHERE id IN ({})",
                list.join(", ")
            ));
            let mut query = sqlx::query(&sql).bind(millis(not_before));
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *self.writing().await?).await?;
        }
        Ok(())
    }

    pub async fn outbox_sent(
        &self,
        id: i64,
        platform_ref: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE outbox SET state = 'sent', platform_ref = $1, sent_at = $2, lease_until = NULL WHERE id = $3");
        sqlx::query(&sql)
            .bind(platform_ref)
            .bind(millis(now))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// One more message of a split post went out (the first one's id with it), and
    /// counts toward the channel's pace.
    pub async fn outbox_part_sent(
        &self,
        id: i64,
        parts_done: i64,
        platform_ref: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET parts_done = $1, platform_ref = COALESCE($2, platform_ref),
                    sent_at = $3 WHERE id = $4",
        );
        sqlx::query(&sql)
            .bind(parts_done)
            .bind(platform_ref)
            .bind(millis(now))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Who to tell that a post in `channel` was refused for good: whoever typed the
    /// newest command there on `platform` up to `at` (the post answers it, or comes
    /// from the run it started), and the channel's newest incident, open or not.
    pub async fn undelivered_context(
        &self,
        platform: &str,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let sql = self.sql(
            "SELECT user_id FROM commands_received
             WHERE platform = $1 AND channel = $2 AND received_at <= $3
             ORDER BY received_at DESC, id DESC LIMIT 1",
        );
        let user: Option<String> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(channel)
            .bind(millis(at))
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        let sql = self.sql(
            "SELECT id FROM incidents WHERE platform = $1 AND channel = $2
             ORDER BY declared_at DESC LIMIT 1",
        );
        let incident: Option<String> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(channel)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok((user, incident))
    }

    /// Puts a row back for another attempt at `not_before` (counts an attempt).
    pub async fn outbox_retry(
        &self,
        id: i64,
        not_before: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, not_before = $1, last_error = $2, lease_until = NULL WHERE id = $3",
        );
        sqlx::query(&sql)
            .bind(millis(not_before))
            .bind(error)
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Puts a row back without counting an attempt (waiting for pacing or its post).
    pub async fn outbox_defer(&self, id: i64, not_before: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE outbox SET state = 'pending', not_before = $1, lease_until = NULL WHERE id = $2");
        sqlx::query(&sql)
            .bind(millis(not_before))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = 'failed', last_error = $1, lease_until = NULL WHERE id = $2",
        );
        sqlx::query(&sql)
            .bind(error)
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// (state, platform ref) of a row.
    pub async fn outbox_state(
        &self,
        id: i64,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let sql = self.sql("SELECT state, platform_ref FROM outbox WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Whether a newer edit of the same message is waiting: then this one need not
    /// be sent at all, since only the last text of a message matters.
    /// Reads only `platform`'s waiting rows after `id` (`outbox_waiting`), not
    /// every row sent since.
    pub async fn outbox_superseded(
        &self,
        platform: &str,
        id: i64,
        target: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "SELECT COUNT(*) FROM outbox
             WHERE platform = $1 AND id > $2 AND state IN ('pending', 'sending')
               AND op = 'update' AND target = $3",
        );
        let newer: i64 = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(id)
            .bind(target)
            .fetch_one(&mut *self.reading().await?)
            .await?;
        Ok(newer > 0)
    }

    /// Takes the next slot of `bucket` on `platform` (compare-and-set): true if the
    /// bucket was free at `now`, and then nothing else of it goes before `next`.
    /// False if another delivery (any replica) holds it, or a 429 said to wait.
    pub async fn take_pace(
        &self,
        platform: &str,
        bucket: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO outbox_pace (platform, bucket, not_before) VALUES ($1, $2, $3)
             ON CONFLICT (platform, bucket) DO UPDATE SET not_before = excluded.not_before
             WHERE outbox_pace.not_before <= $4",
        );
        let done = sqlx::query(&sql)
            .bind(platform)
            .bind(bucket)
            .bind(millis(next))
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The oldest of `platform`'s posts that failed and waits to be retried: when
    /// it was made, how many attempts failed, and the last error. `/healthz` says
    /// the platform is down when it has failed for a while. (The `state IN` term
    /// is `outbox_waiting`'s, so only waiting rows are read.)
    pub async fn outbox_trouble(
        &self,
        platform: &str,
    ) -> Result<Option<(DateTime<Utc>, i64, Option<String>)>, StoreError> {
        let sql = self.sql(
            "SELECT created_at, attempts, last_error FROM outbox
             WHERE platform = $1 AND state IN ('pending', 'sending') AND state = 'pending'
               AND attempts > 0
             ORDER BY id LIMIT 1",
        );
        let row: Option<(i64, i64, Option<String>)> = sqlx::query_as(&sql)
            .bind(platform)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.map(|(at, n, e)| (from_millis(at), n, e)))
    }

    /// The method buckets of `platform` held past `now` (a 429's `Retry-After`),
    /// with when each is free: one read per delivery pass.
    pub async fn method_holds(
        &self,
        platform: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let sql = self.sql(
            "SELECT bucket, not_before FROM outbox_pace
             WHERE platform = $1 AND bucket >= 'method:' AND bucket < 'method;'
               AND not_before > $2",
        );
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
            .bind(platform)
            .bind(millis(now))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(b, at)| (b, from_millis(at)))
            .collect())
    }

    /// When `bucket` on `platform` is free again (`None`: it never was taken).
    pub async fn pace(
        &self,
        platform: &str,
        bucket: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql =
            self.sql("SELECT not_before FROM outbox_pace WHERE platform = $1 AND bucket = $2");
        let at: Option<i64> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(bucket)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(at.map(from_millis))
    }

    /// Nothing of `bucket` goes before `until` (a 429's Retry-After); never moves
    /// an existing wait earlier.
    pub async fn hold_pace(
        &self,
        platform: &str,
        bucket: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO outbox_pace (platform, bucket, not_before) VALUES ($1, $2, $3)
             ON CONFLICT (platform, bucket) DO UPDATE SET not_before = CASE
               WHEN outbox_pace.not_before < excluded.not_before THEN excluded.not_before
               ELSE outbox_pace.not_before END",
        );
        sqlx::query(&sql)
            .bind(platform)
            .bind(bucket)
            .bind(millis(until))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Whether an earlier public post of the same channel is still to be delivered
    /// (waiting or in flight, here or in another replica): then this one waits
    /// behind it, so a channel's messages appear in the order they were queued. An
    /// earlier edit holds nothing back: it changes a message already there, and
    /// one that keeps failing would otherwise hold every later post of its channel
    /// (the issue 14 soak saw a channel wait minutes behind a failing progress
    /// edit). An edit still waits for its own post (`deliver`).
    pub async fn outbox_behind(
        &self,
        platform: &str,
        channel: &str,
        id: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = self.sql(
            "SELECT MIN(not_before) FROM outbox
             WHERE platform = $1 AND channel = $2 AND id < $3 AND paced = 1
               AND op = 'post' AND state IN ('pending', 'sending')",
        );
        let at: Option<i64> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(channel)
            .bind(id)
            .fetch_one(&mut *self.reading().await?)
            .await?;
        Ok(at.map(from_millis))
    }
}
