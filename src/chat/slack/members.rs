//! Who is where, asked of Slack at the ack and cached briefly:
//!
//! - whether warroom is in a channel (`conversations.info`), so a command typed in a
//!   private channel it was never invited to is refused before anything runs,
//!   instead of running with every reply lost to `not_in_channel`;
//! - who is in a user group (`usergroups.users.list`), so the matrix may list
//!   `slack-group:S0123ABC` the way it lists `discord-role:ID`. Ids only: a group's
//!   name or handle never counts.
//!
//! Slack being slow or down never blocks a command: an answer that does not come
//! within [`ASK_BUDGET`] counts as "in the channel" and "in no group".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::web::SlackWeb;

/// The longest the ack waits on Slack for membership and groups (asked together).
/// With the record's own budget (2 s) and [`JOIN_BUDGET`], Slack hears back within
/// its 3 s.
pub const ASK_BUDGET: Duration = Duration::from_millis(400);
/// The longest the ack waits for `conversations.join`; past it, the first post
/// joins (see `web.rs`).
pub const JOIN_BUDGET: Duration = Duration::from_millis(300);
/// How long a group's members are trusted: someone removed from a group loses
/// what it granted within this.
pub const GROUP_TTL: Duration = Duration::from_secs(60);
/// How long "warroom is in this channel" is trusted.
const MEMBER_TTL: Duration = Duration::from_secs(600);
/// How long "not in this channel" is trusted: an `/invite @warroom` takes effect
/// within this.
const OUTSIDER_TTL: Duration = Duration::from_secs(5);

/// How long "Slack did not say; assume warroom can post" is trusted.
const ASSUMED_TTL: Duration = Duration::from_secs(5);
/// What a channel is taken to be when `conversations.info` fails or is late.
const ASSUMED: Seen = Seen {
    can_post: true,
    member: false,
};

/// The matrix member prefix for a Slack user group.
pub const GROUP_PREFIX: &str = "slack-group:";

type Cache<T> = Mutex<HashMap<String, (Instant, T)>>;

/// What `conversations.info` said of a channel.
#[derive(Debug, Clone, Copy)]
struct Seen {
    can_post: bool,
    member: bool,
}

pub struct Members {
    web: Arc<SlackWeb>,
    channels: Cache<Seen>,
    groups: Cache<Vec<String>>,
}

fn cached<T: Clone>(cache: &Cache<T>, key: &str) -> Option<T> {
    let cache = cache.lock().ok()?;
    let (until, value) = cache.get(key)?;
    (Instant::now() < *until).then(|| value.clone())
}

fn remember<T>(cache: &Cache<T>, key: &str, ttl: Duration, value: T) {
    if let Ok(mut cache) = cache.lock() {
        cache.insert(key.to_string(), (Instant::now() + ttl, value));
    }
}

impl Members {
    pub fn new(web: Arc<SlackWeb>) -> Self {
        Members {
            web,
            channels: Mutex::new(HashMap::new()),
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// Whether warroom can post in `channel`: it is a member, or the channel is
    /// public (warroom joins it on the command's acceptance). False only when Slack
    /// says so: a private channel it is not in (`channel_not_found` to it).
    pub async fn can_post(&self, channel: &str) -> bool {
        // Direct messages are answered through the app's own DM.
        if channel.starts_with('D') {
            return true;
        }
        if let Some(known) = cached(&self.channels, channel) {
            return known.can_post;
        }
        let session = self.web.client().open_session(self.web.token());
        let request = SlackApiConversationsInfoRequest::new(channel.to_string().into());
        let asked = tokio::time::timeout(ASK_BUDGET, session.conversations_info(&request)).await;
        let (seen, ttl) = match asked {
            Ok(Ok(info)) => {
                let c = &info.channel;
                let private = c.flags.is_private.unwrap_or(false);
                let member = c.flags.is_member.unwrap_or(false);
                let can_post = member || !private;
                let ttl = if can_post { MEMBER_TTL } else { OUTSIDER_TTL };
                (Seen { can_post, member }, ttl)
            }
            Ok(Err(SlackClientError::ApiError(e))) if e.code == "channel_not_found" => (
                Seen {
                    can_post: false,
                    member: false,
                },
                OUTSIDER_TTL,
            ),
            // Assumed, not known, so trusted only briefly: a Slack that fails or
            // hangs is asked once per channel every few seconds, not once per
            // command (each call up to ASK_BUDGET, and a log line; issue 18's bench
            // stand-in answered without `created`, and every command paid both).
            Ok(Err(e)) => {
                tracing::info!(error = %e, channel, "conversations.info failed; assuming warroom is in");
                (ASSUMED, ASSUMED_TTL)
            }
            Err(_) => {
                tracing::info!(
                    channel,
                    "conversations.info did not answer in time; assuming warroom is in"
                );
                (ASSUMED, ASSUMED_TTL)
            }
        };
        remember(&self.channels, channel, ttl, seen);
        seen.can_post
    }

    /// Whether Slack said warroom is in `channel` (then there is nothing to join).
    pub fn known_member(&self, channel: &str) -> bool {
        cached(&self.channels, channel).is_some_and(|s| s.member)
    }

    /// The groups among `wanted` (`S…` ids) that `user` is in. Asked all at once, so
    /// the ack waits [`ASK_BUDGET`] at most however many groups the matrix names.
    pub async fn groups_of(&self, user: &str, wanted: &[String]) -> Vec<String> {
        let lists = futures_util::future::join_all(wanted.iter().map(|g| self.members(g))).await;
        wanted
            .iter()
            .zip(lists)
            .filter(|(_, members)| members.iter().any(|m| m == user))
            .map(|(group, _)| group.clone())
            .collect()
    }

    async fn members(&self, group: &str) -> Vec<String> {
        if let Some(known) = cached(&self.groups, group) {
            return known;
        }
        let session = self.web.client().open_session(self.web.token());
        let request = SlackApiUserGroupsUsersListRequest::new(group.to_string().into());
        match tokio::time::timeout(ASK_BUDGET, session.usergroups_users_list(&request)).await {
            Ok(Ok(list)) => {
                let users: Vec<String> = list.users.iter().map(|u| u.to_string()).collect();
                remember(&self.groups, group, GROUP_TTL, users.clone());
                users
            }
            Ok(Err(e)) => {
                tracing::info!(error = %e, group, "usergroups.users.list failed; the group grants nothing now");
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }
}

/// The Slack user groups the matrix names (`slack-group:S…`), deduplicated.
pub fn matrix_groups(matrix: &crate::authz::Matrix) -> Vec<String> {
    let mut out: Vec<String> = matrix
        .roles
        .values()
        .flat_map(|r| r.members.iter())
        .filter_map(|m| m.strip_prefix(GROUP_PREFIX))
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}
