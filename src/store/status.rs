//! What stakeholders were told (`status_posts`), for the status page, and the
//! incidents it lists.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{from_millis, millis, Store, StoreError};

/// One stakeholder message as it reads now (a burst's edits replace its text).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPost {
    pub incident_id: String,
    pub posted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub text: String,
}

impl Store {
    /// Records a stakeholder message, or, for an edit within a burst, replaces the
    /// text of the incident's newest one (the message the burst edits).
    pub async fn record_status_post(
        &self,
        incident_id: &str,
        text: &str,
        edit: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if edit {
            let sql = self.sql(
                "UPDATE status_posts SET text = $1, updated_at = $2 WHERE id =
                   (SELECT MAX(id) FROM status_posts WHERE incident_id = $3)",
            );
            let done = sqlx::query(&sql)
                .bind(text)
                .bind(millis(at))
                .bind(incident_id)
                .execute(&mut *self.writing().await?)
                .await?;
            if done.rows_affected() == 1 {
                return Ok(());
            }
        }
        let sql = self.sql(
            "INSERT INTO status_posts (incident_id, posted_at, updated_at, text)
             VALUES ($1, $2, $2, $3)",
        );
        sqlx::query(&sql)
            .bind(incident_id)
            .bind(millis(at))
            .bind(text)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The stakeholder messages about incidents open now or resolved since `since`,
    /// oldest first.
    pub async fn status_posts_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<StatusPost>, StoreError> {
        let sql = self.sql(
            "SELECT incident_id, posted_at, updated_at, text FROM status_posts
             WHERE incident_id IN (
               SELECT id FROM incidents WHERE status <> 'resolved'
               UNION
               SELECT id FROM incidents WHERE resolved_at >= $1 AND status = 'resolved')
             ORDER BY id",
        );
        let rows = sqlx::query(&sql)
            .bind(millis(since))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| StatusPost {
                incident_id: r.get(0),
                posted_at: from_millis(r.get(1)),
                updated_at: from_millis(r.get(2)),
                text: r.get(3),
            })
            .collect())
    }
}

/// What `/metrics` samples from the state database at each scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Open incidents by severity.
    pub open_incidents: Vec<(String, i64)>,
    /// Outbox rows not yet delivered, by platform, with the oldest one's age in ms.
    pub outbox: Vec<(String, i64, i64)>,
}

impl Store {
    pub async fn sample(&self, now: DateTime<Utc>) -> Result<Sample, StoreError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity",
        )
        .fetch_all(&mut *self.reading().await?)
        .await?;
        let open_incidents = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let rows = sqlx::query(
            "SELECT platform, COUNT(*), MIN(created_at) FROM outbox
             WHERE state IN ('pending', 'sending') GROUP BY platform",
        )
        .fetch_all(&mut *self.reading().await?)
        .await?;
        let outbox = rows
            .iter()
            .map(|r| {
                let oldest: i64 = r.get(2);
                (r.get(0), r.get(1), (millis(now) - oldest).max(0))
            })
            .collect();
        Ok(Sample {
            open_incidents,
            outbox,
        })
    }
}
