//! The durable outbox between the core and a chat platform.
//!
//! [`OutboxChat`] is the `Chat` the core talks to: a post or an edit is a row in the
//! state database before anything reaches the network, so a restart loses nothing.
//! [`deliver_due`] hands due rows to the platform's own `Chat`, one deliverer per row
//! (compare-and-set claim), in order per channel, paced per channel (Slack allows
//! about one message per second per channel) through a pace row every replica
//! shares (`outbox_pace`). A 429 is a pace, not a failure: its `Retry-After` holds
//! the whole bucket (the channel, or the platform's private replies) and, where
//! the platform limits by method ([`Chat::method`]: Slack's tiers), that method in
//! every channel, for exactly that long, and counts no attempt. Other failures retry with exponential backoff
//! for as long as the post is still useful ([`useful_for`]); only a permanent
//! refusal, or a post past that age, is given up and told (`undelivered`).
//!
//! Exactly once where the answer is lost: each message carries a delivery id of its
//! own ([`super::delivery_id`]: Slack keeps it as message `metadata`, Discord as a
//! `nonce` it enforces). A message whose last attempt failed, or whose deliverer
//! died holding it, is looked for ([`Chat::find`]) before it is sent again, so a
//! connection dropped after the platform stored the message, or a crash before the
//! row was marked sent, does not post it twice. Private replies cannot be looked
//! up on either platform: for them a lost answer can still mean a second copy.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

mod batch;
mod run;
mod send;

use batch::{deliver_private, send, settle};
pub use run::{run, DRAIN};
use send::{deliver, Step};

use super::{Chat, ChatError, MessageRef, Post};
use crate::store::{NewOutbox, OutboxRow, Store, StoreError};

/// Prefix of the message ids the outbox hands out before delivery.
const LOCAL: &str = "out:";

/// Why an edit is dropped when its post was refused (and reported) already.
const NEVER_DELIVERED: &str = "the message to edit was never delivered";

/// How long a deliverer holds a row before another may take it over.
pub const LEASE: Duration = Duration::from_secs(30);

// A call that could outlast the lease would be sent again by another replica.
const _: () = assert!(super::CALL_TIMEOUT.as_secs() * 2 <= LEASE.as_secs());

/// The bucket of a platform's private replies (Slack's `chat.postEphemeral`, a
/// method of its own; Discord's interaction follow-ups), paced apart from channels.
const PRIVATE: &str = "private";

/// How long a post is worth retrying after transient failures (5xx, timeouts,
/// connection errors): past this age it is given up and told. Rate limits never
/// count toward it; they only delay.
pub fn useful_for(op: &str, post: &Post) -> Duration {
    const MINUTE: u64 = 60;
    if op == "update" {
        // A progress or request edit: the next edit replaces it, and a state minutes
        // old misleads more than it helps.
        Duration::from_secs(10 * MINUTE)
    } else if post.ephemeral_to.is_some() {
        // A private answer: Discord's interaction token lives 15 minutes.
        Duration::from_secs(15 * MINUTE)
    } else if post.kind == super::PostKind::Status {
        // Stakeholder posts: the next update is due within the hour anyway.
        Duration::from_secs(60 * MINUTE)
    } else {
        Duration::from_secs(30 * MINUTE)
    }
}

/// The core's `Chat` on a platform served through the outbox. Rows carry the
/// platform's name, so one database can hold the outboxes of several platforms.
pub struct OutboxChat {
    store: Store,
    platform: String,
    /// The platform itself, for when the state database cannot take a row: a reply
    /// saying that the database is down must not wait for the database (issue 14:
    /// "Internal error" replies were lost with it).
    direct: Option<std::sync::Arc<dyn Chat>>,
}

impl OutboxChat {
    pub fn new(store: Store, platform: &str) -> Self {
        OutboxChat {
            store,
            platform: platform.to_string(),
            direct: None,
        }
    }

    /// Posts straight to `platform` (once, unpaced) what the outbox cannot queue.
    pub fn or_directly(mut self, platform: std::sync::Arc<dyn Chat>) -> Self {
        self.direct = Some(platform);
        self
    }

    /// `post` sent past the outbox after `e`, or `e` when there is no way past it.
    async fn post_directly(&self, post: &Post, e: StoreError) -> Result<MessageRef, ChatError> {
        let Some(direct) = &self.direct else {
            return Err(store_error(e));
        };
        tracing::warn!(error = %e, channel = %post.channel, "outbox unavailable; posting directly");
        let mut first = None;
        for part in direct.split(post) {
            let sent = direct.post(&part).await?;
            first.get_or_insert(sent);
        }
        first.ok_or_else(|| store_error(e))
    }
}

fn local_id(m: &MessageRef) -> Option<i64> {
    m.id.strip_prefix(LOCAL)?.parse().ok()
}

