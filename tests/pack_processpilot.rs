//! Seed 004 (ProcessPilot DR runbook) end to end: `/dr database-failure |
//! app-server-failure | data-corruption | security-breach | drill` against a real
//! PostgreSQL database (restored for real by a test `restore.sh` that runs `psql`), a
//! local HTTP app, real `cp`, and stand-in `npm`, `systemctl`, `journalctl` and
//! `iptables` that record their exact argv.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{say, Pack};
use serde_json::json;
use warroom::app::Outcome;
use warroom::chat::recording::RecordingChat;
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

const FIXTURE: &str = "commands/processpilot/fixture.sql";
const TARGETS: &[(&str, &str)] = &[("processpilot_db", "db"), ("processpilot_api", "web")];

/// The test's `restore.sh`: lists, restores a plain SQL dump with `psql` into the
/// database its PG* variables name, or (with --target=staging) only says what it got.
const RESTORE_SH: &str = r#"[ "$1" = postgresql ] || { echo "unknown provider $1"; exit 2; }
if [ "$2" = --list ]; then echo "daily/good.dump"; exit 0; fi
if [ "$3" = --target=staging ]; then echo "restored $2 to staging (PGDATABASE=${PGDATABASE:-unset})"; exit 0; fi
psql -v ON_ERROR_STOP=1 -q -f "$2" >/dev/null 2>&1 || { echo "psql failed"; exit 1; }
echo "restored $2 into $PGDATABASE""#;

/// A ProcessPilot install in a temp dir: `backend/scripts/{backup,restore}.sh`, logs,
/// and an evidence dir.
struct Site {
    root: tempfile::TempDir,
}

impl Site {
    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }
    fn good_backup(&self) -> String {
        self.path("backups/good.dump").display().to_string()
    }
    /// Writes the good backup: a plain `pg_dump --clean` of the fixture database.
    fn dump(&self, pack: &Pack) {
        let out = std::process::Command::new("pg_dump")
            .args(["--clean", "--if-exists", "--no-owner", "-f"])
            .arg(self.good_backup())
            .args(["-d", &pack.db_url])
            .output()
            .expect("pg_dump runs");
        assert!(out.status.success(), "{out:?}");
    }
}

async fn pack() -> (Pack, Site) {
    let mut pack = Pack::start(FIXTURE, TARGETS).await;
    // No component may start with a dot (the backup pattern), so no `.tmpXXXX` here.
    let root = tempfile::Builder::new().prefix("pp").tempdir().unwrap();
    for d in ["backend/scripts", "backups", "logs", "evidence"] {
        std::fs::create_dir_all(root.path().join(d)).unwrap();
    }
    let site = Site { root };
    pack.var("processpilot_dir", &site.root.path().display().to_string());
    pack.var("evidence_dir", &site.path("evidence").display().to_string());
    pack.var(
        "processpilot_logs",
        &site.path("logs").display().to_string(),
    );
    pack.standins.script_at(
        &site.path("backend/scripts/backup.sh"),
        "echo 'postgresql/daily/good.dump (2.1 MB)'",
    );
    pack.standins
        .script_at(&site.path("backend/scripts/restore.sh"), RESTORE_SH);
    pack.standins
        .add("npm", "> done", 0)
        .add("systemctl", "", 0)
        .add("journalctl", "-- No entries --", 0)
        .add("iptables", "", 0);
    (pack, site)
}

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `npm run X` calls, as the script names.
fn npm_scripts(pack: &Pack) -> Vec<String> {
    pack.standins
        .calls_of("npm")
        .into_iter()
        .map(|c| c[1..].join(" "))
        .collect()
}

async fn step_count(pack: &Pack) -> Option<i64> {
    let pool = pack.pg().await;
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM process_steps")
        .fetch_one(&pool)
        .await
        .ok();
    pool.close().await;
    n
}

