//! The application: the pipeline every chat message goes through, whatever the
//! platform (record → triage → execute → conclude), and one handler per command
//! family under `handlers/`.
//!
//! `App` is the domain's [`Services`] plus what only the pipeline needs: the
//! commands in flight and the names already learnt. It derefs to its services, so a
//! handler reads `app.store` and passes `app` wherever the domain takes
//! `&Services`. The console and `warroom run` build an [`Incoming`] and call
//! [`App::handle`] (the returned [`Outcome`] is `run`'s exit code); chat platforms
//! call [`App::acknowledge`] and answer with its [`pipeline::Ack`].

pub mod alerts;
pub mod handlers;
pub mod pipeline;
mod recovery;
pub mod ticker;

use std::sync::Arc;

use chrono::Utc;
use secrecy::ExposeSecret;

use crate::chat::Post;
use crate::chat::{Chat, PostKind};
use crate::config::Settings;
use crate::model::user::UserId;
use crate::render::escape;
use crate::services::{Services, StartError};
use crate::store::Store;

/// One message from a chat platform.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub user: UserId,
    pub channel: String,
    pub text: String,
    /// The platform's delivery id; a redelivery with the same key is ignored.
    pub dedup_key: Option<String>,
}

impl Incoming {
    /// `post`, shown only to whoever sent this, as this command's reply (one
    /// command's replies keep their order: [`Post::answers`]).
    pub fn private(&self, post: Post) -> Post {
        post.reply_to(&self.user, self.dedup_key.as_deref())
    }
}

/// How handling ended. Exit codes are DESIGN.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Waiting for approvals or a human checkpoint.
    Waiting,
    Invalid,
    Denied,
    StepFailed,
    Internal,
    /// A redelivery of a message already handled.
    Duplicate,
}

impl Outcome {
    /// How a reply saying why a command did not run is styled.
    pub fn reply_kind(self) -> PostKind {
        if self == Outcome::Denied {
            PostKind::Denied
        } else {
            PostKind::Error
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Done | Outcome::Waiting | Outcome::Duplicate => 0,
            Outcome::Invalid => 2,
            Outcome::Denied => 3,
            Outcome::StepFailed => 4,
            Outcome::Internal => 1,
        }
    }
}

/// What a handler reports back to the pipeline for the audit record.
pub struct Handled {
    pub outcome: Outcome,
    pub run_id: Option<i64>,
}

impl Handled {
    pub fn done() -> Self {
        Handled {
            outcome: Outcome::Done,
            run_id: None,
        }
    }
}

/// How long a process may go unheard (it says it is alive every second) before
/// the commands it was handling count as lost.
pub const HANDLER_QUIET: std::time::Duration = std::time::Duration::from_secs(30);

/// Commands being handled in the background, counted so that a shutdown can let
/// them finish before the database closes under them.
#[derive(Default, Clone)]
pub struct Inflight(Arc<InflightInner>);

#[derive(Default)]
struct InflightInner {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Held by one background command; dropping it says the command is over.
pub struct InflightGuard(Arc<InflightInner>);

impl Inflight {
    pub fn enter(&self) -> InflightGuard {
        self.0
            .count
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InflightGuard(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until no command is being handled, or `limit` passes; returns how
    /// many were still running.
    pub async fn drain(&self, limit: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Created before the check, so a guard dropped in between still wakes it.
            let idle = self.0.idle.notified();
            let n = self.count();
            if n == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.count();
            }
        }
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        let before = self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if before == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

pub struct App {
    services: Services,
    /// Accepted commands still being handled in the background.
    pub inflight: Inflight,
    /// Users whose display name this process has already stored.
    named: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    /// Held while a delivery of alerts is handled (`alerts`).
    alerting: tokio::sync::Mutex<()>,
}

impl std::ops::Deref for App {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl App {
    /// [`App::build_on`] the console platform: `warroom run`, `console` and tests.
    pub async fn build(settings: Settings, chat: Arc<dyn Chat>) -> Result<App, StartError> {
        App::build_on("console", settings, chat).await
    }

    /// Opens the state database, then [`App::build_with`] it.
    pub async fn build_on(
        platform: &str,
        settings: Settings,
        chat: Arc<dyn Chat>,
    ) -> Result<App, StartError> {
        let store = Store::connect(settings.database_url.expose_secret()).await?;
        App::build_with(platform, settings, store, chat).await
    }

    /// The app on an open store (shared with the platform's outbox): its services
    /// with the built-in commands' names reserved.
    pub async fn build_with(
        platform: &str,
        settings: Settings,
        store: Store,
        chat: Arc<dyn Chat>,
    ) -> Result<App, StartError> {
        let services = Services::build(platform, settings, store, chat, handlers::NAMES).await?;
        Ok(App {
            services,
            named: Default::default(),
            inflight: Inflight::default(),
            alerting: Default::default(),
        })
    }

    /// Whether `user`'s display name is still to be learnt by this process.
    pub fn unnamed(&self, user: &UserId) -> bool {
        self.named
            .lock()
            .map(|n| !n.contains(&(user.platform.clone(), user.id.clone())))
            .unwrap_or(true)
    }

    /// Stores the name a platform gives `user`, once per process, for the
    /// post-mortem's list of people. Failing to is only logged.
    pub async fn remember_name(&self, user: &UserId, name: &str) {
        let name = name.trim();
        if name.is_empty() || !self.unnamed(user) {
            return;
        }
        let name: String = name.chars().take(80).collect();
        match self
            .store
            .remember_name(&user.platform, &user.id, &name, Utc::now())
            .await
        {
            Ok(()) => {
                if let Ok(mut n) = self.named.lock() {
                    n.insert((user.platform.clone(), user.id.clone()));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot store a display name"),
        }
    }

    /// Posts to the user who sent `msg`, visible only to them.
    pub async fn reply(&self, msg: &Incoming, kind: PostKind, text: &str) {
        let post = msg.private(Post::new(
            &msg.channel,
            kind,
            escape::neutralize_mentions(text),
        ));
        self.send(&post).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_drain_waits_for_the_commands_in_flight_and_no_longer_than_its_limit() {
        let inflight = Inflight::default();
        assert_eq!(inflight.drain(Duration::from_secs(5)).await, 0);
        let (a, b) = (inflight.enter(), inflight.enter());
        assert_eq!(inflight.drain(Duration::from_millis(20)).await, 2);
        drop(a);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(b);
        });
        assert_eq!(inflight.drain(Duration::from_secs(30)).await, 0);
    }
}
