//! Seed 002 (PFA Vanguard, ADR-008 rollback plan) end to end: the seed's own SQL on its
//! fixture schema in a real PostgreSQL database, a local HTTP app standing in for the
//! API and the frontend, and stand-in `pm2`, `git`, `npm`, `npx` and `aws` that record
//! their exact argv and the directory they ran in.

mod common;

use std::path::{Path, PathBuf};

use common::{say, Pack};
use serde_json::json;
use warroom::app::Outcome;
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

const FIXTURE: &str = "commands/pfa/fixture.sql";
const ALL: &[(&str, &str)] = &[("pfa_db", "db"), ("pfa_api", "web"), ("pfa_web", "web")];
const CLIS: &[&str] = &["pm2", "git", "npm", "npx", "aws"];

/// `pm2 list` as pm2 prints it, with the two PFA processes in these states.
fn pm2_list(worker: &str, backend: &str) -> String {
    format!(
        "┌────┬────────────────────────┬─────────┬──────┬───────────┐\n\
         │ id │ name                   │ mode    │ ↺    │ status    │\n\
         ├────┼────────────────────────┼─────────┼──────┼───────────┤\n\
         │ 0  │ pfa-vanguard-backend   │ fork    │ 3    │ {backend:<9} │\n\
         │ 1  │ pems-write-sync-worker │ fork    │ 0    │ {worker:<9} │\n\
         └────┴────────────────────────┴─────────┴──────┴───────────┘\n"
    )
}

const BACKUP_LISTING: &str = "2025-11-28 02:00:11   73400320 backup_prod_20251128.sql\n";

/// A pack with every target served and a checkout directory (with `backend/`) as
/// `{vars.pfa_repo}`.
struct Pfa {
    pack: Pack,
    repo: PathBuf,
    _repo_dir: tempfile::TempDir,
}

async fn start(pm2: &str) -> Pfa {
    let mut pack = Pack::start(FIXTURE, ALL).await;
    let repo_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo_dir.path().join("backend")).unwrap();
    let repo = std::fs::canonicalize(repo_dir.path()).unwrap();
    pack.var("pfa_repo", &repo.display().to_string());
    let pfa = Pfa {
        pack,
        repo,
        _repo_dir: repo_dir,
    };
    for cli in CLIS {
        let out = match *cli {
            "pm2" => pm2.to_string(),
            "aws" => BACKUP_LISTING.to_string(),
            _ => String::new(),
        };
        pfa.standin(cli, &out, 0);
    }
    pfa
}

impl Pfa {
    /// A stand-in that also notes the directory it ran in.
    fn standin(&self, name: &str, stdout: &str, code: i32) {
        self.pack.standins.add(name, stdout, code);
        let dir = PathBuf::from(self.pack.standins.path());
        let script = dir.join(name);
        let text = std::fs::read_to_string(&script).unwrap();
        let note = format!(
            "#!/bin/sh\nprintf '%s %s\\n' \"$(basename \"$0\")\" \"$(pwd -P)\" >> '{}'\n",
            dir.join("cwd.log").display()
        );
        std::fs::write(&script, text.replacen("#!/bin/sh\n", &note, 1)).unwrap();
    }

    /// `program directory` per call, in order, with the checkout shown as `REPO`.
    fn cwds(&self) -> Vec<String> {
        let log = Path::new(&self.pack.standins.path()).join("cwd.log");
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace(&self.repo.display().to_string(), "REPO"))
            .collect()
    }

    fn calls(&self) -> Vec<Vec<String>> {
        self.pack.standins.calls()
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let pool = self.pack.pg().await;
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }

    async fn table_exists(&self, name: &str) -> bool {
        let pool = self.pack.pg().await;
        let found: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        found
    }

    async fn sync_columns(&self) -> i64 {
        self.scalar(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name = 'pfa_modification' \
             AND column_name IN ('sync_status', 'synced_at', 'sync_error', 'pems_version')",
        )
        .await
    }
}

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn calls(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter().map(|c| argv(c)).collect()
}

