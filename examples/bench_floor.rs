//! The ceiling of this machine for issue 18's work, without warroom: how fast a
//! server that does only the least a slash command needs can go, measured the way
//! `bench_ingress` measures warroom and the peer (wrk -t2 -c16 in this process's
//! child, the same pre-signed requests, the server in a process of its own, the
//! Slack stand-in in this one).
//!
//! cargo build --release --examples
//! target/release/examples/bench_floor [--seconds 8] [--rate 1300]
//!
//! Each server verifies the v0 signature and parses the form, then:
//! - `ack`: answers at once (no state at all);
//! - `record`: first commits the command to SQLite (WAL, synchronous=NORMAL, a
//!   group commit of whatever queued, dedupe on trigger_id), as both warroom and
//!   the peer must before they ack;
//! - `reply`: answers, then posts one `chat.postEphemeral` to the stand-in;
//! - `record-reply`: both, the least an accepted command can cost (no outbox row,
//!   no state read, no outcome: the reply is not durable).
//!
//! A target above `record-reply`'s figure cannot be met by any server that must
//! record and answer each command on this machine; the ratio to it says how much
//! of the machine warroom's own work leaves.

#[allow(dead_code)]
#[path = "bench_ingress/load.rs"]
mod load;
#[allow(dead_code)]
#[path = "bench_ingress/standin.rs"]
mod standin;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

const MODES: [&str; 4] = ["ack", "record", "reply", "record-reply"];
const CONNECTIONS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1..]).await;
    }
    let (mut seconds, mut rate) = (8u64, 1300.0f64);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => seconds = value.parse()?,
            "--rate" => rate = value.parse()?,
            other => anyhow::bail!("unknown option {other} (--seconds N, --rate N)"),
        }
    }
    let (api, _counts) = standin::start().await?;
    let dir = tempfile::tempdir()?;
    println!("wrk -t2 -c{CONNECTIONS} -d{seconds}s; accepted-command requests (`/status`)\n");
    println!("| server | load | throughput | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for mode in MODES {
        for offered in [0.0, rate] {
            let port = free_port()?;
            let db = dir.path().join(format!("{mode}-{offered}.db"));
            let mut server = tokio::process::Command::new(std::env::current_exe()?)
                .args(["serve", &port.to_string(), mode, &api])
                .arg(&db)
                .kill_on_drop(true)
                .spawn()?;
            wait_for(port).await?;
            let run = dir.path().join(format!("{mode}-{offered}"));
            std::fs::create_dir_all(&run)?;
            let count = ((seconds as f64 * 60_000.0) as usize).max(1000);
            let script = load::script(&run, load::Workload::Accepted, count, CONNECTIONS, offered)?;
            let url = format!("http://127.0.0.1:{port}");
            let w = load::wrk(&script, &url, seconds, CONNECTIONS).await?;
            let _ = server.kill().await;
            let load = if offered > 0.0 {
                format!("offered {offered:.0}/s")
            } else {
                "saturation".into()
            };
            println!(
                "| {mode} | {load} | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms |{}",
                w.requests as f64 / w.seconds,
                w.p50_ms,
                w.p99_ms,
                w.max_ms,
                if w.non_2xx + w.socket_errors > 0 {
                    format!(" {} errors", w.non_2xx + w.socket_errors)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_for(port: u16) -> anyhow::Result<()> {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the floor server did not start on port {port}")
}

type Record = (String, oneshot::Sender<()>);

struct Floor {
    reply: bool,
    record: Option<mpsc::UnboundedSender<Record>>,
    client: reqwest::Client,
    api: String,
}

/// `serve PORT MODE API DB`
async fn serve(args: &[String]) -> anyhow::Result<()> {
    let (port, mode, api, db) = (&args[0], args[1].as_str(), &args[2], &args[3]);
    let record = match mode.starts_with("record") {
        true => Some(recorder(db).await?),
        false => None,
    };
    let floor = Arc::new(Floor {
        reply: mode.ends_with("reply"),
        record,
        client: reqwest::Client::new(),
        api: api.clone(),
    });
    let app = Router::new()
        .route("/slack/commands", post(command))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// One connection, one multi-row INSERT per batch of whatever queued meanwhile,
/// each waiter answered after its batch committed.
async fn recorder(path: &str) -> anyhow::Result<mpsc::UnboundedSender<Record>> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::ConnectOptions;
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .connect()
        .await?;
    sqlx::query(
        "CREATE TABLE commands (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, \
         dedup_key TEXT NOT NULL UNIQUE, body TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Record>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 128 {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let rows = vec!["(?, ?, ?)"; batch.len()].join(", ");
            let sql = format!(
                "INSERT INTO commands (received_at, dedup_key, body) VALUES {rows} \
                 ON CONFLICT (dedup_key) DO NOTHING"
            );
            let now = chrono::Utc::now().timestamp_millis();
            let mut query = sqlx::query(&sql);
            for (body, _) in &batch {
                let key = body.split("trigger_id=").nth(1).unwrap_or(body);
                query = query.bind(now).bind(key.to_string()).bind(body.clone());
            }
            if let Err(e) = query.execute(&mut conn).await {
                eprintln!("floor record: {e}");
                continue;
            }
            for (_, done) in batch {
                let _ = done.send(());
            }
        }
    });
    Ok(tx)
}

async fn command(State(floor): State<Arc<Floor>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let verified = warroom::chat::slack::signature::verify(
        load::SECRET.as_bytes(),
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &body,
        chrono::Utc::now().timestamp(),
    );
    if verified.is_err() {
        return Json(json!({ "text": "bad signature" }));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(record) = &floor.record {
        let (done, recorded) = oneshot::channel();
        let text = String::from_utf8_lossy(&body).into_owned();
        if record.send((text, done)).is_err() || recorded.await.is_err() {
            return Json(json!({ "text": "not recorded" }));
        }
    }
    if floor.reply {
        let (client, url) = (
            floor.client.clone(),
            format!("{}/chat.postEphemeral", floor.api),
        );
        let payload = json!({ "channel": field("channel_id"), "user": field("user_id"),
                              "text": "No open incident in this channel." });
        tokio::spawn(async move {
            if let Ok(answer) = client
                .post(url)
                .bearer_auth("xoxb-floor")
                .json(&payload)
                .send()
                .await
            {
                let _ = answer.bytes().await;
            }
        });
    }
    Json(json!({ "response_type": "ephemeral", "text": "accepted; working on it." }))
}
