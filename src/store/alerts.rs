//! Alerts as received (recorded before anything is done with them, deduplicated by
//! source and fingerprint, grouped by group key) and the incidents they opened or
//! joined.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{millis, Store, StoreError};
use crate::model::alert::{Alert, Seen};

impl Store {
    /// Records one delivery of `alert`: a new row, a repeat (same status and start:
    /// counted, nothing else), or a change (resolved, or fired again). Two
    /// processes recording the same change both update the row; the loser of the
    /// compare-and-set sees a repeat, so one of them acts on it.
    pub async fn record_alert(
        &self,
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> Result<Seen, StoreError> {
        let labels = serde_json::to_string(&alert.labels).unwrap_or_default();
        let annotations = serde_json::to_string(&alert.annotations).unwrap_or_default();
        let insert = self.sql(
            "INSERT INTO alerts (source, fingerprint, group_key, status, name, labels, annotations,
                                 starts_at, ends_at, incident_id, received, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, 1, $10, $10)
             ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&insert)
            .bind(alert.source)
            .bind(&alert.fingerprint)
            .bind(&alert.group_key)
            .bind(alert.status.as_str())
            .bind(alert.name())
            .bind(&labels)
            .bind(&annotations)
            .bind(millis(alert.starts_at))
            .bind(alert.ends_at.map(millis))
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        if done.rows_affected() == 1 {
            return Ok(Seen::New);
        }
        let sql = self.sql(
            "SELECT status, starts_at, incident_id FROM alerts WHERE source = $1 AND fingerprint = $2",
        );
        let row = sqlx::query(&sql)
            .bind(alert.source)
            .bind(&alert.fingerprint)
            .fetch_one(&mut *self.writing().await?)
            .await?;
        let (status, starts_at, incident_id): (String, i64, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        if status == alert.status.as_str() && starts_at == millis(alert.starts_at) {
            let sql = self.sql(
                "UPDATE alerts SET received = received + 1, last_seen = $3
                 WHERE source = $1 AND fingerprint = $2",
            );
            sqlx::query(&sql)
                .bind(alert.source)
                .bind(&alert.fingerprint)
                .bind(millis(now))
                .execute(&mut *self.writing().await?)
                .await?;
            return Ok(Seen::Repeat { incident_id });
        }
        let sql = self.sql(
            "UPDATE alerts SET status = $3, group_key = $4, labels = $5, annotations = $6,
                 starts_at = $7, ends_at = $8, received = received + 1, last_seen = $9
             WHERE source = $1 AND fingerprint = $2 AND status = $10 AND starts_at = $11",
        );
        let moved = sqlx::query(&sql)
            .bind(alert.source)
            .bind(&alert.fingerprint)
            .bind(alert.status.as_str())
            .bind(&alert.group_key)
            .bind(&labels)
            .bind(&annotations)
            .bind(millis(alert.starts_at))
            .bind(alert.ends_at.map(millis))
            .bind(millis(now))
            .bind(&status)
            .bind(starts_at)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(if moved.rows_affected() == 1 {
            Seen::Changed { incident_id }
        } else {
            Seen::Repeat { incident_id }
        })
    }

    /// The open incident an alert of this group opened or joined, if any.
    pub async fn group_incident(
        &self,
        source: &str,
        group_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql = self.sql(
            "SELECT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id
             WHERE a.source = $1 AND a.group_key = $2 AND i.status <> 'resolved'
             ORDER BY i.declared_at DESC LIMIT 1",
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(source)
            .bind(group_key)
            .fetch_optional(&mut *self.reading().await?)
            .await?)
    }

    /// Ties the alert to `incident_id`.
    pub async fn attach_alert(
        &self,
        source: &str,
        fingerprint: &str,
        incident_id: &str,
    ) -> Result<(), StoreError> {
        let sql =
            self.sql("UPDATE alerts SET incident_id = $3 WHERE source = $1 AND fingerprint = $2");
        sqlx::query(&sql)
            .bind(source)
            .bind(fingerprint)
            .bind(incident_id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// How many of the incident's alerts are still firing.
    pub async fn firing_alerts(&self, incident_id: &str) -> Result<i64, StoreError> {
        let sql =
            self.sql("SELECT COUNT(*) FROM alerts WHERE incident_id = $1 AND status = 'firing'");
        Ok(sqlx::query_scalar(&sql)
            .bind(incident_id)
            .fetch_one(&mut *self.reading().await?)
            .await?)
    }

    /// `(received, status)` of an alert: what tests and `/incident status` read.
    pub async fn alert_record(
        &self,
        source: &str,
        fingerprint: &str,
    ) -> Result<Option<(i64, String, Option<String>)>, StoreError> {
        let sql = self.sql(
            "SELECT received, status, incident_id FROM alerts WHERE source = $1 AND fingerprint = $2",
        );
        let row = sqlx::query(&sql)
            .bind(source)
            .bind(fingerprint)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// Every alert recorded: `(source, fingerprint, status, incident)`, oldest first.
    pub async fn alerts(
        &self,
    ) -> Result<Vec<(String, String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, fingerprint, status, incident_id FROM alerts ORDER BY first_seen",
        )
        .fetch_all(&mut *self.reading().await?)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }
}

/// What claiming a group found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupClaim {
    /// This process opens the group's incident.
    Mine,
    /// Another process is opening it (claimed, no incident yet).
    Opening,
}

impl Store {
    /// Claims `group_key` for opening its incident. A claim whose incident is
    /// resolved, or that named none for `stale` (its process died), is taken over
    /// by compare-and-set.
    pub async fn claim_alert_group(
        &self,
        source: &str,
        group_key: &str,
        now: DateTime<Utc>,
        stale: chrono::Duration,
    ) -> Result<GroupClaim, StoreError> {
        let sql = self.sql(
            "INSERT INTO alert_groups (source, group_key, incident_id, claimed_at)
             VALUES ($1, $2, NULL, $3) ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&sql)
            .bind(source)
            .bind(group_key)
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        if done.rows_affected() == 1 {
            return Ok(GroupClaim::Mine);
        }
        let sql = self.sql(
            "UPDATE alert_groups SET incident_id = NULL, claimed_at = $3
             WHERE source = $1 AND group_key = $2
               AND ((incident_id IS NULL AND claimed_at < $4)
                    OR EXISTS (SELECT 1 FROM incidents i
                               WHERE i.id = alert_groups.incident_id AND i.status = 'resolved'))",
        );
        let taken = sqlx::query(&sql)
            .bind(source)
            .bind(group_key)
            .bind(millis(now))
            .bind(millis(now - stale))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(if taken.rows_affected() == 1 {
            GroupClaim::Mine
        } else {
            GroupClaim::Opening
        })
    }

    /// Names the incident a claimed group opened.
    pub async fn set_group_incident(
        &self,
        source: &str,
        group_key: &str,
        incident_id: &str,
    ) -> Result<(), StoreError> {
        let sql = self
            .sql("UPDATE alert_groups SET incident_id = $3 WHERE source = $1 AND group_key = $2");
        sqlx::query(&sql)
            .bind(source)
            .bind(group_key)
            .bind(incident_id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The incident a group's claim names, open or not.
    pub async fn claimed_group_incident(
        &self,
        source: &str,
        group_key: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql =
            self.sql("SELECT incident_id FROM alert_groups WHERE source = $1 AND group_key = $2");
        let found: Option<Option<String>> = sqlx::query_scalar(&sql)
            .bind(source)
            .bind(group_key)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(found.flatten())
    }
}
