//! Discord's HTTP API as a [`Chat`], through serenity's `Http`: channel messages,
//! edits, and private replies as ephemeral follow-ups of the user's interaction.
//!
//! Discord can only answer someone privately through an interaction they started,
//! for 15 minutes. The ingress saves each interaction's token as the user's reply
//! handle; a private post uses it. Without one (it expired during a long run), the
//! post goes to the channel instead, naming its reader, rather than being lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serenity::http::{Http, HttpError};
use serenity::model::id::{ChannelId, MessageId};
use serenity::Error as SerenityError;

use super::render::{self, Mentions, EPHEMERAL};
use super::PLATFORM;
use crate::chat::{Chat, ChatError, MessageRef, Post};
use crate::store::Store;

pub struct DiscordWeb {
    http: Arc<Http>,
    store: Store,
    timeout: Duration,
}

impl DiscordWeb {
    pub fn new(http: Arc<Http>, store: Store) -> Self {
        DiscordWeb {
            http,
            store,
            timeout: crate::chat::CALL_TIMEOUT,
        }
    }

    /// Another call timeout than [`crate::chat::CALL_TIMEOUT`] (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A Discord call that answers within the timeout, or a transient "did not
    /// answer" (serenity's `Http` waits as long as the connection stays open).
    async fn within<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = Result<T, SerenityError>>,
    ) -> Result<T, ChatError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => answer.map_err(chat_error),
            Err(_) => Err(ChatError::transient(format!(
                "Discord did not answer {what} within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

fn snowflake<T: From<u64>>(s: &str, what: &str) -> Result<T, ChatError> {
    s.parse::<u64>()
        .ok()
        .filter(|&n| n != 0)
        .map(T::from)
        .ok_or_else(|| ChatError::permanent(format!("`{s}` is not a Discord {what} id")))
}

/// How a Discord failure should be treated by the outbox.
pub fn chat_error(e: SerenityError) -> ChatError {
    match e {
        SerenityError::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let what = format!(
                "Discord answered {status} (code {}): {}{}",
                r.error.code,
                r.error.message,
                hint(r.error.code)
            );
            match status {
                // serenity's own rate limiter waits before Discord says 429; a 429
                // that still arrives carries no readable Retry-After here.
                429 => ChatError::rate_limited(std::time::Duration::from_secs(1)),
                500..=599 => ChatError::transient(what),
                // Unknown Webhook right after an interaction: its response may not
                // have reached Discord yet. Worth another try while the token lives.
                404 if r.error.code == 10015 => ChatError::transient(what),
                // Missing Access, Unknown Channel.
                _ if matches!(r.error.code, 50001 | 10003) => ChatError::shut_out(what),
                _ => ChatError::permanent(what),
            }
        }
        other => ChatError::transient(format!("cannot reach Discord: {other}")),
    }
}

/// What to do about a refusal, in the words of Discord's permission names.
fn hint(code: isize) -> &'static str {
    match code {
        50001 | 50013 => {
            " (give warroom's role View Channel, Send Messages and Read Message History here)"
        }
        _ => "",
    }
}

#[async_trait]
impl Chat for DiscordWeb {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        if let Some(user) = &post.ephemeral_to {
            let handle = self
                .store
                .reply_handle(PLATFORM, &post.channel, &user.id, Utc::now())
                .await
                .map_err(|e| ChatError::transient(e.to_string()))?;
            match handle {
                Some(token) => {
                    // Not before the interaction's own response (Discord: 10015).
                    super::answered::wait_for(&token).await;
                    let mut body = render::message(post);
                    body["flags"] = EPHEMERAL.into();
                    self.within(
                        "a follow-up",
                        self.http.create_followup_message(&token, &body, vec![]),
                    )
                    .await?;
                    return Ok(MessageRef {
                        channel: post.channel.clone(),
                        id: "ephemeral".into(),
                    });
                }
                None => {
                    // No way to answer privately any more: say it in the channel,
                    // to them by name.
                    let mentions = Mentions {
                        users: vec![user.id.clone()],
                        roles: Vec::new(),
                    };
                    let body = render::message_with(post, &mentions);
                    return self.send(&post.channel, &body).await;
                }
            }
        }
        let mut body = render::message(post);
        // Discord dedupes by itself: a second create with the same nonce from the
        // same author within minutes returns the first message ("Create Message":
        // `nonce`, `enforce_nonce`), so a retry after a lost answer posts nothing new.
        if let Some(id) = &post.delivery {
            body["nonce"] = id.clone().into();
            body["enforce_nonce"] = true.into();
        }
        self.send(&post.channel, &body).await
    }

    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError> {
        let channel: ChannelId = snowflake(&message.channel, "channel")?;
        let id: MessageId = snowflake(&message.id, "message")?;
        let body = render::message(post);
        self.within(
            "an edit",
            self.http.edit_message(channel, id, &body, vec![]),
        )
        .await?;
        Ok(())
    }

    fn split(&self, post: &Post) -> Vec<Post> {
        render::split(post)
    }
}

impl DiscordWeb {
    async fn send(&self, channel: &str, body: &serde_json::Value) -> Result<MessageRef, ChatError> {
        let channel_id: ChannelId = snowflake(channel, "channel")?;
        let sent = self
            .within(
                "a message",
                self.http.send_message(channel_id, vec![], body),
            )
            .await?;
        Ok(MessageRef {
            channel: channel.to_string(),
            id: sent.id.to_string(),
        })
    }
}
