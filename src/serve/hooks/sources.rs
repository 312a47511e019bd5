//! The other alert sources, each authenticated its own documented way before its
//! body is parsed:
//!
//! - `POST /hooks/grafana`: Grafana alerting's webhook contact point, whose JSON is
//!   Alertmanager's with `version` "1" (grafana.com/docs/grafana/latest/alerting/
//!   configure-notifications/manage-contact-points/integrations/webhook-notifier/),
//!   with `Authorization: Bearer` and the token in `WARROOM_GRAFANA_TOKEN`.
//! - `POST /hooks/pagerduty`: PagerDuty v3 webhooks (developer.pagerduty.com/docs/
//!   webhooks/v3-overview/), signed in `X-PagerDuty-Signature`: one or more
//!   comma-separated `v1=` hex HMAC-SHA256 of the raw body under the subscription's
//!   secret (`WARROOM_PAGERDUTY_SECRET`); one match is enough (secret rotation).
//!   An incident event is its incident as an alert (fingerprint: the incident id;
//!   firing until `status` is `resolved`); other events are answered and ignored.
//! - `POST /hooks/generic`: any system's alerts as warroom's own JSON (README,
//!   "Alerts"), signed in `X-Warroom-Signature: v1=` hex HMAC-SHA256 of
//!   `{X-Warroom-Timestamp}.{body}` under `WARROOM_WEBHOOK_SECRET`; a timestamp
//!   more than 5 minutes off is refused (a replay).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{answer, bearer_matches, malformed, parse_alertmanager, refused, Hooks};
use crate::model::alert::{Alert, AlertStatus};

/// How far a generic webhook's timestamp may be from now.
const MAX_SKEW_SECS: i64 = 300;

pub(super) async fn grafana(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !bearer_matches(&headers, hooks.secrets.grafana.as_ref()) {
        return refused("grafana", "unauthenticated");
    }
    match parse_alertmanager(&body, "1", "grafana") {
        Ok(alerts) => answer(hooks.app.receive_alerts(&alerts).await),
        Err(why) => malformed("grafana", why),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(secret: &SecretString) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length")
}

/// The `v1=` signature PagerDuty sends for `body` (for tests and tools).
pub fn pagerduty_signature(secret: &SecretString, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    format!("v1={}", hex(&m.finalize().into_bytes()))
}

/// Whether one of the header's `v1=` signatures is the body's, compared in
/// constant time (`verify_slice`).
pub fn pagerduty_signed(secret: Option<&SecretString>, header: Option<&str>, body: &[u8]) -> bool {
    let (Some(secret), Some(header)) = (secret, header) else {
        return false;
    };
    header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .filter_map(unhex)
        .any(|given| {
            let mut m = mac(secret);
            m.update(body);
            m.verify_slice(&given).is_ok()
        })
}

pub(super) async fn pagerduty(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = headers
        .get("x-pagerduty-signature")
        .and_then(|v| v.to_str().ok());
    if !pagerduty_signed(hooks.secrets.pagerduty.as_ref(), header, &body) {
        return refused("pagerduty", "unauthenticated");
    }
    match parse_pagerduty(&body) {
        Ok(Some(alert)) => answer(hooks.app.receive_alerts(&[alert]).await),
        Ok(None) => Json(json!({ "alerts": 0, "ignored": true })).into_response(),
        Err(why) => malformed("pagerduty", why),
    }
}

/// A v3 webhook's incident as an alert; `None` for events about anything else.
pub fn parse_pagerduty(body: &[u8]) -> Result<Option<Alert>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("not a PagerDuty webhook: {e}"))?;
    let event = v
        .get("event")
        .filter(|e| e.is_object())
        .ok_or("not a PagerDuty v3 webhook: no `event`")?;
    let data = &event["data"];
    if data["type"] != "incident" {
        return Ok(None);
    }
    let text = |v: &Value| v.as_str().map(str::to_string);
    let id = text(&data["id"])
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or("a PagerDuty incident without an id")?;
    let status = match data["status"].as_str() {
        Some("resolved") => AlertStatus::Resolved,
        Some("triggered" | "acknowledged") => AlertStatus::Firing,
        other => return Err(format!("PagerDuty incident status {other:?} is not known")),
    };
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let starts_at = time(&data["created_at"]).ok_or("a PagerDuty incident without created_at")?;
    let mut labels = BTreeMap::from([("alertname".to_string(), "PagerDutyIncident".to_string())]);
    for (label, value) in [
        ("service", &data["service"]["summary"]),
        ("priority", &data["priority"]["summary"]),
        // `high` / `low`, which `[alerts.severities]` maps (P1 / P3 by default).
        ("severity", &data["urgency"]),
    ] {
        if let Some(v) = text(value) {
            labels.insert(label.to_string(), v);
        }
    }
    let mut annotations = BTreeMap::new();
    if let Some(t) = text(&data["title"]) {
        annotations.insert("summary".to_string(), t);
    }
    if let Some(u) = text(&data["html_url"]) {
        annotations.insert("url".to_string(), u);
    }
    Ok(Some(Alert {
        source: "pagerduty",
        fingerprint: id.clone(),
        group_key: format!("pagerduty:{id}"),
        status,
        labels,
        annotations,
        starts_at,
        ends_at: (status == AlertStatus::Resolved)
            .then(|| time(&event["occurred_at"]))
            .flatten(),
    }))
}