async fn exec(pack: &Pack, sql: &str) {
    let pool = pack.pg().await;
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

fn posts_of(chat: &RecordingChat, kind: PostKind) -> Vec<warroom::chat::recording::Recorded> {
    chat.posts()
        .into_iter()
        .filter(|p| p.post.kind == kind)
        .collect()
}

// --- Scenario 1: complete database failure ---------------------------------------

#[tokio::test]
async fn database_failure_restores_the_chosen_backup_after_approval_and_confirmation_then_migrates_restarts_and_verifies(
) {
    let (pack, site) = pack().await;
    site.dump(&pack);
    exec(&pack, "DROP TABLE process_steps").await;
    assert_eq!(step_count(&pack).await, None, "the database is broken");
    let (app, chat) = pack.app().await;
    let line = format!(
        "/dr database-failure {} impact=\"all users\"",
        site.good_backup()
    );

    assert_eq!(say(&app, "U_ONCALL", &line).await, Outcome::Waiting);
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Waiting,
        "parked at the restore checkpoint: {}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls(),
        [argv(&["backup.sh", "--list", "postgresql"])],
        "only the backups are listed before the confirmation"
    );
    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(step_count(&pack).await, Some(6), "really restored");
    let programs: Vec<String> = pack
        .standins
        .calls()
        .into_iter()
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(
        programs,
        [
            "backup.sh --list postgresql".to_string(),
            format!("restore.sh postgresql {}", site.good_backup()),
            "npm run db:verify-integrity".into(),
            "npm run db:migrate".into(),
            "npm run db:health-check".into(),
            "npm run restart-production".into(),
            "npm run test:smoke".into(),
            "npm run test:integration:critical".into(),
        ]
    );
    assert_eq!(
        pack.web.paths(),
        [
            "GET /api/health",
            "GET /api/auth/status",
            "GET /health/detailed"
        ]
    );
    let steps = app.store.steps(1).await.unwrap();
    assert!(
        steps.iter().all(|s| s.state == StepState::Succeeded),
        "{steps:?}"
    );
    let db_name = pack.db_url.rsplit('/').next().unwrap();
    assert!(
        steps[2]
            .output
            .as_deref()
            .unwrap()
            .ends_with(&format!("restored {} into {db_name}", site.good_backup())),
        "restore.sh got the target's PG variables: {:?}",
        steps[2].output
    );
    assert_eq!(
        steps[5].output.as_deref(),
        Some("tables = 3"),
        "{:?}",
        steps[5]
    );
    let alert = posts_of(&chat, PostKind::Template)
        .into_iter()
        .find(|p| p.post.channel == "C_STATUS")
        .expect("stakeholder alert");
    assert!(
        alert
            .text()
            .starts_with("INCIDENT ALERT: P0 - ProcessPilot complete database failure")
            && alert.text().contains("- Impact: all users"),
        "{}",
        alert.text()
    );
}

#[tokio::test]
async fn the_database_is_not_restored_until_a_person_confirms() {
    let (pack, site) = pack().await;
    exec(&pack, "DELETE FROM process_steps WHERE id > 2").await;
    let (app, _chat) = pack.app().await;
    say(
        &app,
        "U_DBA",
        &format!("/dr database-failure {}", site.good_backup()),
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_COMMS", "/confirm RUN-1").await,
        Outcome::Denied,
        "the Communications Lead cannot tick a restore checkpoint"
    );
    assert_eq!(say(&app, "U_DBA", "/cancel RUN-1").await, Outcome::Done);
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Cancelled
    );
    assert_eq!(say(&app, "U_DBA", "/confirm RUN-1").await, Outcome::Invalid);
    assert!(pack.standins.calls_of("restore.sh").is_empty());
    assert!(pack.standins.calls_of("npm").is_empty());
    assert_eq!(step_count(&pack).await, Some(2), "the data is untouched");
}

#[tokio::test]
async fn a_backup_path_that_could_escape_or_inject_is_refused_as_invalid_input() {
    let (pack, _site) = pack().await;
    let (app, chat) = pack.app().await;
    for bad in [
        "/var/backups/../../etc/shadow.dump",
        "\"/var/backups/x.dump; rm -rf /\"",
        "\"/var/backups/$(id).dump\"",
        "\"'/var/backups/x.dump'\"",
        "backups/x.dump",
        "/var/backups/x.dump --target=production",
        "/var/backups/.hidden.dump",
        "/etc/passwd",
    ] {
        assert_eq!(
            say(&app, "U_DBA", &format!("/dr database-failure {bad}")).await,
            Outcome::Invalid,
            "{bad}"
        );
    }
    assert!(app.store.run(1).await.unwrap().is_none());
    assert!(pack.standins.calls().is_empty());
    assert!(chat.transcript().contains("`backup`"));
}

