//! The Slack Web API as a [`Chat`]: `chat.postMessage`, `chat.postEphemeral` and
//! `chat.update` through slack-morphism, with Slack's answers turned into what the
//! outbox needs to know (wait this long, retry, or give up).
//!
//! The core never calls this directly: it talks to the outbox, whose deliverer calls
//! this, so pacing, `Retry-After` and restarts are handled in one place.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use secrecy::{ExposeSecret, SecretString};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::blocks;
use crate::chat::{Chat, ChatError, MessageRef, Post};

pub type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;
pub type Client = SlackClient<Connector>;

/// A client for `api_url` that speaks HTTPS, and plain HTTP for a local fake.
pub fn client(api_url: &str) -> std::io::Result<Arc<Client>> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    // slack-morphism joins it to the method with a `/` of its own.
    let api_url = api_url.trim_end_matches('/');
    Ok(Arc::new(SlackClient::new(
        SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url),
    )))
}

pub struct SlackWeb {
    client: Arc<Client>,
    token: SlackApiToken,
    timeout: Duration,
}

/// A Slack call that answers within `limit`, or a transient "did not answer":
/// slack-morphism's hyper client has no request timeout of its own.
pub async fn within<T>(
    limit: Duration,
    method: &str,
    call: impl std::future::Future<Output = Result<T, SlackClientError>>,
) -> Result<Result<T, SlackClientError>, ChatError> {
    tokio::time::timeout(limit, call).await.map_err(|_| {
        ChatError::transient(format!(
            "Slack did not answer {method} within {} ms",
            limit.as_millis()
        ))
    })
}

impl SlackWeb {
    pub fn new(client: Arc<Client>, bot_token: &SecretString) -> Self {
        SlackWeb {
            client,
            token: SlackApiToken::new(bot_token.expose_secret().to_string().into()),
            timeout: crate::chat::CALL_TIMEOUT,
        }
    }

    /// Another call timeout than [`crate::chat::CALL_TIMEOUT`] (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the bot token with `auth.test`; says which workspace and bot it is.
    pub async fn check(&self) -> Result<String, String> {
        let session = self.client.open_session(&self.token);
        let answer = within(self.timeout, "auth.test", session.auth_test())
            .await
            .map_err(|e| format!("cannot reach Slack to check SLACK_BOT_TOKEN: {}", e.message))?;
        match answer {
            Ok(me) => Ok(format!(
                "workspace {} as @{}",
                me.team,
                me.user.as_deref().unwrap_or("?")
            )),
            Err(SlackClientError::ApiError(e)) => Err(format!(
                "Slack refused SLACK_BOT_TOKEN ({}); copy the Bot User OAuth Token (xoxb-…) from \
                 the app's Install App page",
                e.code
            )),
            Err(e) => Err(format!("cannot reach Slack to check SLACK_BOT_TOKEN: {e}")),
        }
    }

    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    pub fn token(&self) -> &SlackApiToken {
        &self.token
    }

    fn content(post: &Post) -> Result<SlackMessageContent, ChatError> {
        let m = blocks::render(post);
        let blocks: Vec<SlackBlock> = serde_json::from_value(serde_json::Value::Array(m.blocks))
            .map_err(|e| ChatError::permanent(format!("cannot build Block Kit: {e}")))?;
        Ok(SlackMessageContent::new()
            .with_text(m.text)
            .with_blocks(blocks))
    }
}

/// How a Slack failure should be treated by the outbox.
pub fn chat_error(e: SlackClientError) -> ChatError {
    match e {
        SlackClientError::RateLimitError(r) => {
            ChatError::rate_limited(r.retry_after.unwrap_or(Duration::from_secs(1)))
        }
        SlackClientError::ApiError(api) => {
            let code = api.code.as_str();
            // Slack-side trouble is worth retrying; anything about the request itself
            // (bad channel, bad blocks, revoked token) will fail the same way again.
            if matches!(
                code,
                "ratelimited"
                    | "internal_error"
                    | "fatal_error"
                    | "service_unavailable"
                    | "request_timeout"
            ) {
                ChatError::transient(format!("Slack: {code}"))
            } else if matches!(code, "not_in_channel" | "channel_not_found") {
                ChatError::shut_out(format!("Slack refused it: {code}{}", hint(code)))
            } else {
                ChatError::permanent(format!("Slack refused it: {code}{}", hint(code)))
            }
        }
        SlackClientError::HttpError(h) if h.status_code.is_server_error() => {
            ChatError::transient(format!("Slack answered HTTP {}", h.status_code))
        }
        SlackClientError::HttpError(h) => {
            ChatError::permanent(format!("Slack answered HTTP {}", h.status_code))
        }
        other => ChatError::transient(format!("cannot reach Slack: {other}")),
    }
}

/// What an operator should do about a permanent refusal, for the log.
fn hint(code: &str) -> &'static str {
    match code {
        "not_in_channel" | "channel_not_found" => {
            " (invite the warroom app to the channel: /invite @warroom)"
        }
        "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" => {
            " (check SLACK_BOT_TOKEN)"
        }
        "missing_scope" => " (reinstall the app from `warroom manifest slack`)",
        _ => "",
    }
}

