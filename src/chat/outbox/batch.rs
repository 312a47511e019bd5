//! The outbox's batched path (issue 18) and the per-row outcome both paths share:
//! a pass's private replies claimed, sent side by side and marked sent together;
//! what a failed delivery leaves behind (a wait, a pace, a retry, a refusal told).

use chrono::{DateTime, Utc};

use super::{
    backoff, chrono, deliver, notice_shut_out, useful_for, Delivered, Notices, OutboxChat, Step,
    LEASE, NEVER_DELIVERED, PRIVATE,
};
use crate::chat::{Chat, Post};
use crate::store::{OutboxRow, Store, StoreError};

/// A row's post, or `None` when its payload cannot be read (then given up).
pub(super) async fn unpack(store: &Store, row: &OutboxRow) -> Result<Option<Post>, StoreError> {
    match serde_json::from_str(&row.payload) {
        Ok(p) => Ok(Some(p)),
        Err(e) => {
            tracing::error!(id = row.id, error = %e, "unreadable outbox payload given up");
            store
                .outbox_failed(row.id, &format!("unreadable payload: {e}"))
                .await?;
            Ok(None)
        }
    }
}

/// Hands a row to the platform, counting the platform's refusals by kind.
pub(super) async fn send(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    row: &OutboxRow,
    post: &Post,
    now: DateTime<Utc>,
) -> Result<Step, StoreError> {
    let step = deliver(store, platform, row, post, now).await?;
    if let Step::Failed(e) = &step {
        let kind = if e.retry_after.is_some() {
            "rate_limited"
        } else if e.shut_out {
            "shut_out"
        } else if e.permanent {
            "permanent"
        } else {
            "transient"
        };
        let platform = crate::model::metric::platform(platform_name);
        metrics::counter!("warroom_platform_errors_total", "platform" => platform, "kind" => kind)
            .increment(1);
    }
    Ok(step)
}

/// Records a delivery that did not go out: a wait, a 429's pace, a retry, or a
/// refusal given up and told.
#[allow(clippy::too_many_arguments)]
pub(super) async fn settle(
    store: &Store,
    platform_name: &str,
    row: &OutboxRow,
    post: &Post,
    step: Step,
    bucket: &str,
    now: DateTime<Utc>,
    notices: &std::sync::Mutex<Notices>,
) -> Result<Delivered, StoreError> {
    let mut done = Delivered::default();
    match step {
        Step::Sent(platform_ref) => {
            store
                .outbox_sent(row.id, platform_ref.as_deref(), now)
                .await?;
            done.sent += 1;
        }
        Step::Wait(until) => {
            store.outbox_defer(row.id, until.max(now)).await?;
            done.deferred += 1;
        }
        Step::Failed(e) if !e.permanent && e.retry_after.is_some() => {
            // A pace, not a failure: everything of this bucket waits exactly as
            // long as the platform said, in every replica, and no attempt counts.
            let until = now + chrono(e.retry_after.unwrap_or_default());
            store.hold_pace(platform_name, bucket, until).await?;
            store.outbox_defer(row.id, until).await?;
            done.rate_limited += 1;
        }
        Step::Failed(e) => {
            let age = (now - row.created_at).to_std().unwrap_or_default();
            if e.permanent || age >= useful_for(&row.op, post) {
                tracing::error!(id = row.id, channel = %row.channel, error = %e, "message given up");
                store.outbox_failed(row.id, &e.message).await?;
                done.failed += 1;
                // The post an edit was for has been reported already.
                let told = if e.message == NEVER_DELIVERED {
                    None
                } else {
                    let outbox = OutboxChat::new(store.clone(), platform_name);
                    crate::chat::undelivered::report(store, &outbox, platform_name, row, post, &e)
                        .await
                };
                if e.shut_out {
                    notice_shut_out(store, platform_name, &row.channel, &e, told, notices).await;
                }
            } else {
                store
                    .outbox_retry(row.id, now + chrono(backoff(row.attempts)), &e.message)
                    .await?;
                done.retried += 1;
            }
        }
    }
    Ok(done)
}

/// One command's private replies to one reader, in order.
type Replies = Vec<(OutboxRow, Post)>;

/// How many private replies of one pass are in flight at once.
const PRIVATE_AT_ONCE: usize = 16;

/// A channel's due private replies (issue 18: one claim, one pace check and one
/// sent-update per row let replies fall behind the acks by ~500 a second). They
/// skip the channel's pace and order, so they are claimed in one statement, sent
/// side by side (each command's replies to each person in order,
/// [`PRIVATE_AT_ONCE`] calls at a time) and
/// marked sent in one statement. A crash between a send and that update re-sends
/// the reply once the lease lapses, as it would for a single row.
pub(super) async fn deliver_private(
    store: &Store,
    platform_name: &str,
    platform: &dyn Chat,
    rows: Vec<OutboxRow>,
    now: DateTime<Utc>,
    notices: &std::sync::Mutex<Notices>,
) -> Result<Delivered, StoreError> {
    let mut done = Delivered::default();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let claimed = store
        .claim_outbox_many(&ids, now, now + chrono(LEASE))
        .await?;
    let claimed: std::collections::HashSet<i64> = claimed.into_iter().collect();
    let rows: Vec<OutboxRow> = rows
        .into_iter()
        .filter(|r| claimed.contains(&r.id))
        .collect();
    if rows.is_empty() {
        return Ok(done);
    }
    // A 429 on private replies holds them all.
    if let Some(at) = store
        .pace(platform_name, PRIVATE)
        .await?
        .filter(|at| *at > now)
    {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        store
            .outbox_defer_many(&ids, at.max(now + chrono::Duration::milliseconds(1)))
            .await?;
        done.deferred += ids.len();
        return Ok(done);
    }
    // Each command's replies to each reader in order, side by side with the rest.
    let mut threads: Vec<Replies> = Vec::new();
    let mut thread_of: std::collections::HashMap<(Option<String>, Option<String>), usize> =
        std::collections::HashMap::new();
    for row in rows {
        let Some(post) = unpack(store, &row).await? else {
            done.failed += 1;
            continue;
        };
        let key = (
            post.ephemeral_to.as_ref().map(|u| u.id.clone()),
            post.answers.clone(),
        );
        let at = *thread_of.entry(key).or_insert_with(|| {
            threads.push(Vec::new());
            threads.len() - 1
        });
        threads[at].push((row, post));
    }
    let gate = tokio::sync::Semaphore::new(PRIVATE_AT_ONCE);
    let sends = threads.into_iter().map(|posts| {
        let gate = &gate;
        async move {
            let mut steps = Vec::with_capacity(posts.len());
            for (row, post) in posts {
                let _turn = gate.acquire().await;
                let step = send(store, platform_name, platform, &row, &post, now).await;
                steps.push((row, post, step));
            }
            steps
        }
    });
    let mut sent = Vec::new();
    for (row, post, step) in futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
    {
        match step? {
            Step::Sent(platform_ref) => sent.push((row.id, platform_ref)),
            step => done.add(
                settle(
                    store,
                    platform_name,
                    &row,
                    &post,
                    step,
                    PRIVATE,
                    now,
                    notices,
                )
                .await?,
            ),
        }
    }
    store.outbox_sent_many(&sent, now).await?;
    done.sent += sent.len();
    Ok(done)
}