const QUICK: &str = "/rollback quick reason=\"backend 500s after deploy\" settle=10ms";

#[tokio::test]
async fn quick_rollback_stops_the_sync_worker_first_reverts_both_tiers_and_announces() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(say(&app, "U_ONCALL", QUICK).await, Outcome::Waiting);
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pfa.calls(),
        calls(&[
            &["pm2", "stop", "pems-write-sync-worker"],
            &["pm2", "list"],
            &[
                "git",
                "rev-parse",
                "--verify",
                "--quiet",
                "refs/tags/v3.0.0"
            ],
            &["git", "checkout", "v3.0.0"],
            &["npm", "ci"],
            &["npm", "run", "build"],
            &["pm2", "restart", "pfa-vanguard-backend"],
            &["pm2", "list"],
            &[
                "pm2",
                "logs",
                "pfa-vanguard-backend",
                "--err",
                "--lines",
                "50",
                "--nostream"
            ],
            &["npm", "ci"],
            &["npm", "run", "build"],
            &[
                "aws",
                "s3",
                "sync",
                "dist/",
                "s3://pfavanguard-frontend/",
                "--delete"
            ],
            &[
                "aws",
                "cloudfront",
                "create-invalidation",
                "--distribution-id",
                "SET-cloudfront_distribution-IN-warroom.toml",
                "--paths",
                "/*",
            ],
        ]),
        "the sync worker is stopped before anything else"
    );
    let cwds = pfa.cwds();
    assert_eq!(
        &cwds[2..6],
        [
            "git REPO",
            "git REPO",
            "npm REPO/backend",
            "npm REPO/backend"
        ],
        "the backend is built in backend/"
    );
    assert_eq!(
        &cwds[9..12],
        ["npm REPO", "npm REPO", "aws REPO"],
        "the frontend is built and synced from the project root"
    );

    assert_eq!(
        pfa.pack.web.paths(),
        [
            "GET /health",
            "GET /api/pfa-data?organizationId=org-rio",
            "GET /"
        ]
    );
    let auth = &pfa.pack.web.requests()[1];
    assert_eq!(auth.authorization.as_deref(), Some("Bearer test-token"));

    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps.len(), 17);
    assert!(
        steps.iter().all(|s| s.state == StepState::Succeeded),
        "{steps:?}"
    );
    assert_eq!(steps[8].output.as_deref(), Some("waited 10 ms"));
    assert_eq!(
        steps[9].output.as_deref(),
        Some("HTTP 200, /status = \"healthy\"")
    );

    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Succeeded);
    let incident = app.store.incident(&run.incident_id).await.unwrap().unwrap();
    assert_eq!(
        incident.status, "monitoring",
        "the seed: monitor before declaring success"
    );

    let announcement = format!(
        "🔴 ROLLBACK IN PROGRESS: ADR-008 deployment rolled back to v3.0.0 due to backend 500s after deploy. ETA: 5 minutes. Incident: {}",
        run.incident_id
    );
    let templates: Vec<_> = chat
        .posts()
        .into_iter()
        .filter(|p| p.post.kind == PostKind::Template)
        .collect();
    assert_eq!(templates.len(), 2, "#incidents and the status channel");
    assert!(templates.iter().all(|p| p.text() == announcement));
    assert_eq!(templates[1].post.channel, "C_STATUS");
    assert!(!chat.transcript().contains("test-token"));
}

#[tokio::test]
async fn quick_rollback_needs_the_devsecops_lead_and_nothing_runs_before() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_COMMS", QUICK).await,
        Outcome::Denied,
        "communications may not ask for a production rollback"
    );
    assert_eq!(say(&app, "U_ONCALL", QUICK).await, Outcome::Waiting);
    assert_ne!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Done,
        "a DBA is not a decision maker for production P1"
    );
    assert!(pfa.calls().is_empty(), "nothing ran: {:?}", pfa.calls());
    assert!(pfa.pack.web.requests().is_empty());
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::AwaitingApproval
    );

    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(
        pfa.calls()[0],
        argv(&["pm2", "stop", "pems-write-sync-worker"])
    );
}

