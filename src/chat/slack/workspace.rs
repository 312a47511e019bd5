//! What warroom does in the Slack workspace beside the pipeline, in the background
//! and once per process:
//!
//! - who is who: the first time it hears from a user id, it asks `users.info` for
//!   their name and stores it for the post-mortem (authorization never looks at it);
//! - where it is: the first accepted command in a public channel makes it join that
//!   channel (`conversations.join`), so it can post there and records what is said
//!   there. A refused or mistyped command does not.
//!   Private channels need an `/invite @warroom`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use slack_morphism::prelude::*;

use super::members::{matrix_groups, Members, JOIN_BUDGET};
use super::web::SlackWeb;
use super::PLATFORM;
use crate::app::App;
use crate::model::user::UserId;

pub struct Workspace {
    web: Arc<SlackWeb>,
    /// Channel membership and user groups, asked at the ack.
    pub members: Members,
    asked: Mutex<HashSet<String>>,
    joined: Mutex<HashSet<String>>,
}

/// Adds `key` to `set`; true the first time.
fn first_time(set: &Mutex<HashSet<String>>, key: &str) -> bool {
    set.lock()
        .map(|mut s| s.insert(key.to_string()))
        .unwrap_or(false)
}

impl Workspace {
    pub fn new(web: Arc<SlackWeb>) -> Self {
        Workspace {
            members: Members::new(web.clone()),
            web,
            asked: Mutex::new(HashSet::new()),
            joined: Mutex::new(HashSet::new()),
        }
    }

    /// Joins `channel` unless this process already did (or tried). Only public
    /// channels can be joined; elsewhere Slack says so and nothing changes. Awaited
    /// (for at most [`JOIN_BUDGET`]) so the command's first post does not race the
    /// join into `not_in_channel`.
    pub async fn join(&self, channel: &str) {
        // Direct messages and group DMs are not channels one joins.
        if channel.starts_with('D')
            || self.members.known_member(channel)
            || !first_time(&self.joined, channel)
        {
            return;
        }
        let session = self.web.client().open_session(self.web.token());
        let request = SlackApiConversationsJoinRequest::new(channel.to_string().into());
        match tokio::time::timeout(JOIN_BUDGET, session.conversations_join(&request)).await {
            Ok(Ok(_)) => tracing::info!(channel, "joined the channel"),
            Ok(Err(e)) => tracing::info!(
                error = %e,
                channel,
                "cannot join the channel (private? then /invite @warroom there)"
            ),
            Err(_) => tracing::info!(channel, "joining the channel is slow; posting joins it"),
        }
    }

    /// `user` with the matrix's Slack user groups they are in (`slack-group:S…`).
    pub async fn user(&self, app: &App, user: &str) -> UserId {
        let wanted = matrix_groups(&app.catalog.matrix);
        let id = UserId::new(PLATFORM, user);
        if wanted.is_empty() {
            return id;
        }
        id.with_groups(self.members.groups_of(user, &wanted).await)
    }

    /// Looks `user` up unless their name is known or was already asked for.
    pub fn learn(self: &Arc<Self>, app: &Arc<App>, user: &str) {
        let id = UserId::new(PLATFORM, user);
        if !first_time(&self.asked, user) || !app.unnamed(&id) {
            return;
        }
        let (directory, app) = (self.clone(), app.clone());
        tokio::spawn(async move {
            if let Some(name) = directory.lookup(&id.id).await {
                app.remember_name(&id, &name).await;
            }
        });
    }

    async fn lookup(&self, user: &str) -> Option<String> {
        let session = self.web.client().open_session(self.web.token());
        let request = SlackApiUsersInfoRequest::new(user.to_string().into());
        let asked = super::web::within(
            crate::chat::CALL_TIMEOUT,
            "users.info",
            session.users_info(&request),
        )
        .await;
        match asked {
            Err(late) => {
                tracing::debug!(error = %late.message, user, "users.info did not answer; the report shows the id");
                None
            }
            Ok(Ok(found)) => {
                let u = found.user;
                let profile = u.profile.as_ref();
                [
                    u.real_name.clone(),
                    profile.and_then(|p| p.real_name.clone()),
                    profile.and_then(|p| p.display_name.clone()),
                    u.name.clone(),
                ]
                .into_iter()
                .flatten()
                .find(|n| !n.trim().is_empty())
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, user, "users.info failed; the report shows the id");
                None
            }
        }
    }
}
