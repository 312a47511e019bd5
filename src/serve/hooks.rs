//! Alert sources on `warroom serve`'s listener. `POST /hooks/alertmanager` takes
//! Prometheus Alertmanager's webhook, version 4: the JSON its `webhook_config`
//! sends (prometheus.io/docs/alerting/latest/configuration/#webhook_config; the
//! fields are `template.Data` and `template.Alert` of prometheus/alertmanager's
//! `template/template.go`, with `version` and `groupKey` added by
//! `notify/webhook/webhook.go`'s `Message`).
//!
//! A request is authenticated before it is read: `Authorization: Bearer` with the
//! token from `WARROOM_ALERTMANAGER_TOKEN`, compared in constant time. Anything
//! else is 401, counted (`warroom_requests_refused_total`) and never recorded; with
//! no token configured every request is refused. A delivery warroom could not
//! record is 503, which Alertmanager retries.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use crate::app::App;
use crate::failure::Failure;
use crate::model::alert::{Alert, AlertStatus};

/// Alerts one delivery may carry (Alertmanager's `max_alerts`, 0 = all, is the
/// sender's bound; this is warroom's).
const MAX_ALERTS: usize = 1000;

pub mod sources;

pub struct Hooks {
    pub app: Arc<App>,
    pub secrets: crate::config::HookSecrets,
}

pub fn router(state: Arc<Hooks>) -> Router {
    Router::new()
        .route("/hooks/alertmanager", post(alertmanager))
        .route("/hooks/grafana", post(sources::grafana))
        .route("/hooks/pagerduty", post(sources::pagerduty))
        .route("/hooks/generic", post(sources::generic))
        .with_state(state)
}

/// `Authorization: Bearer <token>` equals `expected`, compared in constant time
/// (HMAC tags of both under the same key, checked with `verify_slice`), so neither
/// the length nor a prefix of the secret leaks through timing.
pub fn bearer_matches(headers: &HeaderMap, expected: Option<&SecretString>) -> bool {
    let Some(expected) = expected else {
        return false;
    };
    let Some(given) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let tag = |token: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"warroom bearer check")
            .expect("HMAC takes keys of any length");
        mac.update(token);
        mac
    };
    let want = tag(expected.expose_secret().as_bytes())
        .finalize()
        .into_bytes();
    tag(given.trim().as_bytes()).verify_slice(&want).is_ok()
}

/// Counts a refused request; bounded labels only.
pub fn refused(source: &'static str, reason: &'static str) -> Response {
    metrics::counter!("warroom_requests_refused_total", "source" => source, "reason" => reason)
        .increment(1);
    tracing::warn!(source, reason, "refused a webhook request");
    let status = if reason == "unauthenticated" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, reason).into_response()
}

async fn alertmanager(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !bearer_matches(&headers, hooks.secrets.alertmanager.as_ref()) {
        return refused("alertmanager", "unauthenticated");
    }
    match parse_alertmanager(&body, "4", "alertmanager") {
        Ok(alerts) => answer(hooks.app.receive_alerts(&alerts).await),
        Err(why) => malformed("alertmanager", why),
    }
}

/// A body that authenticated but is not the source's payload: 400, counted.
pub fn malformed(source: &'static str, why: String) -> Response {
    metrics::counter!("warroom_requests_refused_total", "source" => source, "reason" => "malformed")
        .increment(1);
    (StatusCode::BAD_REQUEST, why).into_response()
}

/// The source's answer: 200 with what was done, 503 when nothing could be
/// recorded (the sender retries), 500 otherwise.
pub fn answer(done: Result<crate::app::alerts::Received, Failure>) -> Response {
    match done {
        Ok(r) => Json(json!({
            "alerts": r.alerts,
            "deduplicated": r.deduplicated,
            "opened": r.opened,
        }))
        .into_response(),
        Err(Failure::Store(e)) => {
            tracing::error!(error = %e, "cannot record alerts");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the state database is unavailable",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "alerts recorded, handling them failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    version: String,
    group_key: String,
    alerts: Vec<MessageAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: DateTime<Utc>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
    fingerprint: String,
}

/// The alerts of one Alertmanager delivery (or Grafana's, which keeps the same
/// shape as its `version` "1"), or why it is not one.
pub fn parse_alertmanager(
    body: &[u8],
    version: &str,
    source: &'static str,
) -> Result<Vec<Alert>, String> {
    let m: Message =
        serde_json::from_slice(body).map_err(|e| format!("not an {source} webhook: {e}"))?;
    if m.version != version {
        return Err(format!(
            "{source} webhook version {} is not supported (version {version} is)",
            m.version
        ));
    }
    if m.alerts.len() > MAX_ALERTS {
        return Err(format!("more than {MAX_ALERTS} alerts in one delivery"));
    }
    m.alerts
        .into_iter()
        .map(|a| {
            let status = AlertStatus::parse(&a.status).ok_or_else(|| {
                format!("alert status `{}` is neither firing nor resolved", a.status)
            })?;
            if a.fingerprint.is_empty() || a.fingerprint.len() > 128 {
                return Err("an alert's fingerprint is empty or too long".to_string());
            }
            Ok(Alert {
                source,
                fingerprint: a.fingerprint,
                group_key: m.group_key.clone(),
                status,
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                // Go's zero time (`0001-01-01T00:00:00Z`) is "not ended".
                ends_at: a
                    .ends_at
                    .filter(|t| t.year() > 1 && status == AlertStatus::Resolved),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
