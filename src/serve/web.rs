//! `warroom serve`'s own pages: `/healthz` and `/readyz`, Prometheus `/metrics`, and the
//! stakeholder status page (`[status] path`, default `/status`, with `.json` and
//! `/feed.atom`), public unless `[status] token_env` names a token.

use std::sync::{Arc, OnceLock};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::SecretString;

use super::hooks::bearer_matches;
use crate::config::Settings;
use crate::export::status::{self, Links};
use crate::store::Store;

pub struct Pages {
    pub store: Store,
    pub settings: Settings,
    pub token: Option<SecretString>,
}

/// Seconds buckets for every histogram: an ack is milliseconds, an approval or
/// a time to mitigate can be hours.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    1800.0, 3600.0, 7200.0, 14400.0,
];

/// The process's Prometheus recorder, installed on first use. `None` when another
/// recorder was installed first (then `/metrics` says so).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .and_then(|b| b.install_recorder())
                .inspect_err(|e| tracing::warn!(error = %e, "no Prometheus recorder"))
                .ok();
            if handle.is_some() {
                describe();
            }
            handle
        })
        .as_ref()
}

/// The `# HELP` of each family, so a scrape explains itself.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    for (name, help) in [
        ("warroom_commands_received_total", "Chat commands recorded, by platform."),
        ("warroom_commands_total", "Commands by command and audit outcome (done, invalid, denied, failed, error, accepted)."),
        ("warroom_acks_total", "Platform acks by answer (accepted, refused, duplicate, unavailable, slow)."),
        ("warroom_runs_total", "Runbook runs ended, by command and final state."),
        ("warroom_steps_total", "Runbook steps ended, by command and outcome."),
        ("warroom_platform_errors_total", "Failed chat platform calls, by platform and kind."),
        ("warroom_alerts_received_total", "Alerts received, by source and status."),
        ("warroom_alerts_deduplicated_total", "Alert deliveries that repeated what was recorded."),
        ("warroom_incidents_opened_total", "Incidents opened by alerts, by severity."),
        ("warroom_requests_refused_total", "Webhook and status page requests refused, by source and reason."),
    ] {
        describe_counter!(name, help);
    }
    for (name, help) in [
        (
            "warroom_ack_seconds",
            "Time to answer a platform's command (its 3 s deadline).",
        ),
        (
            "warroom_approval_wait_seconds",
            "Time a run waited for its approvals, by scenario and outcome.",
        ),
        (
            "warroom_run_duration_seconds",
            "Runbook run durations, by command and outcome.",
        ),
        (
            "warroom_step_duration_seconds",
            "Runbook step durations, by command and outcome.",
        ),
        (
            "warroom_time_to_acknowledge_seconds",
            "Detection to /ack, by severity.",
        ),
        (
            "warroom_time_to_mitigate_seconds",
            "Detection to mitigated, by severity.",
        ),
        (
            "warroom_time_to_resolve_seconds",
            "Detection to resolved, by severity.",
        ),
    ] {
        describe_histogram!(name, Unit::Seconds, help);
    }
    describe_gauge!("warroom_incidents_open", "Open incidents, by severity.");
    describe_gauge!(
        "warroom_outbox_depth",
        "Posts and edits waiting in the outbox, by platform."
    );
    describe_gauge!(
        "warroom_outbox_oldest_age_seconds",
        Unit::Seconds,
        "Age of the oldest undelivered outbox row, by platform."
    );
}

