//! A Slack Web API stand-in for the benchmark: answers every method `warroom
//! serve` (and Bolt's `auth.test`) calls with `{"ok":true,...}` at once, and
//! counts what it was asked, so the harness can say how many replies reached
//! "Slack". Unlike `tests/common/fake_slack`, it keeps no workspace and checks
//! nothing: it must cost as little as possible next to the servers it measures.
//! Its answers still carry every field Slack's do that the client reads, or
//! warroom takes a path it never takes against Slack: with a `conversations.info`
//! answer slack-morphism could not read, every command asked again and logged it
//! (issue 18: refused 7.0k/s with that answer, 10.9–11.9k/s with Slack's).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
pub struct Counts {
    calls: Mutex<HashMap<String, u64>>,
    ts: AtomicU64,
}

impl Counts {
    /// Every method's calls so far.
    pub fn all(&self) -> HashMap<String, u64> {
        self.calls.lock().expect("stand-in counts").clone()
    }
}

/// Starts the stand-in; returns its API base (`http://127.0.0.1:PORT/api`).
pub async fn start() -> anyhow::Result<(String, Arc<Counts>)> {
    let counts = Arc::new(Counts::default());
    let app = Router::new()
        .route("/api/:method", post(answer).get(answer))
        .with_state(counts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((base, counts))
}

async fn answer(State(counts): State<Arc<Counts>>, Path(method): Path<String>) -> Json<Value> {
    *counts
        .calls
        .lock()
        .expect("stand-in counts")
        .entry(method.clone())
        .or_default() += 1;
    let n = counts.ts.fetch_add(1, Ordering::Relaxed);
    let ts = format!("1800000000.{n:06}");
    Json(match method.as_str() {
        "auth.test" => json!({
            "ok": true, "url": "https://bench.slack.com/", "team": "bench", "user": "warroom",
            "team_id": "T_BENCH", "user_id": "U_WARROOM_BOT", "bot_id": "B_BENCH"
        }),
        "users.info" => json!({
            "ok": true,
            "user": { "id": "U_X", "name": "someone", "real_name": "Someone",
                      "profile": { "display_name": "someone", "real_name": "Someone" } }
        }),
        // The fields Slack's answer always has (api.slack.com/methods/conversations.info,
        // example response; slack-morphism's `SlackChannelInfo` requires `created`):
        // without them warroom could not read it, assumed, and asked again.
        "conversations.info" => json!({
            "ok": true,
            "channel": {
                "id": "C_BENCH", "name": "bench", "name_normalized": "bench",
                "created": 1_700_000_000, "creator": "U_BENCH",
                "is_channel": true, "is_group": false, "is_im": false, "is_private": false,
                "is_archived": false, "is_general": false, "is_member": true,
                "topic": { "value": "", "creator": "", "last_set": 0 },
                "purpose": { "value": "", "creator": "", "last_set": 0 }
            }
        }),
        "conversations.join" => json!({ "ok": true, "channel": { "id": "C_BENCH" } }),
        "conversations.history" => json!({ "ok": true, "messages": [], "has_more": false }),
        "usergroups.users.list" => json!({ "ok": true, "users": [] }),
        "chat.postEphemeral" => json!({ "ok": true, "message_ts": ts }),
        "chat.postMessage" | "chat.update" => json!({ "ok": true, "channel": "C_BENCH", "ts": ts }),
        _ => json!({ "ok": true }),
    })
}
