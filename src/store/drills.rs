//! Drills: each rehearsal's outcome (`drill_runs`, one row per drill run, written
//! when it ends) and each configured drill's clock (`drill_clock`: first seen, and
//! the due date already reminded, moved by compare-and-set so replicas remind once).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{from_millis, millis, opt_from_millis, Store, StoreError};

/// One finished drill run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillRun {
    pub run_id: i64,
    pub name: String,
    /// The run's end state: `succeeded`, `failed`, `cancelled`, ...
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

fn drill_run(r: &sqlx::any::AnyRow) -> DrillRun {
    DrillRun {
        run_id: r.get(0),
        name: r.get(1),
        outcome: r.get(2),
        started_at: from_millis(r.get(3)),
        finished_at: from_millis(r.get(4)),
    }
}

const COLUMNS: &str = "run_id, name, outcome, started_at, finished_at FROM drill_runs";

impl Store {
    /// Records a drill run's end; a second record of the same run changes nothing.
    pub async fn record_drill(&self, d: &DrillRun) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO drill_runs (run_id, name, outcome, started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING",
        );
        sqlx::query(&sql)
            .bind(d.run_id)
            .bind(&d.name)
            .bind(&d.outcome)
            .bind(millis(d.started_at))
            .bind(millis(d.finished_at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The newest run of a drill, and its newest successful one.
    pub async fn last_drills(
        &self,
        name: &str,
    ) -> Result<(Option<DrillRun>, Option<DrillRun>), StoreError> {
        let newest = |extra: &str| {
            self.sql(&format!(
                "SELECT {COLUMNS} WHERE name = $1{extra} ORDER BY finished_at DESC LIMIT 1"
            ))
        };
        let last = sqlx::query(&newest(""))
            .bind(name)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        let ok = sqlx::query(&newest(" AND outcome = 'succeeded'"))
            .bind(name)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok((last.as_ref().map(drill_run), ok.as_ref().map(drill_run)))
    }

    /// Drill runs that finished in `[since, until)`, oldest first (`warroom report`).
    pub async fn drills_between(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<DrillRun>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {COLUMNS} WHERE finished_at >= $1 AND finished_at < $2 ORDER BY finished_at"
        ));
        let rows = sqlx::query(&sql)
            .bind(millis(since))
            .bind(millis(until))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(drill_run).collect())
    }

    /// When a drill was first seen (recorded now if never), and the due date last
    /// reminded.
    pub async fn drill_clock(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), StoreError> {
        // Read first: the tick asks every second, and the row exists after the
        // first time, so the write lock is not taken for nothing (issue 18).
        let sql = self.sql("SELECT since, reminded_due FROM drill_clock WHERE name = $1");
        let seen = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        let row = match seen {
            Some(row) => row,
            None => {
                let insert = self.sql(
                    "INSERT INTO drill_clock (name, since) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                );
                sqlx::query(&insert)
                    .bind(name)
                    .bind(millis(now))
                    .execute(&mut *self.writing().await?)
                    .await?;
                sqlx::query(&sql)
                    .bind(name)
                    .fetch_one(&mut *self.reading().await?)
                    .await?
            }
        };
        Ok((from_millis(row.get(0)), opt_from_millis(row.get(1))))
    }

    /// Claims the reminder of one due date: true for exactly one caller.
    pub async fn claim_drill_reminder(
        &self,
        name: &str,
        due: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE drill_clock SET reminded_due = $2 \
             WHERE name = $1 AND (reminded_due IS NULL OR reminded_due <> $2)",
        );
        let done = sqlx::query(&sql)
            .bind(name)
            .bind(millis(due))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
