//! Who is who on Slack: the first time warroom hears from a user id, it asks
//! `users.info` for their name (in the background, once per process) and stores it
//! for the post-mortem. Authorization never looks at it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use slack_morphism::prelude::*;

use super::ingress::PLATFORM;
use super::web::SlackWeb;
use crate::app::App;
use crate::authz::UserId;

pub struct Directory {
    web: Arc<SlackWeb>,
    asked: Mutex<HashSet<String>>,
}

impl Directory {
    pub fn new(web: Arc<SlackWeb>) -> Self {
        Directory {
            web,
            asked: Mutex::new(HashSet::new()),
        }
    }

    /// Looks `user` up unless their name is known or was already asked for.
    pub fn learn(self: &Arc<Self>, app: &Arc<App>, user: &str) {
        let id = UserId::new(PLATFORM, user);
        let first = self
            .asked
            .lock()
            .map(|mut asked| asked.insert(user.to_string()))
            .unwrap_or(false);
        if !first || !app.unnamed(&id) {
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
        match session.users_info(&request).await {
            Ok(found) => {
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
            Err(e) => {
                tracing::debug!(error = %e, user, "users.info failed; the report shows the id");
                None
            }
        }
    }
}
