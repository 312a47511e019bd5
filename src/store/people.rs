//! Display names of the user ids warroom has seen, per platform (for reports only:
//! authorization never looks at names).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{millis, Store, StoreError};

impl Store {
    pub async fn remember_name(
        &self,
        platform: &str,
        user: &str,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO people (platform, user_id, name, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (platform, user_id)
             DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        );
        sqlx::query(&sql)
            .bind(platform)
            .bind(user)
            .bind(name)
            .bind(millis(at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Names by user id, on every platform.
    pub async fn names(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT user_id, name FROM people ORDER BY updated_at")
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
