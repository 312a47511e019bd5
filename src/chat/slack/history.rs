//! Backfill of the channel history from `conversations.history`.
//!
//! The incident channel is recorded live from message events; this fills only the
//! gaps (warroom was down, or a reconnect dropped events). Since 2025 Slack allows
//! apps outside its Marketplace 15 messages once a minute there, so the backfill is
//! paginated and throttled: one call per `interval`, `page` messages each.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use slack_morphism::errors::{SlackClientError, SlackClientSystemError};
use slack_morphism::prelude::*;

use super::web::SlackWeb;
use super::{ingress, PLATFORM};
use crate::app::App;

/// How much of a channel to fetch per call, and how often to call.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub page: u16,
    pub interval: Duration,
}

/// Slack's `ts` for a time.
pub fn ts_of(t: DateTime<Utc>) -> String {
    format!("{}.{:06}", t.timestamp(), t.timestamp_subsec_micros())
}

/// Fetches what `channel` said after `since`, records what was not recorded yet,
/// and returns how many messages were new.
pub async fn channel(
    app: &Arc<App>,
    web: &SlackWeb,
    channel: &str,
    since: DateTime<Utc>,
    pace: Pace,
) -> Result<usize, SlackClientError> {
    let session = web.client().open_session(web.token());
    let mut cursor: Option<SlackCursorId> = None;
    let mut new = 0;
    loop {
        let request = SlackApiConversationsHistoryRequest::new()
            .with_channel(channel.to_string().into())
            .with_oldest(ts_of(since).into())
            .with_limit(pace.page)
            .opt_cursor(cursor.clone());
        let asked = super::web::within(
            crate::chat::CALL_TIMEOUT,
            "conversations.history",
            session.conversations_history(&request),
        )
        .await;
        let asked = asked.unwrap_or_else(|late| {
            Err(SlackClientError::SystemError(SlackClientSystemError {
                message: Some(late.message),
                cause: None,
            }))
        });
        let page = match asked {
            Ok(page) => page,
            Err(SlackClientError::RateLimitError(r)) => {
                tokio::time::sleep(r.retry_after.unwrap_or(pace.interval)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        // Oldest first, so messages of the same millisecond keep their order.
        let mut messages: Vec<&SlackHistoryMessage> = page.messages.iter().collect();
        messages.sort_by_key(|m| ingress::ts_time(m.origin.ts.as_ref()));
        for m in messages {
            if m.subtype.is_some() || m.sender.bot_id.is_some() {
                continue;
            }
            let (Some(user), Some(text)) = (&m.sender.user, &m.content.text) else {
                continue;
            };
            let recorded = ingress::message(
                app,
                None,
                channel,
                user.as_ref(),
                text,
                m.origin.ts.as_ref(),
            )
            .await;
            match recorded {
                Ok(true) => new += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a backfilled message");
                }
            }
        }
        cursor = page
            .response_metadata
            .and_then(|m| m.next_cursor)
            .filter(|c| !c.as_ref().is_empty());
        if cursor.is_none() {
            return Ok(new);
        }
        tokio::time::sleep(pace.interval).await;
    }
}

/// Backfills the channel of every open Slack incident, from the newest message
/// already recorded there (or an hour before detection, the post-mortem's window).
pub async fn open_incidents(app: &Arc<App>, web: &SlackWeb, pace: Pace) -> usize {
    let gaps = match app.store.history_gaps(PLATFORM).await {
        Ok(gaps) => gaps,
        Err(e) => {
            tracing::warn!(error = %e, "backfill: cannot list open incidents");
            return 0;
        }
    };
    let mut new = 0;
    for (i, (channel_id, since)) in gaps.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pace.interval).await;
        }
        match channel(app, web, channel_id, *since, pace).await {
            Ok(n) => new += n,
            Err(e) => tracing::warn!(error = %e, channel = %channel_id, "backfill failed"),
        }
    }
    new
}