#[tokio::test]
async fn a_failing_restore_stops_recovery_before_migrations_and_restart() {
    let (pack, site) = pack().await;
    let (app, chat) = pack.app().await;
    let missing = site.path("backups/missing.dump").display().to_string();
    say(&app, "U_DBA", &format!("/dr database-failure {missing}")).await;
    say(&app, "U_LEAD", "/approve RUN-1").await;
    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::StepFailed
    );
    assert!(
        pack.standins.calls_of("npm").is_empty(),
        "nothing after the restore"
    );
    assert!(pack.web.requests().is_empty());
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[2].state, StepState::Failed);
    assert!(steps[3..]
        .iter()
        .all(|s| s.state == StepState::Skipped && s.output.as_deref() == Some("not run")));
    let text = chat.transcript();
    assert!(
        text.contains("RUNBOOK FAILED: /dr database-failure")
            && text.contains("`./restore.sh` exited 1, expected 0: psql failed"),
        "{text}"
    );
}

// --- Scenario 2: application server failure --------------------------------------

#[tokio::test]
async fn app_server_failure_restarts_the_backend_and_nginx_then_polls_health_until_it_recovers() {
    let (pack, _site) = pack().await;
    pack.web.sequence(
        "GET",
        "/api/health",
        vec![
            (502, json!({"error": "bad gateway"})),
            (503, json!({"status": "starting"})),
            (200, json!({"status": "healthy"})),
        ],
    );
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/dr app-server-failure impact=\"502 for everyone\""
        )
        .await,
        Outcome::Done,
        "the on-call engineer acts alone: {}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls(),
        [
            argv(&[
                "systemctl",
                "show",
                "processpilot-backend",
                "nginx",
                "--property=Id,ActiveState,SubState,Result,NRestarts"
            ]),
            argv(&[
                "journalctl",
                "-u",
                "processpilot-backend",
                "--since",
                "10 minutes ago",
                "--no-pager",
                "-n",
                "100"
            ]),
            argv(&["systemctl", "restart", "processpilot-backend"]),
            argv(&["systemctl", "restart", "nginx"]),
        ]
    );
    assert_eq!(pack.web.paths(), ["GET /api/health"; 3]);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        steps[4].output.as_deref(),
        Some("HTTP 200 (after 3 attempts)")
    );
    let page = posts_of(&chat, PostKind::Template);
    assert!(page[0]
        .text()
        .starts_with("INCIDENT ALERT: P1 - ProcessPilot application server failure"));
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap();
    assert_eq!(incident.status, "monitoring");
}

#[tokio::test]
async fn a_hanging_systemctl_is_killed_at_the_step_timeout_and_nothing_is_restarted() {
    let (mut pack, _site) = pack().await;
    pack.standins.add_sleeper("systemctl", 3);
    let _commands = pack.patch_commands(
        "processpilot/app-server-failure.toml",
        "timeout = \"30s\"",
        "timeout = \"1s\"",
    );
    let (app, chat) = pack.app().await;
    let started = Instant::now();
    assert_eq!(
        say(&app, "U_ONCALL", "/dr app-server-failure").await,
        Outcome::StepFailed
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[0].state, StepState::Failed);
    assert!(steps[0].output.as_deref().unwrap().contains("timed out"));
    // Past the sleeper's wake-up: a killed process never records its second line.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let calls = pack.standins.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0][..2], ["systemctl", "show"]);
    assert!(pack.web.requests().is_empty());
    assert!(chat
        .transcript()
        .contains("RUNBOOK FAILED: /dr app-server-failure"));
}

// --- Scenario 3: data corruption --------------------------------------------------

#[tokio::test]
async fn data_corruption_assesses_then_restores_the_clean_backup_and_verifies_integrity() {
    let (pack, site) = pack().await;
    site.dump(&pack);
    exec(
        &pack,
        "INSERT INTO process_steps (process_id, position, title) VALUES (999, 1, 'ghost');
         UPDATE processes SET status = 'garbled';",
    )
    .await;
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        &format!("/dr data-corruption {}", site.good_backup()),
    )
    .await;
    assert_eq!(say(&app, "U_DBA", "/approve RUN-1").await, Outcome::Waiting);
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting,
        "assessed, then parked before the restore: {}",
        chat.transcript()
    );
    assert_eq!(
        npm_scripts(&pack),
        [
            "db:integrity-check",
            "db:analyze-corruption",
            "db:check-recent-changes"
        ]
    );
    assert_eq!(
        pack.standins.calls_of("restore.sh"),
        [argv(&["postgresql", "--list"])]
    );
    assert_eq!(step_count(&pack).await, Some(7), "not restored yet");

    assert_eq!(say(&app, "U_LEAD", "/confirm RUN-1").await, Outcome::Done);
    assert_eq!(step_count(&pack).await, Some(6));
    let pool = pack.pg().await;
    let garbled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM processes WHERE status = 'garbled'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(garbled, 0, "the clean data is back");
    assert_eq!(
        pack.standins.calls_of("restore.sh")[1],
        argv(&["postgresql", &site.good_backup()])
    );
    assert_eq!(npm_scripts(&pack).last().unwrap(), "db:verify-integrity");
    let text = chat.transcript();
    assert!(
        text.contains("INCIDENT ALERT: P0 - ProcessPilot data corruption"),
        "{text}"
    );
}

