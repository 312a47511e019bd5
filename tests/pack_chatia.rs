//! Seed 001 (Kanban V2 / chatia) end to end against real PostgreSQL (the seed's own
//! SQL on its fixture schema), real Redis, a local HTTP app and real `pg_dump`.

mod common;

use common::{say, Pack};
use redis::AsyncCommands;
use serde_json::json;
use warroom::app::Outcome;
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

const FIXTURE: &str = "commands/chatia/fixture.sql";
const ALL: &[(&str, &str)] = &[
    ("chatia_db", "db"),
    ("chatia_cache", "redis"),
    ("chatia_api", "web"),
];

async fn enabled(pack: &Pack) -> i64 {
    let pool = pack.pg().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Companies WHERE COALESCE(settings->>'kanbanV2Enabled', 'false')::boolean")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn kanban_off_disables_every_company_clears_the_cache_and_checks_health() {
    let pack = Pack::start(FIXTURE, ALL).await;
    let mut redis = pack.redis().await;
    let _: () = redis
        .set("kanban:board:company-001", "cached")
        .await
        .unwrap();
    let (app, chat) = pack.app().await;
    assert_eq!(enabled(&pack).await, 30);

    let out = say(
        &app,
        "U_ONCALL",
        "/kanban-off reason=\"Socket.IO down\" impact=\"40 companies\"",
    )
    .await;

    assert_eq!(out, Outcome::Done, "{}", chat.transcript());
    assert_eq!(enabled(&pack).await, 0);
    let keys: Vec<String> = redis.keys("*").await.unwrap();
    assert!(keys.is_empty(), "FLUSHDB ran: {keys:?}");
    let health: Vec<_> = pack
        .web
        .requests()
        .into_iter()
        .filter(|r| r.path == "/health")
        .collect();
    assert_eq!(health.len(), 1);
    assert_eq!(
        health[0].authorization.as_deref(),
        Some("Bearer test-token")
    );
    let steps = app.store.steps(1).await.unwrap();
    assert!(
        steps.iter().all(|s| s.state == StepState::Succeeded),
        "{steps:?}"
    );
    assert_eq!(steps[0].output.as_deref(), Some("30 rows affected"));
    assert_eq!(steps[2].output.as_deref(), Some("FLUSHDB → OK"));
    let text = chat.transcript();
    assert!(
        text.contains("**INCIDENT RESOLVED**") && text.contains(" - Cache cleared"),
        "{text}"
    );
    assert!(
        !text.contains("test-token") && !text.contains(&pack.web.url()),
        "secrets and URLs are never posted"
    );
}

#[tokio::test]
async fn a_failing_health_check_fails_the_run_after_retries_and_posts_the_failure() {
    let pack = Pack::start(FIXTURE, ALL).await;
    pack.web
        .set("GET", "/health", 503, json!({"status": "down"}));
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-off reason=\"Socket.IO down\"").await,
        Outcome::StepFailed
    );

    assert_eq!(
        pack.web
            .paths()
            .iter()
            .filter(|p| *p == "GET /health")
            .count(),
        3,
        "the step retries twice"
    );
    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Failed);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[3].state, StepState::Failed);
    assert!(
        steps[3]
            .output
            .as_deref()
            .unwrap()
            .starts_with("HTTP 503, expected 200"),
        "{:?}",
        steps[3].output
    );
    let failure = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template)
        .expect("failure template");
    assert!(
        failure.text().contains("RUNBOOK FAILED: /kanban-off"),
        "{}",
        failure.text()
    );
    assert!(
        failure
            .text()
            .contains("✅ Disable kanbanV2Enabled for every company"),
        "what ran is listed: {}",
        failure.text()
    );
}

#[tokio::test]
async fn without_cache_and_api_the_optional_steps_are_skipped_and_say_so() {
    let pack = Pack::start(FIXTURE, &[("chatia_db", "db")]).await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-off reason=\"Socket.IO down\"").await,
        Outcome::Done
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        (steps[2].state, steps[3].state),
        (StepState::Skipped, StepState::Skipped)
    );
    assert!(chat
        .transcript()
        .contains("⏭️ Clear the application cache — skipped: target not configured"));
}

#[tokio::test]
async fn selective_rollback_switches_off_the_top_companies_then_checks_metrics() {
    let pack = Pack::start(FIXTURE, ALL).await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/kanban-selective-off reason=\"slow DnD\" top=3 settle=10ms"
        )
        .await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(enabled(&pack).await, 27);
    let pool = pack.pg().await;
    let off: Vec<String> = sqlx::query_scalar("SELECT id FROM Companies WHERE settings->>'kanbanV2Enabled' = 'false' AND id <> 'TEST_COMPANY_ID' AND right(id, 3)::int % 4 <> 0 ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(off, ["company-001", "company-002", "company-003"]);
    assert!(pack.web.paths().contains(&"GET /metrics".to_string()));
    let text = chat.transcript();
    assert!(text.contains("company-001 | Company 1 | 40"), "{text}");
    assert!(text.contains("**PERFORMANCE ISSUE - PARTIALLY RESOLVED**"));
    assert!(text.contains("waited 10 ms"), "{text}");
}

