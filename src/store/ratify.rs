//! Break-glass ratifications: a run that started on one person's word, and the
//! approvers asked to ratify it by a deadline. The state moves once, compare-and-set;
//! the ratifying votes are rows of `votes` with the plan [`RATIFY_PLAN`], so the audit
//! chain seals them like approvals.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{from_millis, millis, opt_from_millis, Store, StoreError};
use crate::model::user::Vote;

/// The `votes.plan` of a ratification (an approval's plan is a hash, never this).
pub const RATIFY_PLAN: &str = "ratify";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ratification {
    pub run_id: i64,
    pub incident_id: String,
    pub requested_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// `pending`, `ratified` or `unratified` (the deadline passed; escalated).
    pub state: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub message_ref: Option<String>,
}

const COLUMNS: &str =
    "run_id, incident_id, requested_at, due_at, state, decided_at, message_ref FROM ratifications";

fn ratification(r: &sqlx::any::AnyRow) -> Ratification {
    Ratification {
        run_id: r.get(0),
        incident_id: r.get(1),
        requested_at: from_millis(r.get(2)),
        due_at: from_millis(r.get(3)),
        state: r.get(4),
        decided_at: opt_from_millis(r.get(5)),
        message_ref: r.get(6),
    }
}

impl Store {
    pub async fn create_ratification(
        &self,
        run_id: i64,
        incident_id: &str,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO ratifications (run_id, incident_id, requested_at, due_at) \
             VALUES ($1, $2, $3, $4)",
        );
        sqlx::query(&sql)
            .bind(run_id)
            .bind(incident_id)
            .bind(millis(at))
            .bind(millis(due_at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn ratification(&self, run_id: i64) -> Result<Option<Ratification>, StoreError> {
        let sql = self.sql(&format!("SELECT {COLUMNS} WHERE run_id = $1"));
        let row = sqlx::query(&sql)
            .bind(run_id)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.as_ref().map(ratification))
    }

    /// Every ratification of an incident's runs, in run order.
    pub async fn incident_ratifications(
        &self,
        incident_id: &str,
    ) -> Result<Vec<Ratification>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {COLUMNS} WHERE incident_id = $1 ORDER BY run_id"
        ));
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(ratification).collect())
    }

    /// Pending ratifications whose deadline is at or before `now`.
    pub async fn lapsed_ratifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Ratification>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {COLUMNS} WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, run_id"
        ));
        let rows = sqlx::query(&sql)
            .bind(millis(now))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(ratification).collect())
    }

    /// Moves a pending ratification to `to`; false if another process decided it first.
    pub async fn decide_ratification(
        &self,
        run_id: i64,
        to: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE ratifications SET state = $1, decided_at = $2 \
             WHERE run_id = $3 AND state = 'pending'",
        );
        let done = sqlx::query(&sql)
            .bind(to)
            .bind(millis(at))
            .bind(run_id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_ratification_ref(&self, run_id: i64, r: &str) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE ratifications SET message_ref = $1 WHERE run_id = $2");
        sqlx::query(&sql)
            .bind(r)
            .bind(run_id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The ratifying votes on a run (role, when), in order.
    pub async fn ratify_votes(
        &self,
        run_id: i64,
    ) -> Result<Vec<(Vote, String, DateTime<Utc>)>, StoreError> {
        let sql = self.sql(
            "SELECT user_id, approve, role, at, groups FROM votes \
             WHERE run_id = $1 AND plan = $2 ORDER BY at, user_id",
        );
        let rows = sqlx::query(&sql)
            .bind(run_id)
            .bind(RATIFY_PLAN)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(super::runs::vote_row).collect())
    }
}
