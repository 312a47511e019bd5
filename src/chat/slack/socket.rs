//! Socket Mode: slack-morphism keeps outbound WebSockets open to Slack (no public URL
//! needed) and hands each envelope here. Every envelope goes to [`ingress`], as an
//! HTTP request would; the ack is sent when the callback returns, so a command is
//! recorded and triaged before Slack hears back.
//!
//! Slack spreads events over the open connections and redelivers unacked ones:
//! duplicates are expected and dropped by the record's dedup key (`trigger_id`,
//! `action_ts`, `ts`).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use slack_morphism::prelude::*;
use tokio::sync::mpsc;

use super::web::{Client, Connector};
use super::workspace::Workspace;
use super::{ingress, mrkdwn};
use crate::app::App;

/// What the callbacks reach through slack-morphism's user state.
struct Shared {
    app: Arc<App>,
    workspace: Option<Arc<Workspace>>,
    /// Told after each (re)connection, to backfill what was missed meanwhile.
    connected: Option<mpsc::UnboundedSender<()>>,
}

pub struct SocketMode {
    listener: SlackClientSocketModeListener<Connector>,
}

impl SocketMode {
    /// Opens the connections with the app-level token (`xapp-…`). `connected` is
    /// told after every hello.
    pub async fn start(
        app: Arc<App>,
        client: Arc<Client>,
        app_token: &SecretString,
        workspace: Option<Arc<Workspace>>,
        connected: Option<mpsc::UnboundedSender<()>>,
    ) -> Result<SocketMode, String> {
        let callbacks = SlackSocketModeListenerCallbacks::new()
            // slack-morphism does not export the hello event's type; a closure
            // lets the compiler name it.
            .with_hello_events(|_hello, _client, states| async move { on_hello(states).await })
            .with_command_events(on_command)
            .with_interaction_events(on_interaction)
            .with_push_events(on_push);
        let environment = Arc::new(
            SlackClientEventsListenerEnvironment::new(client)
                .with_error_handler(on_error)
                .with_user_state(Shared {
                    app,
                    workspace,
                    connected,
                }),
        );
        let listener = SlackClientSocketModeListener::new(
            &SlackClientSocketModeConfig::new(),
            environment,
            callbacks,
        );
        let token = SlackApiToken::new(app_token.expose_secret().to_string().into());
        listener
            .listen_for(&token)
            .await
            .map_err(|e| format!("Socket Mode cannot start (check SLACK_APP_TOKEN): {e}"))?;
        listener.start().await;
        Ok(SocketMode { listener })
    }

    pub async fn shutdown(&self) {
        self.listener.shutdown().await;
    }
}

/// What the callbacks need: the app, the directory, and who to tell of a hello.
type Parts = (
    Arc<App>,
    Option<Arc<Workspace>>,
    Option<mpsc::UnboundedSender<()>>,
);

async fn shared(states: &SlackClientEventsUserState) -> Option<Parts> {
    let guard = states.read().await;
    guard
        .get_user_state::<Shared>()
        .map(|s| (s.app.clone(), s.workspace.clone(), s.connected.clone()))
}

async fn on_hello(states: SlackClientEventsUserState) {
    tracing::info!("Slack Socket Mode connected");
    if let Some((_, _, Some(connected))) = shared(&states).await {
        let _ = connected.send(());
    }
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<Client>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let (app, workspace, _) = shared(&states).await.ok_or("warroom state missing")?;
    let (_, text) = ingress::command(
        &app,
        workspace.as_ref(),
        ingress::SlashCommand {
            user: event.user_id.as_ref(),
            channel: event.channel_id.as_ref(),
            command: event.command.as_ref(),
            text: event.text.as_deref().unwrap_or_default(),
            trigger_id: Some(event.trigger_id.as_ref()),
        },
    )
    .await;
    Ok(SlackCommandEventResponse::new(
        SlackMessageContent::new().with_text(mrkdwn::from_markdown(&text)),
    )
    .with_response_type(SlackMessageResponseType::Ephemeral))
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let SlackInteractionEvent::BlockActions(actions) = event else {
        return Ok(());
    };
    let (app, workspace, _) = shared(&states).await.ok_or("warroom state missing")?;
    let (Some(user), Some(channel)) = (
        actions.user.as_ref().map(|u| u.id.to_string()),
        actions
            .channel
            .as_ref()
            .map(|c| c.id.to_string())
            .or_else(|| match &actions.container {
                SlackInteractionActionContainer::Message(m) => {
                    m.channel_id.as_ref().map(|c| c.to_string())
                }
                _ => None,
            }),
    ) else {
        return Ok(());
    };
    for action in actions.actions.iter().flatten() {
        if let Some(value) = &action.value {
            let ts = action.action_ts.as_ref().map(|t| t.to_string());
            ingress::button(
                &app,
                workspace.as_ref(),
                &user,
                &channel,
                value,
                ts.as_deref(),
            )
            .await;
        }
    }
    Ok(())
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let SlackEventCallbackBody::Message(m) = event.event else {
        return Ok(());
    };
    // Plain messages only: edits, joins and bot posts are not the conversation.
    if m.subtype.is_some() || m.sender.bot_id.is_some() {
        return Ok(());
    }
    let (Some(channel), Some(user), Some(text)) = (
        m.origin.channel.as_ref(),
        m.sender.user.as_ref(),
        m.content.as_ref().and_then(|c| c.text.as_deref()),
    ) else {
        return Ok(());
    };
    let (app, workspace, _) = shared(&states).await.ok_or("warroom state missing")?;
    // An error leaves the envelope unacked, so Slack delivers it again.
    ingress::message(
        &app,
        workspace.as_ref(),
        channel.as_ref(),
        user.as_ref(),
        text,
        m.origin.ts.as_ref(),
    )
    .await?;
    Ok(())
}

fn on_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<Client>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    tracing::warn!(error = %err, "Slack Socket Mode error");
    // slack-morphism acks the envelope when this says success. A failed callback
    // (a message not recorded: the database is down) must stay unacked, so that
    // Slack delivers it again rather than the channel history losing it.
    HttpStatusCode::INTERNAL_SERVER_ERROR
}
