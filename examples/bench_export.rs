//! Benchmark: exporting an incident with 10k timeline events and 50k channel messages.
//!
//! cargo run --release --example bench_export [-- EVENTS MESSAGES]
//! Prints the time of each format and the process's peak RSS (VmHWM).

use std::time::Instant;

use chrono::Utc;
use warroom::model::incident::NewEvent;
use warroom::store::Store;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut argv = std::env::args().skip(1);
    let events: usize = argv.next().map_or(Ok(10_000), |s| s.parse())?;
    let messages: usize = argv.next().map_or(Ok(50_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&dir.path().join("bench.db").display().to_string()).await?;
    let start = Utc::now() - chrono::Duration::hours(3);
    let incident = store
        .create_incident("Export benchmark", "P1", "C_BENCH", "console", start)
        .await?;
    let mut tx = store.pool().begin().await?;
    for i in 0..events {
        let at = start + chrono::Duration::milliseconds(i as i64 * 900);
        sqlx::query("INSERT INTO timeline (incident_id, at, kind, actor, text) VALUES (?1, ?2, 'step', 'U_ONCALL', ?3)")
            .bind(&incident.id)
            .bind(at.timestamp_millis())
            .bind(format!("RUN-{}: step {i} succeeded (12 rows affected)", i / 10))
            .execute(&mut *tx)
            .await?;
    }
    for i in 0..messages {
        let at = start + chrono::Duration::milliseconds(i as i64 * 180);
        sqlx::query("INSERT INTO messages (platform, channel, user_id, text, at) VALUES ('slack', 'C_BENCH', ?1, ?2, ?3)")
            .bind(format!("U{}", i % 40))
            .bind(format!("message {i}: looking at the dashboards, p95 still high on eu-west"))
            .bind(at.timestamp_millis())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    store
        .set_incident_status(&incident.id, "resolved", Utc::now())
        .await?;
    let _ = NewEvent {
        kind: "",
        actor: None,
        text: "",
        run_id: None,
        step_idx: None,
    };
    let before = peak_rss_kb();
    for (name, format) in [
        ("markdown", warroom::export::Format::Markdown),
        ("json", warroom::export::Format::Json),
    ] {
        let t = Instant::now();
        let out = warroom::export::export(&store, &incident.id, format, |_| {
            Some(std::time::Duration::from_secs(1800))
        })
        .await?;
        println!(
            "export {name}: {events} events + {messages} messages in {:?} ({} KB of output)",
            t.elapsed(),
            out.len() / 1024
        );
    }
    let t = Instant::now();
    let files = warroom::export::export_to_dir(&store, &incident.id, dir.path(), |_| None).await?;
    println!(
        "export --out (md + json + svg): {:?}, {} files",
        t.elapsed(),
        files.len()
    );
    println!(
        "peak RSS: {} MB (before exporting: {} MB)",
        peak_rss_kb() / 1024,
        before / 1024
    );
    Ok(())
}