pub fn router(pages: Arc<Pages>) -> Router {
    let base = pages
        .settings
        .file
        .status
        .path
        .trim_end_matches('/')
        .to_string();
    let base = if base.is_empty() {
        "/status".to_string()
    } else {
        base
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
        .route(&base, get(page))
        .route(&format!("{base}.json"), get(page_json))
        .route(&format!("{base}/feed.atom"), get(feed))
        .with_state(pages)
}

/// How long a post may keep failing (not rate limited: 429s count no attempt)
/// before `/healthz` says its platform is down.
const PLATFORM_TROUBLE: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a health check waits for the state database.
const HEALTH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Health with its reasons, for monitoring (issue 14: `/healthz` answered `ok`
/// with the state database down): 200 when the state database answers and every
/// platform takes warroom's posts, else 503 saying which is down (a platform is
/// down when a post has kept failing for [`PLATFORM_TROUBLE`]), and how many posts
/// are waiting in the outbox. Probes that restart or route should use `/readyz`:
/// restarting warroom does not bring Slack back.
async fn healthz(State(pages): State<Arc<Pages>>) -> Response {
    let started = std::time::Instant::now();
    let db = pages.store.ping(HEALTH_WAIT).await;
    let mut lines = vec![match &db {
        Ok(()) => format!(
            "ok: the state database answers ({} ms)",
            started.elapsed().as_millis()
        ),
        Err(e) => format!("down: the state database does not answer: {e}"),
    }];
    let mut platform_down = false;
    if db.is_ok() {
        let now = chrono::Utc::now();
        for platform in ["slack", "discord"] {
            if let Ok(Some((made, attempts, error))) = pages.store.outbox_trouble(platform).await {
                let age = (now - made).to_std().unwrap_or_default();
                if age >= PLATFORM_TROUBLE {
                    platform_down = true;
                    lines.insert(
                        0,
                        format!(
                            "down: {platform} does not take warroom's posts: the oldest waiting \
                             was made {} ago and has failed {attempts} times (last: {})",
                            crate::render::human_duration(age.as_millis() as i64),
                            error.as_deref().unwrap_or("no error recorded")
                        ),
                    );
                }
            }
            if let Ok(n) = pages.store.outbox_pending(platform).await {
                if n > 0 {
                    lines.push(format!("{platform}: {n} posts waiting to be delivered"));
                }
            }
        }
    }
    let code = if db.is_ok() && !platform_down {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, lines.join("\n") + "\n").into_response()
}

/// Readiness, for load balancers: whether this replica can take commands now
/// (its state database answers).
async fn readyz(State(pages): State<Arc<Pages>>) -> Response {
    match pages.store.ping(HEALTH_WAIT).await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the state database does not answer: {e}\n"),
        )
            .into_response(),
    }
}

async fn scrape(State(pages): State<Arc<Pages>>) -> Response {
    let Some(handle) = recorder() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no metrics recorder").into_response();
    };
    // Gauges read at the scrape: what is open and waiting now.
    match pages.store.sample(chrono::Utc::now()).await {
        Ok(s) => {
            for sev in crate::model::incident::SEVERITIES {
                let n = s
                    .open_incidents
                    .iter()
                    .find(|(k, _)| k == sev)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("warroom_incidents_open", "severity" => *sev).set(n as f64);
            }
            for (platform, depth, age) in s.outbox {
                let platform = crate::model::metric::platform(&platform);
                metrics::gauge!("warroom_outbox_depth", "platform" => platform).set(depth as f64);
                metrics::gauge!("warroom_outbox_oldest_age_seconds", "platform" => platform)
                    .set(age as f64 / 1000.0);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot sample the state database for /metrics"),
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The page's token, when it has one: as `Authorization: Bearer` or `?token=`.
fn allowed(pages: &Pages, headers: &HeaderMap, q: &TokenQuery) -> bool {
    let Some(expected) = &pages.token else {
        return true;
    };
    if bearer_matches(headers, Some(expected)) {
        return true;
    }
    let mut h = HeaderMap::new();
    if let Some(v) = q
        .token
        .as_deref()
        .and_then(|t| format!("Bearer {t}").parse().ok())
    {
        h.insert(header::AUTHORIZATION, v);
    }
    bearer_matches(&h, Some(expected))
}

async fn render(
    pages: &Pages,
    headers: &HeaderMap,
    q: &TokenQuery,
    form: fn(&status::StatusPage, &Links, &str) -> String,
    content_type: &'static str,
) -> Response {
    if !allowed(pages, headers, q) {
        return super::hooks::refused("status", "unauthenticated");
    }
    match status::gather(&pages.store, &pages.settings, chrono::Utc::now()).await {
        Ok(page) => {
            let base = pages.settings.file.status.path.trim_end_matches('/');
            let links = Links {
                json: format!("{base}.json"),
                feed: format!("{base}/feed.atom"),
            };
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                form(&page, &links, base),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the status page");
            (StatusCode::SERVICE_UNAVAILABLE, "status unavailable").into_response()
        }
    }
}

async fn page(State(p): State<Arc<Pages>>, h: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    render(
        &p,
        &h,
        &q,
        |page, links, _| status::html(page, links),
        "text/html; charset=utf-8",
    )
    .await
}

async fn page_json(
    State(p): State<Arc<Pages>>,
    h: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    render(
        &p,
        &h,
        &q,
        |page, _, _| status::json(page),
        "application/json",
    )
    .await
}

async fn feed(State(p): State<Arc<Pages>>, h: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    render(
        &p,
        &h,
        &q,
        status::atom,
        "application/atom+xml; charset=utf-8",
    )
    .await
}
