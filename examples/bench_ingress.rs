//! Benchmark: Slack HTTP slash-command ingress (verify the signature, record the
//! command, ack; the handling continues in the background) over real HTTP on
//! loopback, with the state on the embedded SQLite default or on PostgreSQL.
//!
//! cargo run --release --example bench_ingress [-- REQUESTS CONCURRENCY [postgres://...]]

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use warroom::chat::recording::RecordingChat;
use warroom::chat::slack::http::{router, SlackHttp};
use warroom::chat::slack::signature::sign;
use warroom::config::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut argv = std::env::args().skip(1);
    let requests: usize = argv.next().map_or(Ok(20_000), |s| s.parse())?;
    let concurrency: usize = argv.next().map_or(Ok(16), |s| s.parse())?;
    let state_url = argv.next();
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("warroom.toml");
    std::fs::write(
        &config,
        format!(
            "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n[targets.chatia_db]\nkind = \"sql\"\ndemo = \"chatia\"\n",
            repo.join("commands").display().to_string(),
            repo.join("templates").display().to_string()
        ),
    )?;
    let mut settings = Settings::load(Some(&config))?;
    settings.database_url = SecretString::from(
        state_url
            .clone()
            .unwrap_or_else(|| dir.path().join("state.db").display().to_string()),
    );
    let app = Arc::new(warroom::app::App::build(settings, Arc::new(RecordingChat::new())).await?);
    let secret = "bench-signing-secret";
    let state = Arc::new(SlackHttp {
        app,
        signing_secret: SecretString::from(secret.to_string()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/slack/commands", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return latencies;
                }
                let body = format!(
                    "command=%2Fstatus&text=&user_id=U_ONCALL&channel_id=C_BENCH&trigger_id=T{i}"
                );
                let ts = chrono::Utc::now().timestamp().to_string();
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-slack-request-timestamp", &ts)
                    .header(
                        "x-slack-signature",
                        sign(secret.as_bytes(), &ts, body.as_bytes()),
                    )
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(resp.status(), 200);
                let _ = resp.bytes().await;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all: Vec<Duration> = Vec::with_capacity(requests);
    for w in workers {
        all.extend(w.await?);
    }
    let wall = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{requests} signed slash commands, concurrency {concurrency}, state on {}: {:.0} req/s, p50 {:?}, p99 {:?}, max {:?}",
        if state_url.is_some() { "PostgreSQL" } else { "SQLite" },
        requests as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all[all.len() - 1]
    );
    Ok(())
}