#[async_trait]
impl Chat for SlackWeb {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        let session = self.client.open_session(&self.token);
        let content = Self::content(post)?;
        let channel: SlackChannelId = post.channel.clone().into();
        if let Some(user) = &post.ephemeral_to {
            let request =
                SlackApiChatPostEphemeralRequest::new(channel, user.id.clone().into(), content);
            within(
                self.timeout,
                "chat.postEphemeral",
                session.chat_post_ephemeral(&request),
            )
            .await?
            .map_err(chat_error)?;
            // Ephemeral messages cannot be edited; there is nothing to refer to.
            return Ok(MessageRef {
                channel: post.channel.clone(),
                id: "ephemeral".into(),
            });
        }
        let content = match &post.delivery {
            Some(id) => content.with_metadata(SlackMessageMetadata {
                event_type: DELIVERY_EVENT.into(),
                event_payload: Some([(DELIVERY_FIELD.to_string(), id.clone())].into()),
            }),
            None => content,
        };
        let request = SlackApiChatPostMessageRequest::new(channel, content)
            .with_unfurl_links(false)
            .with_unfurl_media(false);
        let first = within(
            self.timeout,
            "chat.postMessage",
            session.chat_post_message(&request),
        )
        .await?;
        let sent = match first {
            // A public channel nobody asked warroom into yet (the stakeholder
            // channel, or a post racing the join of a command's first run): join it
            // and post. A private one answers `channel_not_found` and stays shut.
            Err(SlackClientError::ApiError(e)) if e.code == "not_in_channel" => {
                let join = SlackApiConversationsJoinRequest::new(request.channel.clone());
                within(
                    self.timeout,
                    "conversations.join",
                    session.conversations_join(&join),
                )
                .await?
                .map_err(chat_error)?;
                within(
                    self.timeout,
                    "chat.postMessage",
                    session.chat_post_message(&request),
                )
                .await?
            }
            other => other,
        }
        .map_err(chat_error)?;
        Ok(MessageRef {
            channel: sent.channel.to_string(),
            id: sent.ts.to_string(),
        })
    }

    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiChatUpdateRequest::new(
            message.channel.clone().into(),
            Self::content(post)?,
            message.id.clone().into(),
        );
        within(self.timeout, "chat.update", session.chat_update(&request))
            .await?
            .map_err(chat_error)?;
        Ok(())
    }

    fn split(&self, post: &Post) -> Vec<Post> {
        blocks::split(post)
    }

    /// Slack rate-limits each Web API method per workspace ("Rate limits": tiers
    /// per method; `chat.postMessage` also about one a second per channel).
    fn method(&self, op: &str, post: &Post) -> Option<&'static str> {
        Some(match (op, &post.ephemeral_to) {
            ("update", _) => "chat.update",
            (_, Some(_)) => "chat.postEphemeral",
            _ => "chat.postMessage",
        })
    }

    /// Reads the channel's newest messages (with their metadata:
    /// `conversations.history` with `include_all_metadata`) back to `since`, for one
    /// of warroom's carrying `post`'s delivery id. A few pages at most: the message
    /// looked for went out seconds or minutes ago.
    async fn find(
        &self,
        post: &Post,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<MessageRef>, ChatError> {
        let Some(id) = &post.delivery else {
            return Ok(None);
        };
        let session = self.client.open_session(&self.token);
        let mut cursor: Option<SlackCursorId> = None;
        for _ in 0..FIND_PAGES {
            let request = SlackApiConversationsHistoryRequest::new()
                .with_channel(post.channel.clone().into())
                .with_include_all_metadata(true)
                .with_limit(200)
                .opt_cursor(cursor.clone());
            let page = within(
                self.timeout,
                "conversations.history",
                session.conversations_history(&request),
            )
            .await?
            .map_err(chat_error)?;
            let found = page.messages.iter().find(|m| {
                m.content.metadata.as_ref().is_some_and(|meta| {
                    meta.event_type == DELIVERY_EVENT
                        && meta
                            .event_payload
                            .as_ref()
                            .and_then(|p| p.get(DELIVERY_FIELD))
                            == Some(id)
                })
            });
            if let Some(m) = found {
                return Ok(Some(MessageRef {
                    channel: post.channel.clone(),
                    id: m.origin.ts.to_string(),
                }));
            }
            // Newest first: a page reaching back before the post was made is the
            // last worth reading.
            let before = page.messages.iter().any(|m| {
                m.origin
                    .ts
                    .0
                    .split('.')
                    .next()
                    .and_then(|s| s.parse::<i64>().ok())
                    .is_some_and(|secs| secs < since.timestamp())
            });
            cursor = page
                .response_metadata
                .and_then(|r| r.next_cursor)
                .filter(|c| !c.0.is_empty());
            if before || cursor.is_none() {
                break;
            }
        }
        Ok(None)
    }
}

/// The message metadata type warroom's posts carry (Slack: "Message metadata",
/// an `event_type` and an `event_payload` object), and the payload field holding
/// the delivery id.
const DELIVERY_EVENT: &str = "warroom_delivery";
const DELIVERY_FIELD: &str = "id";

/// Pages of 200 messages [`SlackWeb::find`] reads at most.
const FIND_PAGES: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::SlackClientApiError;

    fn api(code: &str) -> ChatError {
        chat_error(SlackClientError::ApiError(SlackClientApiError {
            code: code.into(),
            errors: None,
            warnings: None,
            http_response_body: None,
        }))
    }

    #[test]
    fn slacks_refusals_map_to_what_the_outbox_does_next() {
        for code in ["not_in_channel", "channel_not_found"] {
            let e = api(code);
            assert!(e.permanent && e.shut_out, "{code}: {e:?}");
            assert!(e.message.contains("/invite @warroom"), "{e:?}");
        }
        let e = api("invalid_blocks");
        assert!(e.permanent && !e.shut_out, "{e:?}");
        let e = api("internal_error");
        assert!(!e.permanent && !e.shut_out, "{e:?}");
    }
}