fn store_error(e: StoreError) -> ChatError {
    ChatError::transient(format!("outbox unavailable: {e}"))
}

#[async_trait]
impl Chat for OutboxChat {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        let payload =
            serde_json::to_string(post).map_err(|e| ChatError::permanent(e.to_string()))?;
        let row = NewOutbox {
            platform: &self.platform,
            channel: &post.channel,
            op: "post",
            target: None,
            paced: post.ephemeral_to.is_none(),
            payload: &payload,
        };
        let id = match self.store.enqueue(&row, Utc::now()).await {
            Ok(id) => id,
            Err(e) => return self.post_directly(post, e).await,
        };
        Ok(MessageRef {
            channel: post.channel.clone(),
            id: format!("{LOCAL}{id}"),
        })
    }

    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError> {
        let Some(target) = local_id(message) else {
            // Posted directly while the outbox was down: edited directly too.
            return match &self.direct {
                Some(direct) => direct.update(message, post).await,
                None => Err(ChatError::permanent(format!(
                    "{} is not an outbox message",
                    message.encode()
                ))),
            };
        };
        let payload =
            serde_json::to_string(post).map_err(|e| ChatError::permanent(e.to_string()))?;
        let row = NewOutbox {
            platform: &self.platform,
            channel: &message.channel,
            op: "update",
            target: Some(target),
            paced: true,
            payload: &payload,
        };
        self.store
            .enqueue(&row, Utc::now())
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub deferred: usize,
    pub retried: usize,
    /// Held by a 429 (not an attempt).
    pub rate_limited: usize,
    pub failed: usize,
    /// Edits dropped because a newer edit of the same message was waiting.
    pub superseded: usize,
}

impl Delivered {
    fn add(&mut self, o: Delivered) {
        self.sent += o.sent;
        self.deferred += o.deferred;
        self.retried += o.retried;
        self.rate_limited += o.rate_limited;
        self.failed += o.failed;
        self.superseded += o.superseded;
    }
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 6) as u32)
}

/// Rows one delivery pass takes at most. At 100 ms ticks, 200 capped delivery at
/// 2,000 a second; passes now also start when a row is queued.
const PASS: i64 = 1000;

/// Delivers every due row of `platform_name` once, at time `now`: public posts and
/// edits at most one per `pace` per channel, private replies at once. Returns what
/// happened.
pub async fn deliver_due(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    now: DateTime<Utc>,
    pace: Duration,
) -> Result<Delivered, StoreError> {
    deliver_due_noting(
        store,
        platform_name,
        platform,
        now,
        pace,
        &mut Notices::default(),
    )
    .await
}

/// Where to say that a channel is closed to warroom, and the channels already said.
#[derive(Debug, Default)]
pub struct Notices {
    channel: Option<String>,
    told: std::collections::HashSet<String>,
}

impl Notices {
    /// Notices go to `channel` (the stakeholder channel, where warroom posts anyway).
    pub fn to(channel: &str) -> Self {
        Notices {
            channel: Some(channel.to_string()),
            told: Default::default(),
        }
    }
}

/// [`deliver_due`], and when the platform shuts warroom out of a channel (not
/// invited, no access), says so once per channel in the notice channel: otherwise
/// a run's progress and its people's replies would vanish with only a log line.
pub async fn deliver_due_noting(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    now: DateTime<Utc>,
    pace: Duration,
    notices: &mut Notices,
) -> Result<Delivered, StoreError> {
    // Channels are delivered side by side, each in order: a slow or hung call in one
    // (up to the adapters' call timeout) holds only that channel.
    let mut channels: Vec<Vec<OutboxRow>> = Vec::new();
    for row in store.due_outbox(platform_name, now, PASS).await? {
        match channels.iter_mut().find(|c| c[0].channel == row.channel) {
            Some(rows) => rows.push(row),
            None => channels.push(vec![row]),
        }
    }
    let shared = std::sync::Mutex::new(std::mem::take(notices));
    let holds: Holds = std::sync::Mutex::new(
        store
            .method_holds(platform_name, now)
            .await?
            .into_iter()
            .collect(),
    );
    let passes = channels.into_iter().map(|rows| {
        deliver_channel(
            store,
            platform_name,
            platform,
            rows,
            now,
            pace,
            &shared,
            &holds,
        )
    });
    let results = futures_util::future::join_all(passes).await;
    *notices = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut done = Delivered::default();
    for r in results {
        done.add(r?);
    }
    Ok(done)
}

/// The method buckets held by a 429 (see [`Chat::method`]), as read at the start of
/// a pass and as 429s arrive during it.
type Holds = std::sync::Mutex<std::collections::HashMap<String, DateTime<Utc>>>;

