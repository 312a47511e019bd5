//! Incident lifecycle state: acknowledgement, updates, response roles, durable timers,
//! action items and the recorded channel history.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;

use super::{from_millis, millis, Store, StoreError};

/// A timer due to fire, claimed by this process.
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    pub id: i64,
    pub incident_id: String,
    pub kind: String,
    pub due_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionItem {
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub created_by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub user_id: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

impl Store {
    pub async fn set_incident_field(
        &self,
        id: &str,
        field: IncidentField,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let sql = match field {
            IncidentField::Severity => "UPDATE incidents SET severity = $1 WHERE id = $2",
            IncidentField::Impact => "UPDATE incidents SET impact = $1 WHERE id = $2",
            IncidentField::Commander => "UPDATE incidents SET commander = $1 WHERE id = $2",
            IncidentField::Title => "UPDATE incidents SET title = $1 WHERE id = $2",
            IncidentField::Component => "UPDATE incidents SET component = $1 WHERE id = $2",
        };
        sqlx::query(&self.sql(sql))
            .bind(value)
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Records the acknowledgement (first one wins); false if already acknowledged.
    pub async fn ack_incident(
        &self,
        id: &str,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE incidents SET acked_by = $1, acked_at = $2 WHERE id = $3 AND acked_at IS NULL",
        );
        let done = sqlx::query(&sql)
            .bind(user)
            .bind(millis(at))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        let acked = done.rows_affected() == 1;
        if acked {
            if let Some(i) = self.incident(id).await? {
                let secs = (at - i.detected_at).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!("warroom_time_to_acknowledge_seconds", "severity" => crate::model::metric::severity(&i.severity))
                    .record(secs);
            }
        }
        Ok(acked)
    }

    pub async fn touch_update(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE incidents SET last_update_at = $1 WHERE id = $2");
        sqlx::query(&sql)
            .bind(millis(at))
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Assigns a response role (seed 004's five), replacing any previous holder.
    pub async fn set_incident_role(
        &self,
        id: &str,
        role: &str,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO incident_roles (incident_id, role, user_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (incident_id, role) DO UPDATE SET user_id = excluded.user_id, at = excluded.at",
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(role)
            .bind(user)
            .bind(millis(at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn incident_roles(&self, id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let sql = self
            .sql("SELECT role, user_id FROM incident_roles WHERE incident_id = $1 ORDER BY role");
        let rows = sqlx::query(&sql)
            .bind(id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn schedule(
        &self,
        incident_id: &str,
        kind: &str,
        due_at: DateTime<Utc>,
        payload: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let sql = self
            .sql("INSERT INTO timers (incident_id, kind, due_at, payload) VALUES ($1, $2, $3, $4)");
        sqlx::query(&sql)
            .bind(incident_id)
            .bind(kind)
            .bind(millis(due_at))
            .bind(payload.to_string())
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Cancels pending timers of an incident whose kind starts with `prefix` ("" = all).
    pub async fn cancel_timers(&self, incident_id: &str, prefix: &str) -> Result<u64, StoreError> {
        let sql = self.sql(
            "UPDATE timers SET cancelled = 1
             WHERE incident_id = $1 AND fired_at IS NULL AND cancelled = 0 AND kind LIKE $2",
        );
        let done = sqlx::query(&sql)
            .bind(incident_id)
            .bind(format!("{prefix}%"))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// Claims every timer due by `now` of the incidents on `platform`: each is marked
    /// fired by exactly one process.
    pub async fn claim_due_timers(
        &self,
        now: DateTime<Utc>,
        platform: &str,
    ) -> Result<Vec<Timer>, StoreError> {
        let sql = self.sql(
            "SELECT t.id, t.incident_id, t.kind, t.due_at, t.payload FROM timers t
             JOIN incidents i ON i.id = t.incident_id
             WHERE t.fired_at IS NULL AND t.cancelled = 0 AND t.due_at <= $1 AND i.platform = $2
             ORDER BY t.due_at, t.id",
        );
        let rows = sqlx::query(&sql)
            .bind(millis(now))
            .bind(platform)
            .fetch_all(&mut *self.writing().await?)
            .await?;
        let claim = self.sql(
            "UPDATE timers SET fired_at = $1 WHERE id = $2 AND fired_at IS NULL AND cancelled = 0",
        );
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.get(0);
            let done = sqlx::query(&claim)
                .bind(millis(now))
                .bind(id)
                .execute(&mut *self.writing().await?)
                .await?;
            if done.rows_affected() == 1 {
                let payload: String = r.get(4);
                out.push(Timer {
                    id,
                    incident_id: r.get(1),
                    kind: r.get(2),
                    due_at: from_millis(r.get(3)),
                    payload: serde_json::from_str(&payload).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// The next pending timer's due time, to know how long to sleep.
    pub async fn next_timer_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(due_at) FROM timers WHERE fired_at IS NULL AND cancelled = 0",
        )
        .fetch_one(&mut *self.reading().await?)
        .await?;
        Ok(due.map(from_millis))
    }

    /// (kind, due, fired) of every timer of an incident, for tests and status.
    pub async fn timers(
        &self,
        incident_id: &str,
    ) -> Result<Vec<(String, DateTime<Utc>, bool, bool)>, StoreError> {
        let sql = self.sql("SELECT kind, due_at, fired_at, cancelled FROM timers WHERE incident_id = $1 ORDER BY due_at, id");
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    from_millis(r.get(1)),
                    r.get::<Option<i64>, _>(2).is_some(),
                    r.get::<i64, _>(3) != 0,
                )
            })
            .collect())
    }

    pub async fn add_action_item(
        &self,
        incident_id: &str,
        item: &ActionItem,
    ) -> Result<(), StoreError> {
        let sql = self.sql("INSERT INTO action_items (incident_id, text, owner, due, created_by, at) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(&sql)
            .bind(incident_id)
            .bind(&item.text)
            .bind(&item.owner)
            .bind(&item.due)
            .bind(&item.created_by)
            .bind(millis(item.at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn action_items(&self, incident_id: &str) -> Result<Vec<ActionItem>, StoreError> {
        let sql = self.sql("SELECT text, owner, due, created_by, at FROM action_items WHERE incident_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| ActionItem {
                text: r.get(0),
                owner: r.get(1),
                due: r.get(2),
                created_by: r.get(3),
                at: from_millis(r.get(4)),
            })
            .collect())
    }

    /// Records one channel message; a redelivery (same external id) is ignored.
    pub async fn record_message(
        &self,
        platform: &str,
        channel: &str,
        user: &str,
        text: &str,
        at: DateTime<Utc>,
        ext_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO messages (platform, channel, user_id, text, at, ext_id) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&sql)
            .bind(platform)
            .bind(channel)
            .bind(user)
            .bind(text)
            .bind(millis(at))
            .bind(ext_id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When the newest recorded message of a channel was said.
    /// When the newest message of a channel said before `before` was said.
    pub async fn latest_message_at(
        &self,
        platform: &str,
        channel: &str,
        before: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let sql = self
            .sql("SELECT MAX(at) FROM messages WHERE platform = $1 AND channel = $2 AND at < $3");
        let at: Option<i64> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(channel)
            .bind(millis(before))
            .fetch_one(&mut *self.reading().await?)
            .await?;
        Ok(at.map(from_millis))
    }

    /// Messages of a channel between two times, oldest first.
    pub async fn messages(
        &self,
        channel: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = self.sql("SELECT user_id, text, at FROM messages WHERE channel = $1 AND at >= $2 AND at <= $3 ORDER BY at, id");
        let mut conn = self.reading().await?;
        let mut rows = sqlx::query(&sql)
            .bind(channel)
            .bind(millis(from))
            .bind(millis(to))
            .fetch(&mut *conn);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(Message {
                user_id: r.get(0),
                text: r.get(1),
                at: from_millis(r.get(2)),
            });
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum IncidentField {
    Severity,
    Impact,
    Commander,
    Title,
    Component,
}

impl Store {
    /// Ticks one checklist item; false if it was already ticked.
    pub async fn tick(
        &self,
        incident_id: &str,
        name: &str,
        item: i64,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO checklist_ticks (incident_id, name, item, user_id, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&sql)
            .bind(incident_id)
            .bind(name)
            .bind(item)
            .bind(user)
            .bind(millis(at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// (item, who, when) of every tick of a checklist.
    pub async fn ticks(
        &self,
        incident_id: &str,
        name: &str,
    ) -> Result<Vec<(i64, String, DateTime<Utc>)>, StoreError> {
        let sql = self.sql("SELECT item, user_id, at FROM checklist_ticks WHERE incident_id = $1 AND name = $2 ORDER BY item");
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .bind(name)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), from_millis(r.get(2))))
            .collect())
    }

    /// Remembers the message showing a checklist, to edit it as items are ticked.
    pub async fn set_checklist_message(
        &self,
        incident_id: &str,
        name: &str,
        message_ref: &str,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO checklists (incident_id, name, message_ref) VALUES ($1, $2, $3)
             ON CONFLICT (incident_id, name) DO UPDATE SET message_ref = excluded.message_ref",
        );
        sqlx::query(&sql)
            .bind(incident_id)
            .bind(name)
            .bind(message_ref)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn checklist_message(
        &self,
        incident_id: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql =
            self.sql("SELECT message_ref FROM checklists WHERE incident_id = $1 AND name = $2");
        Ok(sqlx::query_scalar(&sql)
            .bind(incident_id)
            .bind(name)
            .fetch_optional(&mut *self.reading().await?)
            .await?
            .flatten())
    }
}