#[tokio::test]
async fn integrity_failing_after_the_restore_fails_the_run_and_says_why() {
    let (pack, site) = pack().await;
    site.dump(&pack);
    pack.standins.script_at(&pack.standins.dir.path().join("npm"),
        "if [ \"$2\" = db:verify-integrity ]; then echo '2 orphaned process steps'; exit 1; fi\necho ok",
    );
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_DBA",
        &format!("/dr data-corruption {}", site.good_backup()),
    )
    .await;
    say(&app, "U_LEAD", "/approve RUN-1").await;
    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::StepFailed
    );
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Failed
    );
    let text = chat.transcript();
    assert!(
        text.contains("**Failed step:** Verify data integrity — \\`npm\\` exited 1, expected 0: 2 orphaned process steps"),
        "{text}"
    );
}

// --- Scenario 4: security breach --------------------------------------------------

#[tokio::test]
async fn security_breach_needs_security_and_lead_then_blocks_the_ip_revokes_tokens_and_preserves_evidence(
) {
    let (pack, site) = pack().await;
    let log = site.path("logs/error.log");
    std::fs::write(&log, "03:00 login from 203.0.113.7 as admin\n").unwrap();
    let touched = std::process::Command::new("touch")
        .args(["-d", "2020-01-02 03:04:05"])
        .arg(&log)
        .status()
        .unwrap();
    assert!(touched.success());
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(&app, "U_ONCALL", "/dr security-breach ip=203.0.113.7").await,
        Outcome::Waiting
    );
    assert_eq!(
        say(&app, "U_SEC", "/approve RUN-1").await,
        Outcome::Waiting,
        "the DevSecOps Lead must approve too"
    );
    assert!(pack.standins.calls().is_empty());
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    let programs: Vec<String> = pack
        .standins
        .calls()
        .into_iter()
        .map(|c| c.join(" "))
        .collect();
    assert_eq!(
        programs,
        [
            "iptables -A INPUT -s 203.0.113.7 -j DROP",
            "npm run security:revoke-all-tokens",
            "npm run security:export-events",
        ]
    );
    let evidence = site.path(&format!(
        "evidence/incident-{}",
        chrono::Utc::now().format("%Y%m%d")
    ));
    let copied = evidence.join("error.log");
    assert_eq!(
        std::fs::read_to_string(&copied).unwrap(),
        "03:00 login from 203.0.113.7 as admin\n"
    );
    assert_eq!(
        std::fs::metadata(&copied).unwrap().modified().unwrap(),
        std::fs::metadata(&log).unwrap().modified().unwrap(),
        "evidence keeps its timestamps"
    );
    let page = posts_of(&chat, PostKind::Page).pop().expect("page");
    assert_eq!(page.post.mentions, ["U_SEC", "U_LEAD", "U_IC"]);
    assert!(page.text().contains("Security Team, DevSecOps Lead"));
    let steps = app.store.steps(1).await.unwrap();
    assert!(steps.iter().all(|s| s.state == StepState::Succeeded));
    assert!(chat
        .transcript()
        .contains("INCIDENT ALERT: P0 - ProcessPilot security breach"));
}

#[tokio::test]
async fn an_ip_that_is_not_a_plain_ipv4_address_is_refused_as_invalid_input() {
    let (pack, _site) = pack().await;
    let (app, _chat) = pack.app().await;
    for bad in [
        "\"1.2.3.4; rm -rf /\"",
        "\"$(id)\"",
        "\"'1.2.3.4'\"",
        "\"1.2.3.4 -j ACCEPT\"",
        "1.2.3.4/0",
        "0.0.0.0/0",
        "256.1.1.1",
        "1.2.3",
        "01.2.3.4x",
        "\"1.2.3.4\n-F\"",
        "evil.example.com",
    ] {
        assert_eq!(
            say(&app, "U_SEC", &format!("/dr security-breach ip={bad}")).await,
            Outcome::Invalid,
            "{bad}"
        );
    }
    assert!(app.store.run(1).await.unwrap().is_none());
    assert!(pack.standins.calls().is_empty());
}

