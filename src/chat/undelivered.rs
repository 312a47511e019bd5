//! A post the platform refused for good is told, never only logged: to the person
//! who asked (privately), and on the incident's timeline, with the platform's
//! reason and what to do about it.
//!
//! Posts carry no requester, so the requester is the one a private reply was for,
//! or else whoever typed the newest command in that channel before the post was
//! queued: the post answers that command or comes from the run it started. The
//! incident is the channel's newest one, open or resolved (`INCIDENT RESOLVED` is
//! posted after the incident closed).

use chrono::Utc;

use super::{Chat, ChatError, Post, PostKind};
use crate::model::incident::{kind, NewEvent};
use crate::model::user::UserId;
use crate::store::{OutboxRow, Store};

/// How every such report starts; a report that is itself refused is not reported
/// again (it would be refused the same way).
pub const MARK: &str = "⚠️ warroom could not deliver";

/// Reports the refusal of `post`, queuing the private reply through `outbox` (the
/// platform's outbox, handed in so this module needs nothing of it); returns the
/// requester it found, if any.
pub async fn report(
    store: &Store,
    outbox: &dyn Chat,
    platform: &str,
    row: &OutboxRow,
    post: &Post,
    e: &ChatError,
) -> Option<String> {
    if post.text.starts_with(MARK) {
        return None;
    }
    let (typed_by, incident) = match store
        .undelivered_context(platform, &row.channel, row.created_at)
        .await
    {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "cannot find whom to tell about a refused post");
            (None, None)
        }
    };
    let requester = post
        .ephemeral_to
        .as_ref()
        .map(|u| u.id.clone())
        .or(typed_by);
    let what = describe(post, row);
    let todo = advice(&e.message, incident.as_deref());
    if let Some(incident) = &incident {
        let text = format!(
            "Not delivered on {platform}: {what} in {}. {} refused it: {}",
            row.channel,
            platform_title(platform),
            e.message
        );
        let event = NewEvent {
            kind: kind::POST,
            actor: None,
            text: &text,
            run_id: None,
            step_idx: None,
        };
        if let Err(err) = store.append_event(incident, Utc::now(), &event).await {
            tracing::warn!(error = %err, incident, "cannot note a refused post on the timeline");
        }
    }
    // A channel closed to warroom takes no private reply either: that case is said
    // in the stakeholder channel (the outbox's `Notices`), naming the requester.
    if let (Some(user), false) = (&requester, e.shut_out) {
        let text = format!(
            "{MARK} {what} here. {} refused it: {}. {todo}",
            platform_title(platform),
            e.message
        );
        let reply =
            Post::new(&row.channel, PostKind::Error, text).ephemeral(&UserId::new(platform, user));
        if let Err(err) = outbox.post(&reply).await {
            tracing::warn!(error = %err, "cannot queue the report of a refused post");
        }
    }
    requester
}

fn platform_title(platform: &str) -> &str {
    match platform {
        "slack" => "Slack",
        "discord" => "Discord",
        other => other,
    }
}

/// "the progress message (an edit, 15,012 characters)".
fn describe(post: &Post, row: &OutboxRow) -> String {
    let kind = match post.kind {
        PostKind::Progress => "a run's progress message",
        PostKind::Template => "a runbook's message",
        PostKind::Status => "a stakeholder update",
        PostKind::Approval => "an approval request",
        PostKind::Checkpoint => "a checkpoint",
        PostKind::Help => "the help",
        PostKind::Page => "a page",
        PostKind::Ack | PostKind::Error | PostKind::Denied | PostKind::Info => "a reply",
    };
    let edit = if row.op == "update" { "an edit, " } else { "" };
    format!("{kind} ({edit}{} characters)", post.text.chars().count())
}

/// What someone can do about it, from the platform's reason.
fn advice(reason: &str, incident: Option<&str>) -> String {
    let record = match incident {
        Some(id) => format!(" The incident's record is whole: `warroom export {id}`."),
        None => String::new(),
    };
    if [
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_blocks",
        "50035",
    ]
    .iter()
    .any(|c| reason.contains(c))
    {
        format!("warroom built a message the platform does not take: please report it.{record}")
    } else if reason.contains("50013") || reason.contains("50001") {
        format!(
            "Give warroom's role View Channel, Send Messages and Read Message History in \
             this channel.{record}"
        )
    } else {
        format!(
            "If it keeps happening, tell whoever runs warroom (its log has the details).{record}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_follows_the_platforms_reason() {
        assert!(
            advice("Slack refused it: msg_blocks_too_long", Some("INC-1"))
                .contains("warroom export INC-1")
        );
        assert!(
            advice("Discord answered 403: Missing Permissions (50013)", None)
                .contains("Send Messages")
        );
        assert!(advice("Slack refused it: whatever", None).contains("log"));
    }
}
