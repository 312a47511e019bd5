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

use axum::routing::get;
use axum::Router;
use secrecy::ExposeSecret;
use serenity::model::id::GuildId;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::{App, StartError};
use crate::chat::outbox::{self, OutboxChat};
use crate::chat::Chat;
use crate::chat::{discord, slack};
use crate::config::{DiscordMode, Settings, SlackMode};
use crate::store::Store;

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
    socket: Option<slack::socket::SocketMode>,
    gateway: Option<discord::gateway::Gateway>,
    pub running: Vec<Running>,
}

impl Server {
    /// Connects everything configured and binds the HTTP listener; nothing is
    /// handled until [`Server::run_until_stopped`].
    pub async fn build(settings: Settings) -> Result<Server, ServeError> {
        let (stop, stop_rx) = watch::channel(false);
        let mut server = Server {
            listener: TcpListener::bind(&settings.file.serve.listen)
                .await
                .map_err(|e| ServeError::Listen(settings.file.serve.listen.clone(), e))?,
            router: Router::new().route("/healthz", get(|| async { "ok" })),
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
        if server.apps.is_empty() {
            return Err(ServeError::NothingToServe);
        }
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The apps serving each platform (tests read their stores).
    pub fn apps(&self) -> &[Arc<App>] {
        &self.apps
    }

    /// Serves until `shutdown` resolves, then stops every task.
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
        let mut stopped = stop.subscribe();
        let http = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.changed().await;
        });
        let http = tokio::spawn(async move {
            if let Err(e) = http.await {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        });
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
        if let Some(socket) = socket {
            socket.shutdown().await;
        }
        if let Some(gateway) = gateway {
            gateway.shutdown().await;
        }
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
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
        let chat = Arc::new(OutboxChat::new(store.clone(), platform));
        let app = Arc::new(App::build_with(platform, settings, store.clone(), chat).await?);
        match app.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(platform, runs = n, "reported interrupted runs"),
            Err(e) => tracing::error!(error = %e, "cannot check for interrupted runs"),
        }
        let clocks = app.clone();
        let clock_stop = stop.clone();
        self.tasks.push(tokio::spawn(async move {
            crate::incident::clock::run(&clocks, &crate::incident::clock::SystemClock, clock_stop)
                .await;
        }));
        self.tasks.push(tokio::spawn(outbox::run(
            store,
            platform.to_string(),
            delivery,
            pace,
            OUTBOX_TICK,
            stop,
        )));
        self.apps.push(app.clone());
        Ok(app)
    }

    async fn add_slack(
        &mut self,
        settings: &Settings,
        stop: watch::Receiver<bool>,
    ) -> Result<(), ServeError> {
        let Some(secrets) = &settings.slack else {
            return Ok(());
        };
        let config = &settings.file.slack;
        let client = slack::web::client(&config.api_url)
            .map_err(|e| ServeError::Config(format!("Slack client: {e}")))?;
        let web = Arc::new(slack::web::SlackWeb::new(
            client.clone(),
            &secrets.bot_token,
        ));
        let app = self
            .add_platform(
                slack::ingress::PLATFORM,
                settings.clone(),
                config.stakeholder_channel.as_ref(),
                {
                    let web = web.clone();
                    move |_| web as Arc<dyn Chat>
                },
                SLACK_PACE,
                stop.clone(),
            )
            .await?;
        let people = Arc::new(slack::people::Directory::new(web.clone()));
        let pace = slack::history::Pace {
            page: config.history_page.max(1),
            interval: crate::command::spec::parse_duration(&config.history_interval)
                .unwrap_or(Duration::from_secs(60)),
        };
        match config.mode {
            SlackMode::Socket => {
                let token = secrets.app_token.as_ref().ok_or_else(|| {
                    ServeError::Config(
                        "Slack Socket Mode needs SLACK_APP_TOKEN (an app-level token, xapp-…, \
                         with connections:write). Or set [slack] mode = \"http\" and \
                         SLACK_SIGNING_SECRET."
                            .into(),
                    )
                })?;
                let (connected, hellos) = mpsc::unbounded_channel();
                self.tasks
                    .push(tokio::spawn(backfill(app.clone(), web, pace, hellos, stop)));
                let socket = slack::socket::SocketMode::start(
                    app,
                    client,
                    token,
                    Some(people),
                    Some(connected),
                )
                .await
                .map_err(ServeError::Config)?;
                self.socket = Some(socket);
                self.running.push(Running {
                    platform: "Slack",
                    how: "Socket Mode".into(),
                });
            }
            SlackMode::Http => {
                let secret = secrets.signing_secret.clone().ok_or_else(|| {
                    ServeError::Config(
                        "Slack HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → \
                         Signing Secret)."
                            .into(),
                    )
                })?;
                let state = Arc::new(slack::http::SlackHttp {
                    app: app.clone(),
                    signing_secret: secret,
                    people: Some(people),
                });
                self.router = std::mem::take(&mut self.router).merge(slack::http::router(state));
                // No reconnects to hear about: backfill once at start.
                let (connected, hellos) = mpsc::unbounded_channel();
                let _ = connected.send(());
                self.tasks
                    .push(tokio::spawn(backfill(app, web, pace, hellos, stop)));
                self.running.push(Running {
                    platform: "Slack",
                    how: "HTTP at /slack/commands, /slack/interactivity, /slack/events".into(),
                });
            }
        }
        Ok(())
    }
}

