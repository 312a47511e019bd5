//! `warroom serve`: every configured chat platform at once, on one state database.
//!
//! Each platform gets its own [`App`] (its incidents, clocks and recovered runs are
//! its own), an outbox deliverer that paces and retries its posts, and its ingress
//! (Slack Socket Mode or HTTP, Discord gateway or HTTP). One HTTP listener serves
//! every HTTP endpoint plus `/healthz`. Built like zero2prod's `Application`: build,
//! read the port, then run until the shutdown future resolves, so tests bind
//! `127.0.0.1:0` and stop it when they are done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod discord;
pub mod hooks;
mod slack;
pub mod web;

use crate::app::App;
use crate::chat;
use crate::chat::outbox::{self, OutboxChat};
use crate::chat::Chat;
use crate::config::Settings;
use crate::services::StartError;
use crate::store::Store;

/// How long a shutdown waits for accepted commands to finish (orchestrators
/// commonly allow 30 s between SIGTERM and SIGKILL).
pub const DRAIN: Duration = Duration::from_secs(20);
/// How often each outbox is looked at. Delivery is paced per channel on top.
const OUTBOX_TICK: Duration = Duration::from_millis(100);
/// Slack allows about one message per second per channel.
const SLACK_PACE: Duration = Duration::from_secs(1);
/// Discord allows five per five seconds per channel; serenity's limiter does the rest.
const DISCORD_PACE: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "nothing to serve: no chat platform is configured. Set SLACK_BOT_TOKEN with \
         SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP), and/or DISCORD_TOKEN. \
         README, \"Connect Slack\", walks through it."
    )]
    NothingToServe,
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
}

/// What `serve` started, for the banner.
#[derive(Debug, Clone)]
pub struct Running {
    pub platform: &'static str,
    pub how: String,
}

pub struct Server {
    listener: TcpListener,
    router: Router,
    apps: Vec<Arc<App>>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    socket: Option<chat::slack::socket::SocketMode>,
    gateway: Option<chat::discord::gateway::Gateway>,
    pub running: Vec<Running>,
}

impl Server {
    /// Connects everything configured and binds the HTTP listener; nothing is
    /// handled until [`Server::run_until_stopped`].
    pub async fn build(settings: Settings) -> Result<Server, ServeError> {
        if settings.slack.is_none() && settings.discord.is_none() {
            return Err(ServeError::NothingToServe);
        }
        let (stop, stop_rx) = watch::channel(false);
        let mut server = Server {
            listener: TcpListener::bind(&settings.file.serve.listen)
                .await
                .map_err(|e| ServeError::Listen(settings.file.serve.listen.clone(), e))?,
            router: Router::new(),
            apps: Vec::new(),
            tasks: Vec::new(),
            stop,
            socket: None,
            gateway: None,
            running: Vec::new(),
        };
        if settings.slack.is_some() {
            server.add_slack(&settings, stop_rx.clone()).await?;
        }
        if settings.discord.is_some() {
            server.add_discord(&settings, stop_rx.clone()).await?;
        }
        server.add_pages(&settings)?;
        Ok(server)
    }

    /// The alert endpoints (on the app of `[alerts] platform`, else the first
    /// platform's), the status page and `/metrics`.
    fn add_pages(&mut self, settings: &Settings) -> Result<(), ServeError> {
        web::recorder();
        let app = match &settings.file.alerts.platform {
            Some(p) => self.apps.iter().find(|a| &a.platform == p).ok_or_else(|| {
                ServeError::Config(format!(
                    "[alerts] platform = \"{p}\" is not served; configure it or name one that is"
                ))
            })?,
            None => self.apps.first().ok_or(ServeError::NothingToServe)?,
        }
        .clone();
        let pages = Arc::new(web::Pages {
            store: app.store.clone(),
            settings: settings.clone(),
            token: settings.status_token.clone(),
        });
        let hooks = Arc::new(hooks::Hooks {
            app,
            secrets: settings.hooks.clone(),
        });
        self.router = std::mem::take(&mut self.router)
            .merge(hooks::router(hooks))
            .merge(web::router(pages));
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The apps serving each platform (tests read their stores).
    pub fn apps(&self) -> &[Arc<App>] {
        &self.apps
    }

    /// Serves until `shutdown` resolves, then stops taking commands, lets those
    /// being handled finish (up to [`DRAIN`]), and stops every task.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let Server {
            listener,
            router,
            apps,
            tasks,
            stop,
            socket,
            gateway,
            ..
        } = self;
        // The listener stops first; the clocks and outboxes (`stop`) only once the
        // commands already accepted have finished, so their answers go out.
        let (http_stop, mut http_stopped) = watch::channel(false);
        let http = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = http_stopped.changed().await;
        });
        let http = tokio::spawn(async move {
            if let Err(e) = http.await {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        });
        shutdown.await;
        tracing::info!("shutting down");
        let _ = http_stop.send(true);
        if let Some(socket) = socket {
            socket.shutdown().await;
        }
        if let Some(gateway) = gateway {
            gateway.shutdown().await;
        }
        for app in &apps {
            let left = app.inflight.drain(DRAIN).await;
            if left > 0 {
                // Reported to their users by the next start (App::report_lost_commands).
                tracing::warn!(
                    platform = %app.platform,
                    commands = left,
                    "stopping with commands still being handled"
                );
            }
        }
        let _ = stop.send(true);
        for task in tasks {
            // The outboxes drain what is queued first (bounded by `outbox::DRAIN`).
            let _ = tokio::time::timeout(outbox::DRAIN + Duration::from_secs(2), task).await;
        }
        let _ = http.await;
        for app in apps {
            app.store.close().await;
        }
    }

    /// Starts the platform-independent part for `platform`: its app on the shared
    /// database, crash recovery, its clocks and its outbox deliverer.
    async fn add_platform(
        &mut self,
        platform: &'static str,
        mut settings: Settings,
        stakeholder_channel: Option<&String>,
        delivery: impl FnOnce(Store) -> Arc<dyn Chat>,
        pace: Duration,
        stop: watch::Receiver<bool>,
    ) -> Result<Arc<App>, ServeError> {
        if let Some(channel) = stakeholder_channel {
            settings.file.warroom.stakeholder_channel = channel.clone();
        }
        let store = Store::connect(settings.database_url.expose_secret())
            .await
            .map_err(StartError::from)?;
        let delivery = delivery(store.clone());
        let chat = Arc::new(OutboxChat::new(store.clone(), platform).or_directly(delivery.clone()));
        let app = Arc::new(App::build_with(platform, settings, store.clone(), chat).await?);
        match app.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(platform, runs = n, "reported interrupted runs"),
            Err(e) => tracing::error!(error = %e, "cannot check for interrupted runs"),
        }
        let clocks = app.clone();
        let clock_stop = stop.clone();
        self.tasks.push(tokio::spawn(async move {
            crate::app::ticker::run(&clocks, &crate::incident::clock::SystemClock, clock_stop)
                .await;
        }));
        self.tasks.push(tokio::spawn(outbox::run(
            store,
            platform.to_string(),
            delivery,
            pace,
            OUTBOX_TICK,
            outbox::Notices::to(&app.settings.file.warroom.stakeholder_channel),
            stop,
        )));
        self.apps.push(app.clone());
        Ok(app)
    }
}
