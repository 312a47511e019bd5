//! The gateway connection, through serenity's `Client`: registers the commands when
//! Discord says READY, answers interactions through [`ingress`], and records the
//! messages of the channels warroom can read, live, for the post-mortem.
//!
//! serenity reconnects and resumes on its own; duplicate deliveries are dropped by
//! the record's dedup key (the interaction id, the message id).

use std::sync::Arc;

use serde_json::Value;
use serenity::all::{
    ChannelId, Context, EventHandler, GatewayIntents, GuildId, Interaction, Message, Ready,
};
use serenity::client::{Client, ClientBuilder};
use serenity::gateway::ShardManager;
use serenity::http::Http;

use super::{ingress, PLATFORM};
use crate::app::App;
use crate::model::incident::Incident;

/// What warroom needs to hear: commands and buttons come without any intent;
/// messages (and their text, a privileged intent to enable in the developer
/// portal) for the channel history.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT
}

struct Handler {
    app: Arc<App>,
    guild: Option<GuildId>,
    commands: Vec<Value>,
    /// Incident channels whose lead-up this session has already fetched.
    caught_up: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, "Discord gateway ready");
        register(&ctx.http, self.guild, &self.commands).await;
        // A new session (not a resume): fetch what was said while disconnected.
        let (app, http) = (self.app.clone(), ctx.http.clone());
        tokio::spawn(async move {
            let new = super::history::open_incidents(&app, &http).await;
            if new > 0 {
                tracing::info!(messages = new, "backfilled Discord channel history");
            }
        });
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        // Follow-ups wait until the response below has been sent.
        let _pending = super::answered::Pending::of(&interaction);
        let Some(body) = ingress::interaction(&self.app, &interaction).await else {
            return;
        };
        let (id, token) = match &interaction {
            Interaction::Command(c) => (c.id, &c.token),
            Interaction::Component(c) => (c.id, &c.token),
            _ => return,
        };
        if let Err(e) = ctx
            .http
            .create_interaction_response(id, token, &body, vec![])
            .await
        {
            tracing::warn!(error = %e, "cannot answer a Discord interaction");
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot || msg.guild_id.is_none() || msg.content.is_empty() {
            return;
        }
        // A bot sees every channel of the server; only incident channels are the
        // post-mortem's business.
        let channel = msg.channel_id.to_string();
        let incident = match self.app.store.open_incident(&channel).await {
            Ok(Some(incident)) => incident,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot tell whether a channel has an incident");
                return;
            }
        };
        self.catch_up(&ctx, msg.channel_id, &incident);
        let recorded = self
            .app
            .store
            .record_message(
                PLATFORM,
                &msg.channel_id.to_string(),
                &msg.author.id.to_string(),
                &msg.content,
                *msg.timestamp,
                Some(&msg.id.to_string()),
            )
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record a Discord message");
        }
        let author = crate::model::user::UserId::new(PLATFORM, &msg.author.id.to_string());
        self.app
            .remember_name(&author, ingress::display_name(&msg.author))
            .await;
    }
}

impl Handler {
    /// The first message this session in an incident's channel fetches what the
    /// channel said since the hour before detection (the lead-up the post-mortem
    /// shows), which was not recorded live. From the window's start, not from the
    /// newest recorded message: a message recorded meanwhile would hide the gap.
    fn catch_up(&self, ctx: &Context, channel: ChannelId, incident: &Incident) {
        let first = self
            .caught_up
            .lock()
            .map(|mut seen| seen.insert(channel.to_string()))
            .unwrap_or(false);
        if !first {
            return;
        }
        let since = incident.detected_at - chrono::Duration::hours(1);
        let (app, http) = (self.app.clone(), ctx.http.clone());
        tokio::spawn(async move {
            match super::history::channel(&app, &http, channel, since).await {
                Ok(n) => tracing::debug!(messages = n, "caught up on an incident channel"),
                Err(e) => tracing::warn!(error = %e, "cannot fetch an incident channel's lead-up"),
            }
        });
    }
}

/// Registers every command (bulk overwrite): in `guild` when given, at once, else
/// globally.
pub async fn register(http: &Http, guild: Option<GuildId>, commands: &[Value]) {
    let done = match guild {
        Some(g) => http.create_guild_commands(g, &commands).await,
        None => http.create_global_commands(&commands).await,
    };
    match done {
        Ok(list) => tracing::info!(commands = list.len(), "Discord commands registered"),
        Err(e) => tracing::error!(error = %e, "cannot register the Discord commands"),
    }
}

pub struct Gateway {
    shards: Arc<ShardManager>,
    task: tokio::task::JoinHandle<()>,
    pub http: Arc<Http>,
}

impl Gateway {
    /// Builds the client on `http` (which carries the token, and in tests the
    /// proxy) and connects in the background.
    pub async fn start(
        app: Arc<App>,
        http: Http,
        guild: Option<GuildId>,
        commands: Vec<Value>,
    ) -> Result<Gateway, String> {
        let handler = Handler {
            app,
            guild,
            commands,
            caught_up: Default::default(),
        };
        let mut client: Client = ClientBuilder::new_with_http(http, intents())
            .event_handler(handler)
            .await
            .map_err(|e| format!("Discord client: {e}"))?;
        let shards = client.shard_manager.clone();
        let http = client.http.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = client.start().await {
                tracing::error!(error = %e, "Discord gateway stopped (check DISCORD_TOKEN)");
            }
        });
        Ok(Gateway { shards, task, http })
    }

    pub async fn shutdown(self) {
        self.shards.shutdown_all().await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.task).await;
    }
}
