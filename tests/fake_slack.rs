//! The fake Slack against the real client: slack-morphism's Web API client and its
//! Socket Mode listener talk to it as they would to Slack, and what the fake refuses
//! is what Slack refuses. If these pass, a Slack adapter test failing against the
//! fake is the adapter's fault.

mod common;

// A test crate's root resolves `mod` next to itself (`tests/`), hence the paths.
#[path = "fake_slack/blocks.rs"]
mod blocks;
#[path = "fake_slack/channels.rs"]
mod channels;
#[path = "fake_slack/history.rs"]
mod history;
#[path = "fake_slack/manifest.rs"]
mod manifest;
#[path = "fake_slack/messages.rs"]
mod messages;
#[path = "fake_slack/requests.rs"]
mod requests;
#[path = "fake_slack/socket_mode.rs"]
mod socket_mode;

use std::sync::Arc;

use common::fake_slack::{FakeSlack, APP_TOKEN, BOT_TOKEN};
use serde_json::Value;
use slack_morphism::prelude::*;

type Client = SlackClient<SlackClientHyperHttpsConnector>;

/// The real client, pointed at the fake over plain HTTP.
fn client(fake: &FakeSlack) -> Arc<Client> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .expect("native root certificates")
        .https_or_http()
        .enable_http1()
        .build();
    Arc::new(SlackClient::new(
        SlackClientHyperConnector::with_connector(connector).with_slack_api_url(&fake.api_url()),
    ))
}

fn bot_token() -> SlackApiToken {
    SlackApiToken::new(BOT_TOKEN.into())
}

fn app_token() -> SlackApiToken {
    SlackApiToken::new(APP_TOKEN.into())
}

fn approve_button(label: &str) -> SlackBlock {
    SlackActionsBlock::new(vec![SlackBlockButtonElement::new(
        SlackBlockPlainTextOnly::from(label),
    )
    .with_action_id("approve".into())
    .with_value("/approve RUN-7".into())
    .with_style(SlackBlockButtonStyle::Primary)
    .into()])
    .into()
}

fn post_request(
    channel: &str,
    text: &str,
    blocks: Vec<SlackBlock>,
) -> SlackApiChatPostMessageRequest {
    SlackApiChatPostMessageRequest::new(
        channel.into(),
        SlackMessageContent::new()
            .with_text(text.into())
            .with_blocks(blocks),
    )
}

/// A raw call, for what slack-morphism never sends (wrong tokens, forms, bad JSON).
fn raw(fake: &FakeSlack, method: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().post(format!("{}/{method}", fake.api_url()))
}

async fn answer(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.expect("the fake answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON answer")
}
