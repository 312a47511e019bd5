//! Benchmark: `/kanban-off` end to end (record, parse, authorize, incident, run, the
//! seed's UPDATE and verification on 100k companies, templates) against PostgreSQL.
//!
//! cargo run --release --example bench_kanban_off [-- COMPANIES ITERATIONS]
//! Needs the local PostgreSQL (WARROOM_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).

use std::sync::Arc;
use std::time::Instant;

use secrecy::SecretString;
use sqlx::Connection;
use warroom::app::{App, Incoming, Outcome};
use warroom::chat::recording::RecordingChat;
use warroom::config::Settings;
use warroom::model::user::UserId;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut argv = std::env::args().skip(1);
    let companies: i64 = argv.next().map_or(Ok(100_000), |s| s.parse())?;
    let iterations: usize = argv.next().map_or(Ok(5), |s| s.parse())?;
    let admin = std::env::var("WARROOM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("URL with a database");

    let name = format!("warroom_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let url = format!("{base}/{name}");
    let pool = sqlx::PgPool::connect(&url).await?;
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    sqlx::raw_sql(&std::fs::read_to_string(
        repo.join("commands/chatia/fixture.sql"),
    )?)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO Companies (id, name, settings)
         SELECT 'bench-' || i, 'Bench ' || i, jsonb_build_object('kanbanV2Enabled', i % 4 <> 0, 'plan', 'pro')
         FROM generate_series(1, $1) AS i",
    )
    .bind(companies - 41)
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE Companies").execute(&pool).await?;

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("warroom.toml");
    std::fs::write(
        &config,
        format!(
            "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n[targets.chatia_db]\nkind = \"sql\"\n",
            repo.join("commands").display().to_string(),
            repo.join("templates").display().to_string()
        ),
    )?;
    for state in ["sqlite", "postgres"] {
        let mut settings = Settings::load(Some(&config))?;
        settings.database_url = SecretString::from(match state {
            "sqlite" => dir.path().join("state.db").display().to_string(),
            _ => url.clone(),
        });
        settings.targets[0].url = Some(SecretString::from(url.clone()));
        let chat = Arc::new(RecordingChat::new());
        let app = App::build(settings, chat.clone()).await?;
        let mut times = Vec::new();
        for i in 0..iterations {
            sqlx::query("UPDATE Companies SET settings = jsonb_set(settings, '{kanbanV2Enabled}', 'true') WHERE id LIKE 'bench-%' AND right(id, 1) IN ('1','3','5','7','9')")
                .execute(&pool)
                .await?;
            let msg = Incoming {
                user: UserId::new("console", "U_ONCALL"),
                channel: format!("C_BENCH_{state}_{i}"),
                text: "/kanban-off reason=\"benchmark\"".into(),
                dedup_key: None,
            };
            let start = Instant::now();
            let outcome = app.handle(&msg).await;
            times.push(start.elapsed());
            anyhow::ensure!(
                outcome == Outcome::Done,
                "kanban-off failed: {}",
                chat.transcript()
            );
        }
        times.sort();
        println!(
            "/kanban-off, {companies} companies, state on {state}: min {:?}, median {:?}, max {:?} over {iterations} runs",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
        app.store.close().await;
    }
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(())
}