#[tokio::test]
async fn a_failing_health_check_stops_the_quick_rollback_and_posts_the_failure() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    pfa.pack
        .web
        .set("GET", "/health", 200, json!({"status": "degraded"}));
    let (app, chat) = pfa.pack.app().await;

    say(&app, "U_ONCALL", QUICK).await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );

    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[9].name, "Check the health endpoint");
    assert_eq!(steps[9].state, StepState::Failed);
    assert_eq!(
        steps[9].output.as_deref(),
        Some("/status: expected \"healthy\", got \"degraded\"")
    );
    assert!(
        steps[10..]
            .iter()
            .all(|s| s.state == StepState::Skipped && s.output.as_deref() == Some("not run")),
        "{steps:?}"
    );
    assert_eq!(
        pfa.pack.standins.calls_of("npm").len(),
        2,
        "the frontend was not rebuilt"
    );
    assert!(pfa.pack.standins.calls_of("aws").is_empty());
    assert_eq!(pfa.pack.web.paths(), ["GET /health"]);
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Failed
    );
    let text = chat.transcript();
    assert!(
        text.contains("RUNBOOK FAILED: /rollback quick"),
        "the failure is posted: {text}"
    );
    assert!(text.contains("✅ Restart the backend"), "{text}");
    assert!(
        !text.contains("ROLLBACK IN PROGRESS"),
        "no success announcement"
    );
}

#[tokio::test]
async fn a_sync_worker_still_online_stops_the_rollback_before_any_code_changes() {
    let pfa = start(&pm2_list("online", "online")).await;
    let (app, _chat) = pfa.pack.app().await;

    say(&app, "U_ONCALL", QUICK).await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );

    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[1].state, StepState::Failed);
    assert!(
        steps[1]
            .output
            .as_deref()
            .unwrap()
            .starts_with("`pm2` output does not match /pems-write-sync-worker"),
        "{:?}",
        steps[1].output
    );
    assert_eq!(
        pfa.calls(),
        calls(&[&["pm2", "stop", "pems-write-sync-worker"], &["pm2", "list"]])
    );
}

#[tokio::test]
async fn a_failing_backend_install_fails_its_step_and_the_backend_is_not_restarted() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    pfa.standin("npm", "npm ERR! code EUSAGE", 1);
    let (app, _chat) = pfa.pack.app().await;

    say(&app, "U_ONCALL", QUICK).await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );

    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[4].name, "Install backend dependencies");
    assert_eq!(steps[4].state, StepState::Failed);
    assert_eq!(
        steps[4].output.as_deref(),
        Some("`npm` exited 1, expected 0: npm ERR! code EUSAGE")
    );
    assert_eq!(
        pfa.pack.standins.calls_of("pm2"),
        calls(&[&["stop", "pems-write-sync-worker"], &["list"]]),
        "no restart"
    );
    assert!(pfa.pack.web.requests().is_empty());
}

#[tokio::test]
async fn injection_in_the_version_or_reason_is_refused_before_anything_runs() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    for line in [
        "/rollback quick reason=\"bad deploy\" version=\"v3.0.0; rm -rf /\"",
        "/rollback quick reason=\"bad deploy\" version=\"$(id)\"",
        "/rollback quick reason=\"bad deploy\" version=\"--upload-pack=touch /tmp/x\"",
        "/rollback quick reason=\"bad $(id) deploy\"",
        "/rollback full reason=\"bad deploy\" version=\"v3.0.0 && reboot\"",
        "/rollback partial B reason=\"bad deploy\" version=\"v3.0.0`id`\"",
    ] {
        assert_eq!(
            say(&app, "U_ONCALL", line).await,
            Outcome::Invalid,
            "{line}"
        );
    }
    assert!(
        app.store.run(1).await.unwrap().is_none(),
        "no run was created"
    );
    assert!(pfa.calls().is_empty());
    assert!(
        chat.transcript().contains("`version` `"),
        "the refusal names the argument: {}",
        chat.transcript()
    );
}