#[tokio::test]
async fn data_corruption_stop_blocks_writes_dumps_tables_and_posts_the_assessment() {
    let mut pack = Pack::start(FIXTURE, ALL).await;
    let dumps = tempfile::tempdir().unwrap();
    pack.var("dump_dir", &dumps.path().display().to_string());
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/kanban-corruption reason=\"tags vanishing\""
        )
        .await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting,
        "a DBA must approve too"
    );
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(enabled(&pack).await, 0);
    let mut redis = pack.redis().await;
    let block: Option<String> = redis.get("kanban:emergency:write-block").await.unwrap();
    assert_eq!(block.as_deref(), Some("true"));
    let ttl: i64 = redis.ttl("kanban:emergency:write-block").await.unwrap();
    assert!((3590..=3600).contains(&ttl), "ttl {ttl}");
    let dump = std::fs::read_dir(dumps.path())
        .unwrap()
        .next()
        .expect("a dump file")
        .unwrap()
        .path();
    let name = dump.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("kanban_emergency_dump_") && name.ends_with(".sql"),
        "{name}"
    );
    let sql = std::fs::read_to_string(&dump).unwrap();
    assert!(
        sql.contains("CREATE TABLE public.tags") && sql.contains("CREATE TABLE public.tickettags")
    );
    let text = chat.transcript();
    assert!(text.contains("orphan_tags\n-----------\n2"), "{text}");
    assert!(text.contains("invalid_lanes\n-------------\n2"), "{text}");
    assert!(text.contains("tagid | ticketid | copies"), "{text}");
    let page = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Page && p.text().contains("writes blocked"))
        .expect("the runbook's page");
    assert_eq!(page.post.mentions, ["U_LEAD", "U_IC", "U_DBA"]);
    let alert = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template && p.post.channel == "C_STATUS")
        .expect("stakeholder alert");
    assert!(
        alert
            .text()
            .starts_with("INCIDENT ALERT: P0 - Kanban V2 data corruption"),
        "{}",
        alert.text()
    );
}

#[tokio::test]
async fn surgical_cleanup_commits_only_when_validation_passes() {
    let pack = Pack::start(FIXTURE, ALL).await;
    let (app, chat) = pack.app().await;
    say(&app, "U_LEAD", "/kanban-cleanup").await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Waiting,
        "parks at the manual test"
    );
    let pool = pack.pg().await;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM TicketTags), (SELECT COUNT(*) FROM Tags), (SELECT COUNT(*) FROM Tickets WHERE kanbanLane IS NOT NULL)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        counts,
        (3, 3, 3),
        "duplicates, orphans and invalid lanes are gone"
    );
    assert_eq!(say(&app, "U_LEAD", "/confirm RUN-1").await, Outcome::Done);
    let text = chat.transcript();
    assert!(text.contains("3 statements (3, 2, 2 rows affected); validated orphan_tags = 0, duplicates = 0; committed"), "{text}");
    assert!(text.contains("**CRITICAL INCIDENT - RESOLVED**"), "{text}");
    assert!(text.contains("3. Recovered data from cleanup"), "{text}");
}

#[tokio::test]
async fn surgical_cleanup_rolls_everything_back_when_validation_fails() {
    let pack = Pack::start(FIXTURE, ALL).await;
    let pool = pack.pg().await;
    // A rule that keeps one orphan tag: validation must then refuse to commit.
    sqlx::query("CREATE RULE keep_orphan AS ON DELETE TO Tags WHERE OLD.name = 'orphan-null' DO INSTEAD NOTHING")
        .execute(&pool)
        .await
        .unwrap();
    let (app, chat) = pack.app().await;
    say(&app, "U_LEAD", "/kanban-cleanup").await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    let ticket_tags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM TicketTags")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ticket_tags, 6, "the duplicate deletion was rolled back too");
    assert!(chat.transcript().contains(
        "validation failed before COMMIT, rolled back: `orphan_tags`: expected = 0, got 1"
    ));
}

#[tokio::test]
async fn re_enabling_binds_the_company_id_and_refuses_injection() {
    let pack = Pack::start(FIXTURE, ALL).await;
    let (app, _chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/kanban-enable \"x'; DROP TABLE Companies;--\""
        )
        .await,
        Outcome::Invalid
    );
    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-enable TEST_COMPANY_ID").await,
        Outcome::Waiting
    );
    assert_eq!(say(&app, "U_LEAD", "/approve RUN-1").await, Outcome::Done);
    let pool = pack.pg().await;
    let on: String = sqlx::query_scalar(
        "SELECT settings->>'kanbanV2Enabled' FROM Companies WHERE id = 'TEST_COMPANY_ID'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(on, "true");
    assert_eq!(enabled(&pack).await, 31);
}