#[tokio::test]
async fn people_outside_the_security_incident_row_can_neither_start_nor_approve_a_breach_response()
{
    let (pack, _site) = pack().await;
    let (app, _chat) = pack.app().await;
    for user in ["U_RANDOM", "U_COMMS", "U_DBA", "U_IC"] {
        assert_eq!(
            say(&app, user, "/dr security-breach ip=203.0.113.7").await,
            Outcome::Denied,
            "{user}"
        );
    }
    say(&app, "U_SEC", "/dr security-breach ip=203.0.113.7").await;
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Denied,
        "a DBA is not a decider here"
    );
    assert_eq!(
        say(&app, "U_SEC", "/approve RUN-1").await,
        Outcome::Denied,
        "nobody approves their own request"
    );
    assert!(pack.standins.calls().is_empty());
}

#[tokio::test]
async fn a_failing_firewall_rule_stops_before_tokens_are_revoked_or_evidence_copied() {
    let (pack, site) = pack().await;
    std::fs::write(site.path("logs/error.log"), "x").unwrap();
    pack.standins.add(
        "iptables",
        "iptables v1.8.7: can't initialize iptables table `filter'",
        3,
    );
    let (app, chat) = pack.app().await;
    say(&app, "U_SEC", "/dr security-breach ip=203.0.113.7").await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    assert!(pack.standins.calls_of("npm").is_empty());
    assert_eq!(
        std::fs::read_dir(site.path("evidence")).unwrap().count(),
        0,
        "no evidence copy"
    );
    assert!(
        posts_of(&chat, PostKind::Page)
            .iter()
            .all(|p| p.post.mentions == ["U_ONCALL"]),
        "no runbook page; only the incident's level-1 escalation page"
    );
    assert!(chat
        .transcript()
        .contains("`iptables` exited 3, expected 0"));
}

// --- Monthly recovery drill 1 ------------------------------------------------------

#[tokio::test]
async fn drill_restores_to_staging_without_production_credentials_and_reports_the_timings() {
    let (pack, site) = pack().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            &format!("/dr drill {}", site.good_backup())
        )
        .await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls(),
        [
            argv(&[
                "restore.sh",
                "postgresql",
                &site.good_backup(),
                "--target=staging"
            ]),
            argv(&["npm", "run", "test:data-integrity", "--env=staging"]),
        ]
    );
    let steps = app.store.steps(1).await.unwrap();
    assert!(
        steps[0]
            .output
            .as_deref()
            .unwrap()
            .ends_with("to staging (PGDATABASE=unset)"),
        "production credentials never reach a staging restore: {:?}",
        steps[0].output
    );
    assert!(steps
        .iter()
        .all(|s| s.state == StepState::Succeeded && s.duration_ms().is_some()));
    let report = posts_of(&chat, PostKind::Template)
        .pop()
        .expect("drill report");
    let text = report.text();
    assert!(
        text.starts_with("🧪 **RECOVERY DRILL COMPLETE: Database Backup Restoration**")
            && text.contains("(database RTO: 4 hours)")
            && text.contains("- ✅ Restore the backup to staging: ")
            && text.contains("- ✅ Verify data integrity on staging: ")
            && !text.contains("not run"),
        "{text}"
    );
    assert_eq!(report.post.channel, "C_INC");
    assert!(
        app.store.open_incident("C_INC").await.unwrap().is_none(),
        "a successful drill resolves its incident"
    );
}

#[tokio::test]
async fn a_failed_drill_restore_skips_the_integrity_test_and_only_on_call_may_drill() {
    let (pack, site) = pack().await;
    pack.standins.script_at(
        &site.path("backend/scripts/restore.sh"),
        "echo 'staging unreachable'; exit 1",
    );
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_SEC", &format!("/dr drill {}", site.good_backup())).await,
        Outcome::Denied
    );
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            &format!("/dr drill {}", site.good_backup())
        )
        .await,
        Outcome::StepFailed
    );
    assert!(pack.standins.calls_of("npm").is_empty());
    assert!(chat
        .transcript()
        .contains("`./restore.sh` exited 1, expected 0: staging unreachable"));
}
