//! The fake Discord's self-tests: serenity 0.12's own HTTP and gateway clients talk to
//! it, it refuses what Discord refuses, and the payloads it builds deserialize into
//! serenity's models. If these pass, an adapter test against the fake is a test of
//! what Discord would do.

mod common;

// A test crate's root resolves `mod` next to itself (`tests/`), hence the paths.
#[path = "fake_discord/gateway.rs"]
mod gateway;
#[path = "fake_discord/http.rs"]
mod http;
#[path = "fake_discord/interactions.rs"]
mod interactions;
#[path = "fake_discord/validation.rs"]
mod validation;

use std::sync::Arc;
use std::time::Duration;

use common::fake_discord::*;
use serde_json::{json, Value};
use serenity::all::{
    ButtonStyle, ChannelId, Command, CommandOptionType, Context, CreateActionRow,
    CreateAllowedMentions, CreateButton, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, EditInteractionResponse, EditMessage, EventHandler, GatewayIntents, Guild,
    Interaction, InteractionId, Message, MessageId, MessagePagination, Ready, ResumedEvent,
    ShardManager, UserId,
};
use serenity::http::{ErrorResponse, Http, HttpBuilder, HttpError};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// The response of a request Discord refused; panics on any other error.
fn refused(error: serenity::Error) -> ErrorResponse {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => response,
        other => panic!("expected Discord to refuse the request, got {other:?}"),
    }
}

fn paths(errors: &ErrorResponse) -> Vec<&str> {
    errors
        .error
        .errors
        .iter()
        .map(|e| e.path.as_str())
        .collect()
}

async fn post_buttons(fake: &FakeDiscord, http: &Http) -> Message {
    let approve = CreateButton::new("approve:RUN-7")
        .label("Approve")
        .style(ButtonStyle::Success);
    let deny = CreateButton::new("deny:RUN-7")
        .label("Deny")
        .style(ButtonStyle::Danger);
    let message = ChannelId::new(CHANNEL_ID)
        .send_message(
            http,
            CreateMessage::new()
                .content("RUN-7 needs approval")
                .components(vec![CreateActionRow::Buttons(vec![approve, deny])]),
        )
        .await
        .expect("message with buttons accepted");
    assert_eq!(fake.channel_messages(CHANNEL_ID).len(), 1);
    message
}