/// The generic webhook's signature of `body` sent at unix time `timestamp`.
pub fn generic_signature(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    format!("v1={}", hex(&m.finalize().into_bytes()))
}

fn generic_signed(hooks: &Hooks, headers: &HeaderMap, body: &[u8], now: i64) -> bool {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(secret), Some(ts), Some(sig)) = (
        hooks.secrets.generic.as_ref(),
        header("x-warroom-timestamp"),
        header("x-warroom-signature"),
    ) else {
        return false;
    };
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| now.abs_diff(t) <= MAX_SKEW_SECS.unsigned_abs());
    let Some(given) = sig.strip_prefix("v1=").and_then(unhex) else {
        return false;
    };
    let mut m = mac(secret);
    m.update(ts.as_bytes());
    m.update(b".");
    m.update(body);
    m.verify_slice(&given).is_ok() && fresh
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generic {
    alerts: Vec<GenericAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericAlert {
    id: String,
    status: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: DateTime<Utc>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
}

/// `{"alerts": [{"id", "status", "group"?, "labels"?, "annotations"?, "starts_at",
/// "ends_at"?}]}`; an alert without a group is a group of its own.
pub fn parse_generic(body: &[u8]) -> Result<Vec<Alert>, String> {
    let g: Generic =
        serde_json::from_slice(body).map_err(|e| format!("not a warroom alert webhook: {e}"))?;
    if g.alerts.len() > 1000 {
        return Err("more than 1000 alerts in one delivery".into());
    }
    g.alerts
        .into_iter()
        .map(|a| {
            let status = AlertStatus::parse(&a.status)
                .ok_or_else(|| format!("status `{}` is neither firing nor resolved", a.status))?;
            if a.id.is_empty() || a.id.len() > 128 {
                return Err("an alert's id is empty or longer than 128".to_string());
            }
            Ok(Alert {
                source: "webhook",
                group_key: a.group.unwrap_or_else(|| a.id.clone()),
                fingerprint: a.id,
                status,
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at,
                ends_at: a.ends_at.filter(|_| status == AlertStatus::Resolved),
            })
        })
        .collect()
}

pub(super) async fn generic(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !generic_signed(&hooks, &headers, &body, Utc::now().timestamp()) {
        return refused("webhook", "unauthenticated");
    }
    match parse_generic(&body) {
        Ok(alerts) => answer(hooks.app.receive_alerts(&alerts).await),
        Err(why) => malformed("webhook", why),
    }
}
