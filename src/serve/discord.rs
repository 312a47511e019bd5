//! `warroom serve`'s Discord: the token checked, the HTTP API behind the outbox,
//! and the gateway or the HTTP interactions endpoint.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serenity::model::id::GuildId;
use tokio::sync::watch;

use super::{Running, ServeError, Server, DISCORD_PACE};
use crate::chat::{discord, Chat};
use crate::config::{DiscordMode, Settings};

impl Server {
    pub(super) async fn add_discord(
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
        // Checks the token before anything starts, and names the application.
        let info = http(None)
            .get_current_application_info()
            .await
            .map_err(|e| {
                let refused = matches!(
                    &e,
                    serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))
                        if r.status_code.as_u16() == 401
                );
                ServeError::Config(if refused {
                    "Discord refused DISCORD_TOKEN (401); copy the bot token from the \
                     application's Bot page (Reset Token)"
                        .into()
                } else {
                    format!("cannot reach Discord to check DISCORD_TOKEN: {e}")
                })
            })?;
        let application_id = match &secrets.application_id {
            Some(id) => id.parse::<u64>().ok().filter(|&n| n != 0).ok_or_else(|| {
                ServeError::Config(format!("DISCORD_APPLICATION_ID `{id}` is not a Discord id"))
            })?,
            None => info.id.get(),
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
                    how: format!("the gateway (application {})", info.name),
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
                    how: format!("HTTP at /discord/interactions (application {})", info.name),
                });
            }
        }
        Ok(())
    }
}