#[tokio::test]
async fn quick_rollback_to_another_tag_without_invalidation_skips_cloudfront_and_says_so() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_ONCALL",
        "/rollback quick reason=\"bad deploy\" version=v3.2.1 invalidate=false settle=10ms",
    )
    .await;
    assert_eq!(say(&app, "U_LEAD", "/approve RUN-1").await, Outcome::Done);

    assert_eq!(
        pfa.pack.standins.calls_of("git"),
        calls(&[
            &["rev-parse", "--verify", "--quiet", "refs/tags/v3.2.1"],
            &["checkout", "v3.2.1"]
        ])
    );
    assert_eq!(
        pfa.pack.standins.calls_of("aws"),
        calls(&[&[
            "s3",
            "sync",
            "dist/",
            "s3://pfavanguard-frontend/",
            "--delete"
        ]])
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[15].state, StepState::Skipped);
    assert_eq!(
        steps[15].output.as_deref(),
        Some("not applicable: invalidate is not true")
    );
    assert!(chat.transcript().contains("rolled back to v3.2.1"));
}

#[tokio::test]
async fn full_rollback_checks_the_backup_then_reverses_the_migration_and_redeploys() {
    let pfa = start(&pm2_list("stopped", "stopped")).await;
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/rollback full reason=\"sync corrupting PEMS writes\" settle=10ms"
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
        Outcome::Waiting,
        "parks at the backup checkpoint"
    );
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert_eq!(
        pfa.calls(),
        calls(&[
            &["pm2", "stop", "pems-write-sync-worker"],
            &["pm2", "stop", "pfa-vanguard-backend"],
            &["pm2", "list"],
            &[
                "aws",
                "s3",
                "ls",
                &format!("s3://pfavanguard-backups/backup_prod_{today}")
            ],
        ])
    );
    assert!(
        pfa.table_exists("pfa_write_queue").await && pfa.sync_columns().await == 4,
        "the database is untouched until the backup is confirmed"
    );
    let offline = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template && p.post.channel == "C_STATUS")
        .expect("maintenance announcement");
    assert!(
        offline
            .text()
            .starts_with("🔴 SYSTEM OFFLINE: Full rollback initiated"),
        "{}",
        offline.text()
    );
    assert!(chat
        .transcript()
        .contains("checkpoint 6: The database rollback is IRREVERSIBLE"));

    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert!(!pfa.table_exists("pfa_write_queue").await);
    assert!(!pfa.table_exists("pfa_sync_conflict").await);
    assert_eq!(pfa.sync_columns().await, 0);
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM pfa_modification").await,
        30,
        "modifications kept"
    );
    assert_eq!(pfa.scalar("SELECT COUNT(*) FROM pfa_records").await, 120);

    assert_eq!(
        pfa.calls()[4..],
        calls(&[
            &["npx", "prisma", "migrate", "status"],
            &[
                "npx",
                "prisma",
                "migrate",
                "resolve",
                "--rolled-back",
                "20251128000003_phase4_bidirectional_sync_infrastructure"
            ],
            &[
                "git",
                "rev-parse",
                "--verify",
                "--quiet",
                "refs/tags/v3.0.0"
            ],
            &["git", "checkout", "v3.0.0"],
            &["npm", "ci"],
            &["npm", "ci"],
            &["npm", "run", "build"],
            &["npm", "run", "build"],
            &[
                "pm2",
                "start",
                "ecosystem.config.js",
                "--only",
                "pfa-vanguard-backend",
                "--env",
                "production"
            ],
            &[
                "aws",
                "s3",
                "sync",
                "dist/",
                "s3://pfavanguard-frontend/",
                "--delete"
            ],
            &[
                "aws",
                "cloudfront",
                "create-invalidation",
                "--distribution-id",
                "SET-cloudfront_distribution-IN-warroom.toml",
                "--paths",
                "/*"
            ],
        ])[..]
    );
    assert_eq!(
        pfa.cwds()[4..12],
        [
            "npx REPO/backend",
            "npx REPO/backend",
            "git REPO",
            "git REPO",
            "npm REPO/backend",
            "npm REPO",
            "npm REPO/backend",
            "npm REPO",
        ]
    );
    assert_eq!(pfa.pack.web.paths(), ["GET /health", "GET /"]);

    let steps = app.store.steps(1).await.unwrap();
    assert!(
        steps.iter().all(|s| s.state == StepState::Succeeded),
        "{steps:?}"
    );
    assert_eq!(steps[5].output.as_deref(), Some("confirmed by U_DBA"));
    assert_eq!(
        steps[7].output.as_deref(),
        Some("3 statements (0, 0, 0 rows affected); validated modification_kept = true, sync_conflict_dropped = true, write_queue_dropped = true, sync_columns_left = 0; committed")
    );
    let text = chat.transcript();
    assert!(
        text.contains("🟠 FULL ROLLBACK COMPLETE: ADR-008 deployment rolled back to v3.0.0 (code and database) due to sync corrupting PEMS writes."),
        "{text}"
    );
    assert!(text.contains("**Next:** the 10-point Post-Rollback Verification: `/verify-rollback`"));
}

