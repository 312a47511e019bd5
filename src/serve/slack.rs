//! `warroom serve`'s Slack: the Web API behind the outbox, Socket Mode or the HTTP
//! endpoints, what it learns and joins in the workspace, and the history backfill
//! after each connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{Running, ServeError, Server, SLACK_PACE};
use crate::app::App;
use crate::chat::{slack, Chat};
use crate::config::{Settings, SlackMode};

impl Server {
    pub(super) async fn add_slack(
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
        // A wrong token should stop the start, not fail every post at 3 a.m.
        let who = web.check().await.map_err(ServeError::Config)?;
        let app = self
            .add_platform(
                slack::PLATFORM,
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
        let workspace = Arc::new(slack::workspace::Workspace::new(web.clone()));
        let pace = slack::history::Pace {
            page: config.history_page.max(1),
            interval: crate::model::duration::parse_duration(&config.history_interval)
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
                    Some(workspace),
                    Some(connected),
                )
                .await
                .map_err(ServeError::Config)?;
                self.socket = Some(socket);
                self.running.push(Running {
                    platform: "Slack",
                    how: format!("Socket Mode ({who})"),
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
                    workspace: Some(workspace),
                });
                self.router = std::mem::take(&mut self.router).merge(slack::http::router(state));
                // No reconnects to hear about: backfill once at start.
                let (connected, hellos) = mpsc::unbounded_channel();
                let _ = connected.send(());
                self.tasks
                    .push(tokio::spawn(backfill(app, web, pace, hellos, stop)));
                self.running.push(Running {
                    platform: "Slack",
                    how: format!(
                        "HTTP at /slack/commands, /slack/interactivity, /slack/events ({who})"
                    ),
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
