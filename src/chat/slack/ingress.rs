//! What Slack sends warroom, the same whichever way it arrives (Socket Mode or
//! HTTP): slash commands, button presses and channel messages, turned into the
//! core's [`Incoming`] and answered within Slack's 3 seconds.
//!
//! A button's value is the command line it stands for (`/approve RUN-7`), run as the
//! person who pressed it, so presses get exactly the checks typed commands get.

use std::sync::Arc;

use super::workspace::Workspace;
use super::PLATFORM;
use crate::app::pipeline::Ack;
use crate::app::{App, Incoming};
use crate::model::user::UserId;
use crate::store::StoreError;

/// A slash command as Slack describes it.
#[derive(Debug, Clone)]
pub struct SlashCommand<'a> {
    pub user: &'a str,
    pub channel: &'a str,
    /// `/kanban-off`, or `/warroom` followed by the command in `text`.
    pub command: &'a str,
    pub text: &'a str,
    /// Unique per invocation; a redelivery carries the same one.
    pub trigger_id: Option<&'a str>,
}

/// The ack of a command typed where warroom cannot post: nothing runs.
pub const NOT_A_MEMBER: &str = "🚪 warroom is not in this channel, so nothing it did here \
    could be seen. Invite @warroom to this channel first (`/invite @warroom`), then type \
    the command again. Nothing was run.";

/// Who is acting: their id, and the matrix's Slack user groups they are in.
async fn acting(workspace: Option<&Arc<Workspace>>, app: &App, user: &str) -> UserId {
    match workspace {
        Some(workspace) => workspace.user(app, user).await,
        None => UserId::new(PLATFORM, user),
    }
}

/// Records the command, triages it and returns the ephemeral ack (Markdown) Slack
/// shows the user: the answer itself for a mistake or a refusal, else "accepted".
/// A command typed in a channel warroom is not in is refused before it is recorded
/// (`None`): like a forged request, it never entered warroom, and nothing runs.
pub async fn command(
    app: &Arc<App>,
    workspace: Option<&Arc<Workspace>>,
    c: SlashCommand<'_>,
) -> (Option<Ack>, String) {
    // Membership and user groups are asked at once: the ack waits for one answer.
    let can_post = async {
        match workspace {
            Some(workspace) => workspace.members.can_post(c.channel).await,
            None => true,
        }
    };
    let (can_post, user) = tokio::join!(can_post, acting(workspace, app, c.user));
    if !can_post {
        return (None, NOT_A_MEMBER.to_string());
    }
    if let Some(workspace) = workspace {
        workspace.learn(app, c.user);
    }
    // `/incident-status` is `/status` to the core: Slack keeps `/status` for itself.
    let command = super::manifest::core_name(c.command);
    let line = format!("{command} {}", c.text).trim().to_string();
    let msg = Incoming {
        user,
        channel: c.channel.to_string(),
        text: line.clone(),
        dedup_key: c.trigger_id.map(|t| format!("slack:command:{t}")),
    };
    let ack = app.acknowledge(msg).await;
    // Only a command that will post there brings warroom into a channel: a typo or
    // a refusal from someone without a role does not make it join (and record) it.
    if let (Some(workspace), Ack::Accepted(_)) = (workspace, &ack) {
        workspace.join(c.channel).await;
    }
    let text = ack.text(&line);
    (Some(ack), text)
}

/// A press of one of warroom's buttons: its value is a command line, run as the
/// presser. Anything else (another app's button) is ignored.
pub async fn button(
    app: &Arc<App>,
    workspace: Option<&Arc<Workspace>>,
    user: &str,
    channel: &str,
    value: &str,
    action_ts: Option<&str>,
) -> Option<Ack> {
    if !value.starts_with('/') {
        return None;
    }
    if let Some(workspace) = workspace {
        workspace.learn(app, user);
    }
    let msg = Incoming {
        user: acting(workspace, app, user).await,
        channel: channel.to_string(),
        text: value.to_string(),
        dedup_key: action_ts.map(|ts| format!("slack:action:{user}:{ts}")),
    };
    let ack = app.acknowledge(msg.clone()).await;
    if let Ack::Refused { text, outcome } = &ack {
        // A press has no ack text of its own: the refusal is a private reply.
        app.reply(&msg, outcome.reply_kind(), text).await;
    }
    Some(ack)
}

/// A message typed in a channel warroom is in: the channel history for the
/// post-mortem. A redelivery (same `ts`) is recorded once; true if it was new.
pub async fn message(
    app: &Arc<App>,
    workspace: Option<&Arc<Workspace>>,
    channel: &str,
    user: &str,
    text: &str,
    ts: &str,
) -> Result<bool, StoreError> {
    if let Some(workspace) = workspace {
        workspace.learn(app, user);
    }
    app.store
        .record_message(PLATFORM, channel, user, text, ts_time(ts), Some(ts))
        .await
}

/// Slack's `ts` (`"1763900000.000100"`) as a time; now if it does not parse.
pub fn ts_time(ts: &str) -> chrono::DateTime<chrono::Utc> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let padded: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    let micros: i64 = padded.parse().unwrap_or(0);
    secs.parse::<i64>()
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, (micros * 1000) as u32))
        .unwrap_or_else(chrono::Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_timestamps_keep_their_microseconds() {
        let t = ts_time("1763900000.000100");
        assert_eq!(t.timestamp(), 1_763_900_000);
        assert_eq!(t.timestamp_subsec_micros(), 100);
        assert_eq!(ts_time("1763900000").timestamp(), 1_763_900_000);
        // Garbage never panics.
        for bad in ["", ".", "x.é", "1.ééééééé", "99999999999999999999.1"] {
            let _ = ts_time(bad);
        }
    }
}