#[tokio::test]
async fn full_rollback_without_todays_backup_stops_before_touching_the_database() {
    let pfa = start(&pm2_list("stopped", "stopped")).await;
    pfa.standin("aws", "", 1);
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_LEAD",
        "/rollback full reason=\"sync corrupting PEMS writes\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::StepFailed
    );

    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        steps[4].name,
        "Check today's backup is in the backup bucket"
    );
    assert_eq!(steps[4].state, StepState::Failed);
    assert!(steps[5..].iter().all(|s| s.state == StepState::Skipped));
    assert!(pfa.table_exists("pfa_write_queue").await);
    assert_eq!(pfa.sync_columns().await, 4);
    assert!(pfa.pack.standins.calls_of("npx").is_empty());
    assert!(pfa.pack.standins.calls_of("git").is_empty());
    assert!(chat.transcript().contains("RUNBOOK FAILED: /rollback full"));
}

#[tokio::test]
async fn migration_down_needs_the_lead_and_a_dba_and_drops_the_sync_schema_in_one_transaction() {
    let pfa = start("").await;
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/rollback migration-down").await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting,
        "the lead alone is not enough for data corruption"
    );
    assert!(pfa.table_exists("pfa_write_queue").await);
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert!(!pfa.table_exists("pfa_write_queue").await);
    assert!(!pfa.table_exists("pfa_sync_conflict").await);
    assert_eq!(pfa.sync_columns().await, 0);
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM pfa_modification").await,
        30
    );
    assert_eq!(pfa.scalar("SELECT COUNT(*) FROM pfa_records").await, 120);
    assert!(pfa.calls().is_empty(), "SQL only");
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].state, StepState::Succeeded);
    assert!(steps[0].output.as_deref().unwrap().ends_with("committed"));
    assert!(chat.transcript().contains("👍 approved by U_DBA"));
}