impl Server {
    async fn add_discord(
        &mut self,
        settings: &Settings,
        stop: watch::Receiver<bool>,
    ) -> Result<(), ServeError> {
        let Some(secrets) = &settings.discord else {
            return Ok(());
        };
        let config = &settings.file.discord;
        let guild = match &config.guild_id {
            Some(g) => Some(
                g.parse::<u64>()
                    .ok()
                    .filter(|&n| n != 0)
                    .map(GuildId::new)
                    .ok_or_else(|| {
                        ServeError::Config(format!("[discord] guild_id `{g}` is not a Discord id"))
                    })?,
            ),
            None => None,
        };
        let http = |application_id: Option<u64>| {
            let mut b = serenity::http::HttpBuilder::new(secrets.token.expose_secret());
            if let Some(url) = &config.api_url {
                // A local fake: serenity's limiter would wait on headers it never sends.
                b = b
                    .proxy(url.trim_end_matches('/'))
                    .ratelimiter_disabled(true);
            }
            if let Some(id) = application_id {
                b = b.application_id(id.into());
            }
            b.build()
        };
        let application_id = match &secrets.application_id {
            Some(id) => id.parse::<u64>().ok().filter(|&n| n != 0).ok_or_else(|| {
                ServeError::Config(format!("DISCORD_APPLICATION_ID `{id}` is not a Discord id"))
            })?,
            None => http(None)
                .get_current_application_info()
                .await
                .map_err(|e| {
                    ServeError::Config(format!(
                        "cannot ask Discord for the application (check DISCORD_TOKEN): {e}"
                    ))
                })?
                .id
                .get(),
        };
        let web_http = Arc::new(http(Some(application_id)));
        let app = self
            .add_platform(
                discord::PLATFORM,
                settings.clone(),
                config.stakeholder_channel.as_ref(),
                move |store| {
                    Arc::new(discord::web::DiscordWeb::new(web_http, store)) as Arc<dyn Chat>
                },
                DISCORD_PACE,
                stop,
            )
            .await?;
        let commands = discord::commands::definitions(&app.catalog);
        match config.mode {
            DiscordMode::Gateway => {
                let gateway = discord::gateway::Gateway::start(
                    app,
                    http(Some(application_id)),
                    guild,
                    commands,
                )
                .await
                .map_err(ServeError::Config)?;
                self.gateway = Some(gateway);
                self.running.push(Running {
                    platform: "Discord",
                    how: "the gateway".into(),
                });
            }
            DiscordMode::Http => {
                let key = secrets.public_key.as_deref().ok_or_else(|| {
                    ServeError::Config(
                        "Discord HTTP mode needs DISCORD_PUBLIC_KEY (General Information → \
                         Public Key)."
                            .into(),
                    )
                })?;
                let state = Arc::new(
                    discord::http::DiscordHttp::new(app, key).map_err(ServeError::Config)?,
                );
                discord::gateway::register(&http(Some(application_id)), guild, &commands).await;
                self.router = std::mem::take(&mut self.router).merge(discord::http::router(state));
                self.running.push(Running {
                    platform: "Discord",
                    how: "HTTP at /discord/interactions".into(),
                });
            }
        }
        Ok(())
    }
}

/// After each connection, fills the open incidents' channel history with what was
/// said while warroom was not listening.
async fn backfill(
    app: Arc<App>,
    web: Arc<slack::web::SlackWeb>,
    pace: slack::history::Pace,
    mut hellos: mpsc::UnboundedReceiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            hello = hellos.recv() => {
                if hello.is_none() {
                    return;
                }
                // Several connections say hello at once; one backfill covers them.
                while hellos.try_recv().is_ok() {}
                let new = slack::history::open_incidents(&app, &web, pace).await;
                if new > 0 {
                    tracing::info!(messages = new, "backfilled channel history");
                }
            }
            _ = stop.changed() => return,
        }
    }
}