/// One channel's due rows, in order.
#[allow(clippy::too_many_arguments)]
async fn deliver_channel(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    rows: Vec<OutboxRow>,
    now: DateTime<Utc>,
    pace: Duration,
    notices: &std::sync::Mutex<Notices>,
    holds: &Holds,
) -> Result<Delivered, StoreError> {
    let mut done = Delivered::default();
    let (private, rows): (Vec<OutboxRow>, Vec<OutboxRow>) =
        rows.into_iter().partition(|r| !r.paced && r.op == "post");
    if !private.is_empty() {
        done.add(deliver_private(store, platform_name, platform, private, now, notices).await?);
    }
    for row in rows {
        if !store.claim_outbox(row.id, now, now + chrono(LEASE)).await? {
            continue;
        }
        // A progress message edited five times in a second needs only its last text.
        if let (true, Some(target)) = (row.op == "update", row.target) {
            if store
                .outbox_superseded(platform_name, row.id, target)
                .await?
            {
                store.outbox_sent(row.id, None, now).await?;
                done.superseded += 1;
                continue;
            }
        }
        // Order: nothing of a channel overtakes an earlier post or edit of it that is
        // still waiting or in flight (here or in another replica).
        if row.paced {
            if let Some(earlier) = store
                .outbox_behind(platform_name, &row.channel, row.id)
                .await?
            {
                let soon = now + chrono::Duration::milliseconds(200);
                store.outbox_defer(row.id, earlier.max(soon)).await?;
                done.deferred += 1;
                continue;
            }
        }
        let post: Post = match serde_json::from_str(&row.payload) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(id = row.id, error = %e, "unreadable outbox payload given up");
                store
                    .outbox_failed(row.id, &format!("unreadable payload: {e}"))
                    .await?;
                done.failed += 1;
                continue;
            }
        };
        // A 429 on this call's method holds it in every channel.
        let method = platform
            .method(&row.op, &post)
            .map(|m| format!("method:{m}"));
        let held = method.as_ref().and_then(|m| {
            let holds = holds.lock().unwrap_or_else(|e| e.into_inner());
            holds.get(m).copied().filter(|at| *at > now)
        });
        if let Some(at) = held {
            store.outbox_defer(row.id, at).await?;
            done.rate_limited += 1;
            continue;
        }
        // Pace: the bucket's next slot, taken with a compare-and-set so two
        // replicas never both send into a channel within `pace`, nor while a 429
        // holds it.
        let bucket = if row.paced {
            row.channel.as_str()
        } else {
            PRIVATE
        };
        let free = if row.paced {
            store
                .take_pace(platform_name, bucket, now, now + chrono(pace))
                .await?
        } else {
            store
                .pace(platform_name, bucket)
                .await?
                .is_none_or(|at| at <= now)
        };
        if !free {
            let at = store.pace(platform_name, bucket).await?.unwrap_or(now);
            store
                .outbox_defer(row.id, at.max(now + chrono::Duration::milliseconds(1)))
                .await?;
            done.deferred += 1;
            continue;
        }
        let step = send(store, platform_name, platform, &row, &post, now).await?;
        // A 429 also holds the call's method in every channel (and replica).
        if let (Step::Failed(e), Some(m)) = (&step, &method) {
            if !e.permanent && e.retry_after.is_some() {
                let until = now + chrono(e.retry_after.unwrap_or_default());
                store.hold_pace(platform_name, m, until).await?;
                let mut holds = holds.lock().unwrap_or_else(|e| e.into_inner());
                let at = holds.entry(m.clone()).or_insert(until);
                *at = (*at).max(until);
            }
        }
        done.add(
            settle(
                store,
                platform_name,
                &row,
                &post,
                step,
                bucket,
                now,
                notices,
            )
            .await?,
        );
    }
    Ok(done)
}

async fn notice_shut_out(
    store: &Store,
    platform_name: &str,
    channel: &str,
    e: &ChatError,
    requester: Option<String>,
    notices: &std::sync::Mutex<Notices>,
) {
    let to = {
        let mut notices = notices.lock().unwrap_or_else(|e| e.into_inner());
        let Some(to) = notices.channel.clone() else {
            return;
        };
        if to == channel || !notices.told.insert(channel.to_string()) {
            return;
        }
        to
    };
    let asked = requester.map_or(String::new(), |u| {
        format!(
            " It was answering {}.",
            crate::render::escape::inline_code(&u)
        )
    });
    let text = format!(
        "⚠️ warroom cannot post in channel {channel}. {}. Until it is let in there, \
         what it posts there (run progress, results, replies to people) is not seen; \
         commands typed there still run.{asked}",
        e.message
    );
    let post = Post::new(&to, crate::chat::PostKind::Error, text);
    if let Err(e) = OutboxChat::new(store.clone(), platform_name)
        .post(&post)
        .await
    {
        tracing::warn!(error = %e, channel = %to, "cannot queue a notice");
    }
}
