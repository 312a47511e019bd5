//! Incidents and the append-only timeline.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, millis, opt_from_millis, Store, StoreError};
use crate::model::incident::{format_id, Incident, NewEvent, TimelineEvent};

const INCIDENT_COLUMNS: &str = "id, title, severity, status, channel, commander, detected_at, \
     declared_at, mitigated_at, resolved_at, impact, acked_by, acked_at, last_update_at, component";

fn incident(r: &AnyRow) -> Incident {
    Incident {
        id: r.get(0),
        title: r.get(1),
        severity: r.get(2),
        status: r.get(3),
        channel: r.get(4),
        commander: r.get(5),
        detected_at: from_millis(r.get(6)),
        declared_at: from_millis(r.get(7)),
        mitigated_at: opt_from_millis(r.get(8)),
        resolved_at: opt_from_millis(r.get(9)),
        impact: r.get(10),
        acked_by: r.get(11),
        acked_at: opt_from_millis(r.get(12)),
        last_update_at: opt_from_millis(r.get(13)),
        component: r.get(14),
    }
}

impl Store {
    /// The incident still open in `channel`, if any (the newest one).
    pub async fn open_incident(&self, channel: &str) -> Result<Option<Incident>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE channel = $1 AND status <> 'resolved' ORDER BY declared_at DESC LIMIT 1"
        ));
        let row = sqlx::query(&sql)
            .bind(channel)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.as_ref().map(incident))
    }

    /// Incidents open now (any platform) or resolved since `since`, newest first:
    /// what the status page lists.
    pub async fn incidents_since(&self, since: DateTime<Utc>) -> Result<Vec<Incident>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status <> 'resolved'
             UNION ALL
             SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE resolved_at >= $1 AND status = 'resolved'
             ORDER BY declared_at DESC"
        ));
        let rows = sqlx::query(&sql)
            .bind(millis(since))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(incident).collect())
    }

    /// Incidents detected since `since`, oldest first (`warroom report`).
    pub async fn incidents_detected_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Incident>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE detected_at >= $1 ORDER BY detected_at"
        ));
        let rows = sqlx::query(&sql)
            .bind(millis(since))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(incident).collect())
    }

    /// Every incident still open on `platform`, oldest first.
    pub async fn open_incidents(&self, platform: &str) -> Result<Vec<Incident>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE platform = $1 AND status <> 'resolved' ORDER BY declared_at"
        ));
        let rows = sqlx::query(&sql)
            .bind(platform)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(incident).collect())
    }

    /// Where a backfill of `platform`'s channel history should start: for each
    /// open incident's channel, the newest message recorded there a minute or more
    /// before now, or the hour before detection (the lead-up the post-mortem
    /// shows). Not the very newest: messages recorded live as a connection comes
    /// back would hide the gap before them. The overlap is recorded once.
    pub async fn history_gaps(
        &self,
        platform: &str,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let settled = Utc::now() - chrono::Duration::minutes(1);
        let mut out = Vec::new();
        for incident in self.open_incidents(platform).await? {
            let window = incident.detected_at - chrono::Duration::hours(1);
            let latest = self
                .latest_message_at(platform, &incident.channel, settled)
                .await?;
            out.push((incident.channel, latest.map_or(window, |l| l.max(window))));
        }
        Ok(out)
    }

    pub async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"
        ));
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(row.as_ref().map(incident))
    }

    /// Opens an incident on `platform` (whose process runs its clocks) with the next `INC-YYYYMMDD-NNN` id of its day.
    pub async fn create_incident(
        &self,
        title: &str,
        severity: &str,
        channel: &str,
        platform: &str,
        at: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let day = at.date_naive();
        let day_key = day.format("%Y%m%d").to_string();
        // Two replicas may pick the same number; the UNIQUE (day, seq) makes one retry.
        for _ in 0..5 {
            let sql = self.sql("SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents WHERE day = $1");
            let seq: i64 = sqlx::query_scalar(&sql)
                .bind(&day_key)
                .fetch_one(&mut *self.writing().await?)
                .await?;
            let id = format_id(day, seq);
            let sql = self.sql(
                "INSERT INTO incidents (id, day, seq, title, severity, status, channel, detected_at, declared_at, platform)
                 VALUES ($1, $2, $3, $4, $5, 'investigating', $6, $7, $7, $8)
                 ON CONFLICT DO NOTHING",
            );
            let done = sqlx::query(&sql)
                .bind(&id)
                .bind(&day_key)
                .bind(seq)
                .bind(title)
                .bind(severity)
                .bind(channel)
                .bind(millis(at))
                .bind(platform)
                .execute(&mut *self.writing().await?)
                .await?;
            if done.rows_affected() == 1 {
                return self.incident(&id).await?.ok_or(StoreError::Corrupt {
                    table: "incidents",
                    what: format!("{id} vanished after insert"),
                });
            }
        }
        Err(StoreError::Corrupt {
            table: "incidents",
            what: "could not allocate an incident number".into(),
        })
    }

    pub async fn set_incident_status(
        &self,
        id: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let before = self.incident(id).await?;
        let sql = self.sql(
            "UPDATE incidents SET status = $1,
               mitigated_at = CASE WHEN $1 IN ('monitoring', 'resolved') AND mitigated_at IS NULL THEN $2 ELSE mitigated_at END,
               resolved_at = CASE WHEN $1 = 'resolved' THEN $2 ELSE resolved_at END
             WHERE id = $3",
        );
        sqlx::query(&sql)
            .bind(status)
            .bind(millis(at))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        // Time to mitigate and to resolve, by severity, observed where every path
        // (a runbook's `sets_status`, `/incident state`, `/incident resolve`) goes.
        if let Some(i) = before {
            let sev = crate::model::metric::severity(&i.severity);
            let secs = (at - i.detected_at).num_milliseconds().max(0) as f64 / 1000.0;
            let mitigates = matches!(status, "monitoring" | "resolved");
            if mitigates && i.mitigated_at.is_none() {
                metrics::histogram!("warroom_time_to_mitigate_seconds", "severity" => sev)
                    .record(secs);
            }
            if status == "resolved" && i.resolved_at.is_none() {
                metrics::histogram!("warroom_time_to_resolve_seconds", "severity" => sev)
                    .record(secs);
            }
        }
        Ok(())
    }

    pub async fn append_event(
        &self,
        incident_id: &str,
        at: DateTime<Utc>,
        e: &NewEvent<'_>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO timeline (incident_id, at, kind, actor, text, run_id, step_idx)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        );
        sqlx::query(&sql)
            .bind(incident_id)
            .bind(millis(at))
            .bind(e.kind)
            .bind(e.actor)
            .bind(e.text)
            .bind(e.run_id)
            .bind(e.step_idx)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The timeline in the order it was written.
    pub async fn timeline(&self, incident_id: &str) -> Result<Vec<TimelineEvent>, StoreError> {
        let sql = self.sql(
            "SELECT at, kind, actor, text, run_id, step_idx FROM timeline
             WHERE incident_id = $1 ORDER BY id",
        );
        // Streamed, so a 10k-event timeline never holds every raw row at once.
        let mut conn = self.reading().await?;
        let mut rows = sqlx::query(&sql).bind(incident_id).fetch(&mut *conn);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(TimelineEvent {
                at: from_millis(r.get(0)),
                kind: r.get(1),
                actor: r.get(2),
                text: r.get(3),
                run_id: r.get(4),
                step_idx: r.get(5),
            });
        }
        Ok(out)
    }
}
