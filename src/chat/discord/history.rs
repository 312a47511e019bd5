//! Backfill of the channel history after the gateway (re)identifies: what was said
//! in the channels of open Discord incidents while warroom was not connected. (A
//! resumed session needs none: Discord replays the missed events itself.)

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serenity::http::{Http, MessagePagination};
use serenity::model::id::{ChannelId, MessageId};

use super::{ingress, PLATFORM};
use crate::app::App;

/// Discord's epoch (2015-01-01) in unix milliseconds: snowflakes count from it.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
/// Messages per request (Discord's maximum).
const PAGE: u8 = 100;

/// The smallest message id Discord could give a message sent at `t`.
pub fn snowflake_at(t: DateTime<Utc>) -> u64 {
    let ms = (t.timestamp_millis() - DISCORD_EPOCH_MS).max(0) as u64;
    ms << 22
}

/// Records what `channel` said after `since` that is not recorded yet; returns how
/// many messages were new.
pub async fn channel(
    app: &Arc<App>,
    http: &Http,
    channel: ChannelId,
    since: DateTime<Utc>,
) -> Result<usize, serenity::Error> {
    let mut after = snowflake_at(since).max(1);
    let mut new = 0;
    loop {
        // serenity's `Http` waits as long as the connection stays open.
        let asked = http.get_messages(
            channel,
            Some(MessagePagination::After(MessageId::new(after))),
            Some(PAGE),
        );
        let page = tokio::time::timeout(crate::chat::CALL_TIMEOUT, asked)
            .await
            .map_err(|_| {
                serenity::Error::Other("Discord did not answer a message history request in time")
            })??;
        // Oldest first, so messages of the same millisecond keep their order.
        let mut page = page;
        page.sort_by_key(|m| m.id);
        for m in &page {
            if m.author.bot || m.content.is_empty() {
                continue;
            }
            let recorded = app
                .store
                .record_message(
                    PLATFORM,
                    &channel.to_string(),
                    &m.author.id.to_string(),
                    &m.content,
                    *m.timestamp,
                    Some(&m.id.to_string()),
                )
                .await;
            match recorded {
                Ok(true) => {
                    new += 1;
                    let author =
                        crate::model::user::UserId::new(PLATFORM, &m.author.id.to_string());
                    app.remember_name(&author, ingress::display_name(&m.author))
                        .await;
                }
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "cannot record a backfilled message"),
            }
        }
        // Pages come newest first; the next one starts after the newest seen.
        match page.iter().map(|m| m.id.get()).max() {
            Some(newest) if page.len() == usize::from(PAGE) && newest > after => after = newest,
            _ => return Ok(new),
        }
    }
}

/// Backfills the channel of every open Discord incident, from the newest message
/// already recorded there (or an hour before detection).
pub async fn open_incidents(app: &Arc<App>, http: &Http) -> usize {
    let gaps = match app.store.history_gaps(PLATFORM).await {
        Ok(gaps) => gaps,
        Err(e) => {
            tracing::warn!(error = %e, "backfill: cannot list open incidents");
            return 0;
        }
    };
    let mut new = 0;
    for (channel_id, since) in gaps {
        let Some(id) = channel_id.parse::<u64>().ok().filter(|&n| n != 0) else {
            continue;
        };
        match channel(app, http, ChannelId::new(id), since).await {
            Ok(n) => new += n,
            Err(e) => tracing::warn!(error = %e, channel = id, "backfill failed"),
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_encode_their_time() {
        // Discord's documented example: 175928847299117063 was made at 1462015105796.
        let t = DateTime::from_timestamp_millis(1_462_015_105_796).unwrap();
        assert_eq!(snowflake_at(t) >> 22, 175_928_847_299_117_063 >> 22);
    }
}
