//! Discord's HTTP interactions endpoint, for teams without a gateway connection:
//! `POST /discord/interactions`, Ed25519-signed by Discord. A bad or stale signature
//! gets 401 (Discord itself probes this with bad signatures before accepting the
//! URL); a PING gets a PONG; everything else goes to [`ingress`] and its answer is
//! the HTTP response.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serenity::interactions_endpoint::Verifier;
use serenity::model::application::Interaction;

use super::ingress;
use crate::app::App;

/// Older signed requests are refused, so a captured one cannot be replayed later.
const MAX_AGE_SECS: i64 = 5 * 60;

pub struct DiscordHttp {
    pub app: Arc<App>,
    pub verifier: Verifier,
}

impl DiscordHttp {
    /// `public_key` is the application's public key, 64 hex digits.
    pub fn new(app: Arc<App>, public_key: &str) -> Result<DiscordHttp, String> {
        let bytes = hex32(public_key).ok_or_else(|| {
            "DISCORD_PUBLIC_KEY must be the application's public key: 64 hex digits".to_string()
        })?;
        let verifier = Verifier::try_new(bytes)
            .map_err(|_| "DISCORD_PUBLIC_KEY is not a valid Ed25519 key".to_string())?;
        Ok(DiscordHttp { app, verifier })
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

pub fn router(state: Arc<DiscordHttp>) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions))
        .with_state(state)
}

fn verified(state: &DiscordHttp, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
    ) else {
        return false;
    };
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| chrono::Utc::now().timestamp().abs_diff(t) <= MAX_AGE_SECS.unsigned_abs());
    fresh && state.verifier.verify(signature, timestamp, body).is_ok()
}

async fn interactions(
    State(state): State<Arc<DiscordHttp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !verified(&state, &headers, &body) {
        tracing::warn!("refused an unsigned or stale Discord interaction");
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable Discord interaction");
            return (StatusCode::BAD_REQUEST, "unreadable interaction").into_response();
        }
    };
    // The response is written as this returns; follow-ups may go from then on.
    let _pending = super::answered::Pending::of(&interaction);
    match ingress::interaction(&state.app, &interaction).await {
        Some(answer) => Json(answer).into_response(),
        // Nothing warroom acts on; an empty deferral keeps Discord from erroring.
        None => Json(serde_json::json!({ "type": 6 })).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_are_64_hex_digits() {
        assert!(hex32(&"ab".repeat(32)).is_some());
        assert!(hex32("abc").is_none());
        assert!(hex32(&"zz".repeat(32)).is_none());
        assert!(hex32(&"é".repeat(32)).is_none());
    }
}
