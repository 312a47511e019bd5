//! One outbox row to the platform: each message of it in order, an edit to the
//! message it edits, and a look for an earlier delivery before a retry sends again.

use chrono::{DateTime, Utc};

use super::NEVER_DELIVERED;
use crate::chat::{Chat, ChatError, MessageRef, Post};
use crate::store::{OutboxRow, Store, StoreError};

pub(super) enum Step {
    Sent(Option<String>),
    Wait(DateTime<Utc>),
    Failed(ChatError),
}

pub(super) async fn deliver(
    store: &Store,
    platform: &dyn Chat,
    row: &OutboxRow,
    post: &Post,
    now: DateTime<Utc>,
) -> Result<Step, StoreError> {
    let parts = platform.split(post);
    let total = parts.len();
    let mut edited: Option<MessageRef> = None;
    if row.op == "update" {
        let target = row.target.unwrap_or_default();
        match store.outbox_state(target).await? {
            Some((state, Some(platform_id))) if state == "sent" => {
                edited = Some(MessageRef {
                    channel: row.channel.clone(),
                    id: platform_id,
                });
            }
            Some((state, _)) if state == "failed" => {
                return Ok(Step::Failed(ChatError::permanent(NEVER_DELIVERED)))
            }
            // Its post is not delivered yet: edits queue behind it.
            _ => return Ok(Step::Wait(now + chrono::Duration::milliseconds(200))),
        }
    }
    let mut first = row.platform_ref.clone();
    let start = usize::try_from(row.parts_done).unwrap_or(0);
    // The pieces go out back to back, in order: a short burst Slack and Discord
    // allow, and nothing else of this channel gets between them.
    for (i, part) in parts.iter().enumerate().skip(start) {
        let sent = match (&edited, i) {
            // An edit that grew past one message edits the message and posts the rest.
            (Some(m), 0) => platform.update(m, part).await.map(|()| None),
            _ => {
                let mut part = part.clone();
                if part.ephemeral_to.is_none() {
                    part.delivery = Some(crate::chat::delivery_id(
                        row.id,
                        row.created_at.timestamp_millis(),
                        i,
                    ));
                }
                // The last attempt at this message failed, perhaps after the
                // platform took it (its answer lost): look before sending it again.
                let found = if i == start
                    && (row.attempts > 0 || row.taken_over)
                    && part.delivery.is_some()
                {
                    already_sent(platform, &part, row.created_at).await
                } else {
                    None
                };
                match found {
                    Some(m) => Ok(Some(m.id)),
                    None => platform.post(&part).await.map(|m| Some(m.id)),
                }
            }
        };
        match sent {
            Ok(id) => {
                let id = if i == 0 && edited.is_none() { id } else { None };
                if id.is_some() {
                    first.clone_from(&id);
                }
                if i + 1 < total {
                    store
                        .outbox_part_sent(row.id, i as i64 + 1, id.as_deref(), now)
                        .await?;
                }
            }
            Err(mut e) if total > 1 => {
                e.message = format!("message {} of {total}: {}", i + 1, e.message);
                return Ok(Step::Failed(e));
            }
            Err(e) => return Ok(Step::Failed(e)),
        }
    }
    Ok(Step::Sent(if edited.is_some() { None } else { first }))
}

/// The message `part` went out as on an earlier attempt, if the platform shows it.
/// When it cannot tell (the lookup fails), the message is sent again: a duplicate
/// is better than a post lost.
async fn already_sent(
    platform: &dyn Chat,
    part: &Post,
    created: DateTime<Utc>,
) -> Option<MessageRef> {
    match platform
        .find(part, created - chrono::Duration::seconds(5))
        .await
    {
        Ok(Some(m)) => {
            tracing::info!(channel = %m.channel, id = %m.id, "a retried post was already delivered; not sent again");
            metrics::counter!("warroom_outbox_found_sent_total").increment(1);
            Some(m)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for an earlier delivery; sending again");
            None
        }
    }
}
