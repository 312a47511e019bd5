//! Slack's HTTP endpoints (for teams that do not use Socket Mode): slash commands,
//! interactivity (button presses) and the Events API. Every request's v0 signature
//! is checked first; then the request goes to [`ingress`], as Socket Mode's do.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::{ingress, mrkdwn, signature};
use crate::app::App;

pub struct SlackHttp {
    pub app: Arc<App>,
    pub signing_secret: SecretString,
    /// Learns the names of users it hears from and joins the channels they use.
    pub workspace: Option<Arc<super::workspace::Workspace>>,
}

/// The routes, to mount under the public URL the Slack app points at.
pub fn router(state: Arc<SlackHttp>) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .route("/slack/events", post(events))
        .with_state(state)
}

fn verified(
    state: &SlackHttp,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), signature::SignatureError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    signature::verify(
        state.signing_secret.expose_secret().as_bytes(),
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    )
    .inspect_err(|e| tracing::warn!(error = %e, "refused an unsigned or stale Slack request"))
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "invalid signature").into_response()
}

fn is_ssl_check(body: &[u8]) -> bool {
    url::form_urlencoded::parse(body).any(|(k, v)| k == "ssl_check" && v == "1")
        && !url::form_urlencoded::parse(body).any(|(k, _)| k == "command")
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn commands(
    State(state): State<Arc<SlackHttp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Slack checks the command URL's certificate with an (unsigned) `ssl_check=1`
    // POST and wants a 200 (api.slack.com, "Implementing slash commands"). It is
    // answered with nothing and runs nothing, signed or not.
    if is_ssl_check(&body) {
        return StatusCode::OK.into_response();
    }
    if verified(&state, &headers, &body).is_err() {
        return unauthorized();
    }
    let f = form(&body);
    let (Some(command), Some(user), Some(channel)) =
        (f.get("command"), f.get("user_id"), f.get("channel_id"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "missing command, user_id or channel_id",
        )
            .into_response();
    };
    let (_, text) = ingress::command(
        &state.app,
        state.workspace.as_ref(),
        ingress::SlashCommand {
            user,
            channel,
            command,
            text: f.get("text").map(String::as_str).unwrap_or_default(),
            trigger_id: f.get("trigger_id").map(String::as_str),
        },
    )
    .await;
    Json(json!({ "response_type": "ephemeral", "text": mrkdwn::from_markdown(&text) }))
        .into_response()
}

async fn interactivity(
    State(state): State<Arc<SlackHttp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if verified(&state, &headers, &body).is_err() {
        return unauthorized();
    }
    let Some(payload) = form(&body)
        .remove("payload")
        .and_then(|p| serde_json::from_str::<Value>(&p).ok())
    else {
        return (StatusCode::BAD_REQUEST, "missing payload").into_response();
    };
    if payload["type"] != "block_actions" {
        return StatusCode::OK.into_response();
    }
    let (Some(user), Some(channel)) = (
        payload["user"]["id"].as_str(),
        payload["channel"]["id"].as_str(),
    ) else {
        return (StatusCode::BAD_REQUEST, "missing user or channel").into_response();
    };
    for action in payload["actions"].as_array().into_iter().flatten() {
        if let Some(value) = action["value"].as_str() {
            ingress::button(
                &state.app,
                state.workspace.as_ref(),
                user,
                channel,
                value,
                action["action_ts"].as_str(),
            )
            .await;
        }
    }
    StatusCode::OK.into_response()
}

async fn events(State(state): State<Arc<SlackHttp>>, headers: HeaderMap, body: Bytes) -> Response {
    if verified(&state, &headers, &body).is_err() {
        return unauthorized();
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    match event["type"].as_str() {
        Some("url_verification") => {
            Json(json!({ "challenge": event["challenge"] })).into_response()
        }
        Some("event_callback") => {
            let e = &event["event"];
            // Plain messages only: edits, joins and bot posts are not the conversation.
            let plain = e["type"] == "message" && e["subtype"].is_null() && e["bot_id"].is_null();
            if let (true, Some(channel), Some(user), Some(text), Some(ts)) = (
                plain,
                e["channel"].as_str(),
                e["user"].as_str(),
                e["text"].as_str(),
                e["ts"].as_str(),
            ) {
                // A retry carries the same ts: recorded once.
                if let Err(err) = ingress::message(
                    &state.app,
                    state.workspace.as_ref(),
                    channel,
                    user,
                    text,
                    ts,
                )
                .await
                {
                    tracing::error!(error = %err, "cannot record a channel message");
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
            }
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}