#[tokio::test]
async fn migration_down_rolls_back_when_validation_still_finds_a_sync_table() {
    let pfa = start("").await;
    // A leftover copy of the queue in a schema on the search path: after the DROP,
    // `pfa_write_queue` still resolves, so validation must refuse to commit.
    let pool = pfa.pack.pg().await;
    sqlx::raw_sql(
        "CREATE SCHEMA sync; CREATE TABLE sync.pfa_write_queue (id INTEGER);\
         DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, sync', current_database()); END $$;",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_LEAD",
        "/rollback migration-down reason=\"bad sync rows\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::StepFailed
    );

    assert!(
        pfa.table_exists("public.pfa_write_queue").await
            && pfa.table_exists("public.pfa_sync_conflict").await,
        "the drops were rolled back"
    );
    assert_eq!(pfa.sync_columns().await, 4, "the columns are back too");
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM public.pfa_write_queue")
            .await,
        20
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[0].state, StepState::Failed);
    assert!(chat.transcript().contains(
        "validation failed before COMMIT, rolled back: `write_queue_dropped`: expected true, got false"
    ), "{}", chat.transcript());
}

#[tokio::test]
async fn partial_rollback_a_stops_only_the_sync_worker_and_switches_the_sync_flag_off() {
    // pm2 colours the status column.
    let pfa = start(&pm2_list(
        "\u{1b}[31mstopped\u{1b}[39m",
        "\u{1b}[32monline\u{1b}[39m",
    ))
    .await;
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_ONCALL",
        "/rollback partial A reason=\"PEMS sync failing\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pfa.calls(),
        calls(&[&["pm2", "stop", "pems-write-sync-worker"], &["pm2", "list"]])
    );
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM feature_flags WHERE NOT enabled")
            .await,
        1
    );
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM feature_flags WHERE flag_name = 'bi_directional_sync' AND NOT enabled")
            .await,
        1
    );
    assert!(pfa.pack.web.requests().is_empty());
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[2].output.as_deref(), Some("1 row affected"));
    let skipped: Vec<_> = steps
        .iter()
        .filter(|s| s.state == StepState::Skipped)
        .collect();
    assert_eq!(skipped.len(), 14, "every B and C step");
    assert!(skipped
        .iter()
        .all(|s| s.name.starts_with("B:") || s.name.starts_with("C:")));
    assert_eq!(
        skipped[0].output.as_deref(),
        Some("not applicable: part is not B")
    );
    let notice = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template && p.post.channel == "C_STATUS")
        .expect("users are told");
    assert!(
        notice
            .text()
            .starts_with("⚠️ Sync temporarily disabled. Read-only mode."),
        "{}",
        notice.text()
    );
}

#[tokio::test]
async fn partial_rollback_a_fails_when_the_sync_flag_is_not_there_to_switch_off() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let pool = pfa.pack.pg().await;
    sqlx::query("DELETE FROM feature_flags WHERE flag_name = 'bi_directional_sync'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_ONCALL",
        "/rollback partial A reason=\"PEMS sync failing\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[2].state, StepState::Failed);
    assert_eq!(
        steps[2].output.as_deref(),
        Some("row count: expected = 1, got 0 (0 rows affected)")
    );
    assert!(!chat.transcript().contains("Read-only mode."));
}

#[tokio::test]
async fn partial_rollback_b_reverts_only_the_backend_and_checks_the_api() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    say(
        &app,
        "U_ONCALL",
        "/rollback partial B reason=\"API regressions\" version=v3.1.0 settle=10ms",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pfa.calls(),
        calls(&[
            &["pm2", "stop", "pfa-vanguard-backend"],
            &["git", "checkout", "v3.1.0", "--", "backend/"],
            &["npm", "ci"],
            &["npm", "run", "build"],
            &[
                "pm2",
                "start",
                "ecosystem.config.js",
                "--only",
                "pfa-vanguard-backend",
                "--env",
                "production"
            ],
        ])
    );
    assert_eq!(
        pfa.cwds()[1..],
        [
            "git REPO",
            "npm REPO/backend",
            "npm REPO/backend",
            "pm2 REPO"
        ]
    );
    let requests = pfa.pack.web.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/pfa-data");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer test-token")
    );
    assert_eq!(
        pfa.scalar("SELECT COUNT(*) FROM feature_flags WHERE enabled")
            .await,
        3,
        "the sync flag is left alone"
    );
}

