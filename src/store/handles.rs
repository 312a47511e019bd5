//! Reply handles: a platform's short-lived means of answering one user privately
//! (a Discord interaction token lives 15 minutes), newest per user and channel.

use chrono::{DateTime, Utc};

use super::{millis, Store, StoreError};

impl Store {
    pub async fn save_reply_handle(
        &self,
        platform: &str,
        channel: &str,
        user: &str,
        handle: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO reply_handles (platform, channel, user_id, handle, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (platform, channel, user_id)
             DO UPDATE SET handle = excluded.handle, expires_at = excluded.expires_at",
        );
        sqlx::query(&sql)
            .bind(platform)
            .bind(channel)
            .bind(user)
            .bind(handle)
            .bind(millis(expires_at))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// The user's newest handle in the channel, if it is still valid at `now`.
    pub async fn reply_handle(
        &self,
        platform: &str,
        channel: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let sql = self.sql(
            "SELECT handle FROM reply_handles
             WHERE platform = $1 AND channel = $2 AND user_id = $3 AND expires_at > $4",
        );
        let handle: Option<String> = sqlx::query_scalar(&sql)
            .bind(platform)
            .bind(channel)
            .bind(user)
            .bind(millis(now))
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        Ok(handle)
    }
}
