//! What Discord sends warroom, the same whichever way it arrives (gateway or HTTP
//! interactions): slash commands and button presses become the core's [`Incoming`],
//! and the interaction is answered at once with the body Discord expects:
//!
//! - a command: a private message (type 4, ephemeral) saying it was accepted, or
//!   what was wrong, or why the user may not;
//! - a press of one of warroom's buttons (whose `custom_id` is a command line): a
//!   silent acknowledgement (type 6), the message then changes in place; or a
//!   private refusal;
//! - a PING (HTTP only): a PONG.
//!
//! The interaction's token is saved as the user's reply handle first, so every
//! private reply of the run that follows can reach them (see `web`).

use std::sync::Arc;

use serde_json::{json, Value};
use serenity::model::application::{
    CommandDataOption, CommandDataOptionValue, CommandInteraction, ComponentInteraction,
    Interaction,
};
use serenity::model::guild::Member;
use serenity::model::id::{ChannelId, InteractionId};
use serenity::model::user::User;

use super::commands::{command_line, OptionValue};
use super::render::EPHEMERAL;
use super::PLATFORM;
use crate::app::pipeline::Ack;
use crate::app::{App, Incoming};
use crate::chat::{Post, PostKind};
use crate::model::user::UserId;

/// How long Discord keeps an interaction token valid.
const TOKEN_LIFE: chrono::Duration = chrono::Duration::minutes(15);

/// The response body for an interaction, or `None` for kinds warroom ignores.
pub async fn interaction(app: &Arc<App>, interaction: &Interaction) -> Option<Value> {
    match interaction {
        Interaction::Ping(_) => Some(json!({ "type": 1 })),
        Interaction::Command(c) => Some(command(app, c).await),
        Interaction::Component(c) => component(app, c).await,
        _ => None,
    }
}

fn user_of(user: &User, member: Option<&Member>) -> UserId {
    let groups = member
        .map(|m| m.roles.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default();
    UserId::new(PLATFORM, &user.id.to_string()).with_groups(groups)
}

fn options(list: &[CommandDataOption]) -> Vec<(String, OptionValue)> {
    list.iter()
        .filter_map(|o| {
            let value = match &o.value {
                CommandDataOptionValue::String(s) => OptionValue::Text(s.clone()),
                CommandDataOptionValue::Integer(n) => OptionValue::Int(*n),
                CommandDataOptionValue::Boolean(b) => OptionValue::Bool(*b),
                CommandDataOptionValue::Number(x) => OptionValue::Text(x.to_string()),
                CommandDataOptionValue::SubCommand(inner)
                | CommandDataOptionValue::SubCommandGroup(inner) => {
                    OptionValue::Sub(options(inner))
                }
                // warroom registers no other kinds.
                _ => return None,
            };
            Some((o.name.clone(), value))
        })
        .collect()
}

/// A private message answering the interaction, pinging nobody.
fn private(text: &str) -> Value {
    json!({
        "type": 4,
        "data": {
            "content": text.chars().take(super::render::CONTENT_LIMIT).collect::<String>(),
            "flags": EPHEMERAL,
            "allowed_mentions": { "parse": [] },
        },
    })
}

/// [`private`], whole: an answer longer than one message (2,000 characters) is its
/// first piece, and the rest follows as private follow-ups through the outbox,
/// in order, rather than being cut.
async fn private_whole(app: &App, channel: &str, user: &UserId, text: &str) -> Value {
    let mut pieces = crate::chat::split::split_text(text, super::render::CONTENT_LIMIT - 100);
    let first = pieces.remove(0);
    for rest in pieces {
        let post = Post::new(channel, PostKind::Info, rest).ephemeral(user);
        app.send(&post).await;
    }
    private(&first)
}

async fn save_handle(app: &App, channel: &str, user: &UserId, token: &str) {
    let expires = chrono::Utc::now() + TOKEN_LIFE;
    let saving = app
        .store
        .save_reply_handle(PLATFORM, channel, &user.id, token, expires);
    // Bounded: with the ack's own budget, Discord still hears back within 3 s.
    match tokio::time::timeout(HANDLE_BUDGET, saving).await {
        Ok(Ok(())) => {}
        // Private replies will fall back to the channel; the command still runs.
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot save a Discord reply handle"),
        Err(_) => tracing::warn!("saving a Discord reply handle outlasted its budget"),
    }
}

/// How long the ack waits to save the reply handle (the ack itself then has
/// [`crate::app::pipeline::ACK_BUDGET`]).
const HANDLE_BUDGET: std::time::Duration = std::time::Duration::from_millis(500);

/// The core's message for an interaction. First saves its token as the user's
/// reply handle (every private reply of what follows needs it) and their name.
async fn incoming(
    app: &Arc<App>,
    id: InteractionId,
    token: &str,
    who: &User,
    member: Option<&Member>,
    channel: ChannelId,
    line: &str,
) -> Incoming {
    let user = user_of(who, member);
    let channel = channel.to_string();
    save_handle(app, &channel, &user, token).await;
    if app.unnamed(&user) {
        // For the post-mortem's list of people; the answer does not wait for it.
        let (app, user, name) = (app.clone(), user.clone(), display_name(who).to_string());
        tokio::spawn(async move { app.remember_name(&user, &name).await });
    }
    Incoming {
        user,
        channel,
        text: line.to_string(),
        dedup_key: Some(format!("discord:interaction:{id}")),
    }
}

async fn command(app: &Arc<App>, c: &CommandInteraction) -> Value {
    let line = command_line(&c.data.name, &options(&c.data.options));
    let msg = incoming(
        app,
        c.id,
        &c.token,
        &c.user,
        c.member.as_deref(),
        c.channel_id,
        &line,
    )
    .await;
    let (channel, user) = (msg.channel.clone(), msg.user.clone());
    let text = app.acknowledge(msg).await.text(&line);
    private_whole(app, &channel, &user, &text).await
}

/// What Discord shows for a user: their global display name, else their username.
pub fn display_name(user: &User) -> &str {
    user.global_name.as_deref().unwrap_or(&user.name)
}

async fn component(app: &Arc<App>, c: &ComponentInteraction) -> Option<Value> {
    let line = &c.data.custom_id;
    // Only warroom's buttons: their id is a command line.
    if !line.starts_with('/') {
        return None;
    }
    let msg = incoming(
        app,
        c.id,
        &c.token,
        &c.user,
        c.member.as_ref(),
        c.channel_id,
        line,
    )
    .await;
    let (channel, user) = (msg.channel.clone(), msg.user.clone());
    Some(match app.acknowledge(msg).await {
        Ack::Accepted(_) | Ack::Duplicate => json!({ "type": 6 }),
        refused => private_whole(app, &channel, &user, &refused.text(line)).await,
    })
}