#[tokio::test]
async fn partial_rollback_c_reverts_only_the_frontend_and_redeploys_it() {
    let pfa = start(&pm2_list("online", "online")).await;
    let (app, chat) = pfa.pack.app().await;

    say(&app, "U_ONCALL", "/rollback partial C reason=\"UI broken\"").await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pfa.calls(),
        calls(&[
            &[
                "git",
                "checkout",
                "v3.0.0",
                "--",
                "src/",
                "components/",
                "index.tsx"
            ],
            &["npm", "ci"],
            &["npm", "run", "build"],
            &[
                "aws",
                "s3",
                "sync",
                "dist/",
                "s3://pfavanguard-frontend/",
                "--delete"
            ],
            &[
                "aws",
                "cloudfront",
                "create-invalidation",
                "--distribution-id",
                "SET-cloudfront_distribution-IN-warroom.toml",
                "--paths",
                "/*"
            ],
        ]),
        "no pm2: the backend stays on v4.0.0"
    );
    assert_eq!(
        pfa.cwds()[..4],
        ["git REPO", "npm REPO", "npm REPO", "aws REPO"]
    );
    assert_eq!(pfa.pack.web.paths(), ["GET /", "GET /health"]);
}

#[tokio::test]
async fn partial_rollback_refuses_a_part_that_is_not_a_b_or_c() {
    let pfa = start("").await;
    let (app, _chat) = pfa.pack.app().await;
    for line in [
        "/rollback partial D reason=\"whatever\"",
        "/rollback partial \"A; rm -rf /\" reason=\"whatever\"",
        "/rollback partial reason=\"no part\"",
    ] {
        assert_eq!(
            say(&app, "U_ONCALL", line).await,
            Outcome::Invalid,
            "{line}"
        );
    }
    assert!(app.store.run(1).await.unwrap().is_none());
}

#[tokio::test]
async fn a_second_rollback_cannot_start_while_the_first_is_live() {
    let pfa = start(&pm2_list("stopped", "stopped")).await;
    let (app, _chat) = pfa.pack.app().await;

    say(
        &app,
        "U_LEAD",
        "/rollback full reason=\"sync corrupting PEMS writes\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Waiting,
        "parked at the backup checkpoint"
    );
    let before = pfa.calls().len();
    let out = say(
        &app,
        "U_ONCALL",
        "/rollback partial A reason=\"sync failing\"",
    )
    .await;
    assert!(
        matches!(out, Outcome::Invalid | Outcome::Denied),
        "refused while RUN-1 is live: {out:?}"
    );
    assert!(app.store.run(2).await.unwrap().is_none());
    assert_eq!(pfa.calls().len(), before);
}

