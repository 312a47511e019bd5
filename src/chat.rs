//! The chat platform seam. The core posts and edits messages through [`Chat`]; the
//! console, Slack and Discord implement it at the edge, and tests use [`recording`].
//!
//! Buttons are commands: a button carries the command line its press sends (e.g.
//! `/approve RUN-7`), so a press goes through the same pipeline, as its presser.

pub mod console;
pub mod discord;
pub mod outbox;
pub mod recording;
pub mod slack;
pub mod split;
pub mod undelivered;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::user::UserId;

/// What a post is, so adapters can style it and `--json` can report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    /// The command was received and is being handled.
    Ack,
    /// The user's input was wrong; says what to type instead.
    Error,
    /// The matrix refused the user.
    Denied,
    Help,
    /// A request waiting for approvers, with the dry-run rendering and buttons.
    Approval,
    /// The per-run message edited as steps advance.
    Progress,
    /// A human checkpoint inside a run.
    Checkpoint,
    /// A filled communication template posted by a runbook.
    Template,
    /// A stakeholder update from the incident lifecycle (alert, update, resolved).
    Status,
    /// A mention of a role's members.
    Page,
    Info,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Ack => "ack",
            PostKind::Error => "error",
            PostKind::Denied => "denied",
            PostKind::Help => "help",
            PostKind::Approval => "approval",
            PostKind::Progress => "progress",
            PostKind::Checkpoint => "checkpoint",
            PostKind::Template => "template",
            PostKind::Status => "status",
            PostKind::Page => "page",
            PostKind::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    /// The command line a press sends, as the presser.
    pub command: String,
    pub danger: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub channel: String,
    /// Markdown text; user-supplied parts are already escaped.
    pub text: String,
    /// Shown only to this user.
    pub ephemeral_to: Option<UserId>,
    pub kind: PostKind,
    pub buttons: Vec<Button>,
    /// Platform user ids to mention (page). Text itself never carries mentions.
    pub mentions: Vec<String>,
    /// Set by the outbox on each message it sends: one id per message, the same on
    /// every attempt, which the platform keeps with it (Slack's `metadata`,
    /// Discord's `nonce`), so a retry after a lost answer can find or dedupe the
    /// message already sent instead of sending it twice ([`Chat::find`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// For a private reply, the delivery id of the command it answers: one
    /// command's replies keep their order, replies to different commands may pass
    /// each other (issue 18: one person's replies one after another held the outbox
    /// to one HTTP call at a time). `None`: in order with the reader's other replies
    /// that answer nothing named (the console, notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
}

impl Post {
    pub fn new(channel: &str, kind: PostKind, text: impl Into<String>) -> Self {
        Post {
            channel: channel.into(),
            text: text.into(),
            ephemeral_to: None,
            kind,
            buttons: Vec::new(),
            mentions: Vec::new(),
            delivery: None,
            answers: None,
        }
    }

    pub fn ephemeral(mut self, to: &UserId) -> Self {
        self.ephemeral_to = Some(to.clone());
        self
    }

    /// Visible only to `to`, answering the command delivered as `command`.
    pub fn reply_to(mut self, to: &UserId, command: Option<&str>) -> Self {
        self.ephemeral_to = Some(to.clone());
        self.answers = command.map(str::to_owned);
        self
    }

    pub fn with_buttons(mut self, buttons: Vec<Button>) -> Self {
        self.buttons = buttons;
        self
    }
}

/// A posted message, to edit later. `id` is the platform's (Slack `ts`, Discord id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub channel: String,
    pub id: String,
}

impl MessageRef {
    /// `channel/id`, as stored on a run.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.channel, self.id)
    }

    pub fn decode(s: &str) -> Option<MessageRef> {
        let (channel, id) = s.split_once('/')?;
        Some(MessageRef {
            channel: channel.into(),
            id: id.into(),
        })
    }
}

/// How long an adapter waits for one platform call before treating it as a
/// transient failure (retried by the outbox). Well under the outbox's lease, so a
/// hung request can neither stall its channel for long nor be sent again by
/// another replica while it is still in flight.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A delivery failure, with what the platform said about retrying.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("chat delivery failed: {message}")]
pub struct ChatError {
    pub message: String,
    /// The platform asked to wait this long (HTTP 429 `Retry-After`).
    pub retry_after: Option<std::time::Duration>,
    /// Retrying cannot help (bad channel, bad request).
    pub permanent: bool,
    /// The platform refuses warroom this channel (not a member, no access): someone
    /// must invite it there before anything it posts can be seen.
    pub shut_out: bool,
}

impl ChatError {
    /// A failure worth retrying with backoff (5xx, network).
    pub fn transient(message: impl Into<String>) -> Self {
        ChatError {
            message: message.into(),
            retry_after: None,
            permanent: false,
            shut_out: false,
        }
    }

    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        ChatError {
            message: "rate limited".into(),
            retry_after: Some(retry_after),
            permanent: false,
            shut_out: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        ChatError {
            message: message.into(),
            retry_after: None,
            permanent: true,
            shut_out: false,
        }
    }

    /// Permanent, and the channel itself is closed to warroom.
    pub fn shut_out(message: impl Into<String>) -> Self {
        ChatError {
            shut_out: true,
            ..ChatError::permanent(message)
        }
    }
}

#[async_trait]
pub trait Chat: Send + Sync {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError>;
    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError>;

    /// The messages `post` goes out as, in order: itself, unless it is longer than
    /// the platform takes in one message. The outbox sends them one by one and
    /// remembers how many went out, so a retry never repeats one.
    fn split(&self, post: &Post) -> Vec<Post> {
        vec![post.clone()]
    }

    /// The platform-wide rate-limit bucket the call for `op` (`post`, `update`) of
    /// `post` falls in besides its channel's, if the platform limits it by method
    /// (Slack's tiers are per method per workspace): a 429 there holds every
    /// channel's calls of that method, in every replica, for its `Retry-After`.
    fn method(&self, op: &str, post: &Post) -> Option<&'static str> {
        let _ = (op, post);
        None
    }

    /// The message `post` (with its [`Post::delivery`] id) was already delivered as,
    /// if the platform shows one sent since `since`: asked before a post whose last
    /// attempt's answer was lost is sent again. `Ok(None)` where the platform
    /// dedupes by itself (Discord's `enforce_nonce`) or keeps no such record.
    async fn find(
        &self,
        post: &Post,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<MessageRef>, ChatError> {
        let _ = (post, since);
        Ok(None)
    }
}

/// The [`Post::delivery`] id of message `part` of outbox row `row`, created at
/// `created_ms`: short enough for a Discord nonce (25 characters).
pub fn delivery_id(row: i64, created_ms: i64, part: usize) -> String {
    format!("w{created_ms:x}.{row:x}.{part}")
}