#[tokio::test]
async fn verify_rollback_checks_every_point_then_waits_for_people_before_resolving() {
    let pfa = start(&pm2_list("stopped", "online")).await;
    pfa.pack.web.set(
        "POST",
        "/api/auth/login",
        200,
        json!({"token": "eyJhbGciOi.jwt"}),
    );
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/verify-rollback baseline=120").await,
        Outcome::Waiting,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pfa.pack.web.paths(),
        [
            "GET /health",
            "GET /health/db",
            "POST /api/auth/login",
            "GET /api/pfa-data?organizationId=org-rio",
            "POST /api/pfa-data",
            "GET /",
            "GET /metrics",
        ]
    );
    let requests = pfa.pack.web.requests();
    let body = |i: usize| serde_json::from_str::<serde_json::Value>(&requests[i].body).unwrap();
    assert_eq!(
        body(2),
        json!({"username": "test-user", "password": "test-pass"})
    );
    assert_eq!(
        body(4),
        json!({"organizationId": "org-rio", "pfaId": "TEST-001", "category": "Equipment"})
    );
    assert_eq!(
        requests[3].authorization.as_deref(),
        Some("Bearer test-token")
    );
    assert_eq!(
        requests[4].authorization.as_deref(),
        Some("Bearer test-token")
    );
    assert_eq!(
        pfa.calls(),
        calls(&[&[
            "pm2",
            "logs",
            "pfa-vanguard-backend",
            "--err",
            "--lines",
            "100",
            "--nostream"
        ]])
    );
    let text = chat.transcript();
    assert!(
        text.contains(
            "pfa_records | matches_baseline\n------------+-----------------\n120         | true"
        ),
        "{text}"
    );
    assert!(
        text.contains("checkpoint 10: Log in as the test user"),
        "{text}"
    );

    assert_eq!(
        say(&app, "U_ONCALL", "/confirm RUN-1").await,
        Outcome::Waiting
    );
    assert!(chat
        .transcript()
        .contains("checkpoint 11: Monitor for 30 minutes"));
    assert_eq!(say(&app, "U_ONCALL", "/confirm RUN-1").await, Outcome::Done);

    let run = app.store.run(1).await.unwrap().unwrap();
    let incident = app.store.incident(&run.incident_id).await.unwrap().unwrap();
    assert_eq!(incident.status, "resolved");
    let report = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template)
        .expect("verification report");
    let report = report.text();
    assert!(
        report.starts_with("✅ **POST-ROLLBACK VERIFICATION PASSED**"),
        "{report}"
    );
    assert!(
        report.contains("- [x] 8. Metrics back to normal (error rate under 0.1%, p95 under 500 ms) — HTTP 200, /errorRate = 0.05, /p95 = 180"),
        "{report}"
    );
    assert!(report.contains("- [x] 10. Monitor for 30 minutes — confirmed by U_ONCALL"));
}

#[tokio::test]
async fn verify_rollback_fails_when_the_record_count_differs_from_the_baseline() {
    let pfa = start("").await;
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/verify-rollback baseline=121").await,
        Outcome::StepFailed
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[6].state, StepState::Failed);
    assert_eq!(
        steps[6].output.as_deref(),
        Some("`matches_baseline`: expected true, got false (pfa_records = 120, matches_baseline = false)")
    );
    assert!(steps[7..].iter().all(|s| s.state == StepState::Skipped));
    assert!(chat
        .transcript()
        .contains("RUNBOOK FAILED: /verify-rollback"));
}

#[tokio::test]
async fn verify_rollback_fails_on_an_unhealthy_database_and_runs_nothing_after() {
    let pfa = start("").await;
    pfa.pack
        .web
        .set("GET", "/health/db", 503, json!({"status": "unhealthy"}));
    let (app, _chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/verify-rollback").await,
        Outcome::StepFailed
    );
    assert_eq!(pfa.pack.web.paths(), ["GET /health", "GET /health/db"]);
    assert!(pfa.calls().is_empty());
    let steps = app.store.steps(1).await.unwrap();
    assert!(steps[1]
        .output
        .as_deref()
        .unwrap()
        .starts_with("HTTP 503, expected 200"));
}

#[tokio::test]
async fn verify_rollback_keeps_watching_the_metrics_until_the_error_rate_is_normal() {
    let pfa = start("").await;
    pfa.pack.web.sequence(
        "GET",
        "/metrics",
        vec![
            (200, json!({"errorRate": 2.5, "p95": 900})),
            (200, json!({"errorRate": 0.04, "p95": 210})),
        ],
    );
    let (app, chat) = pfa.pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/verify-rollback").await,
        Outcome::Waiting,
        "{}",
        chat.transcript()
    );
    let metrics = pfa
        .pack
        .web
        .paths()
        .into_iter()
        .filter(|p| p == "GET /metrics")
        .count();
    assert_eq!(metrics, 2);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        steps[8].output.as_deref(),
        Some("HTTP 200, /errorRate = 0.04, /p95 = 210 (after 2 attempts)")
    );
    assert_eq!(
        steps[6].output.as_deref(),
        Some("pfa_records = 120, matches_baseline = true"),
        "without a baseline the count is only shown"
    );
}
