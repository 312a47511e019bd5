//! Seed 003 (Vercel / Railway / Supabase app) end to end: `/app-rollback frontend |
//! backend | database | full` against stand-in `vercel`, `railway` and `node` CLIs
//! that record their exact argv, and a local HTTP app playing the site and the API.

mod common;

use common::{say, Pack};
use warroom::app::Outcome;
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

const FIXTURE: &str = "commands/webapp/fixture.sql";
const TARGETS: &[(&str, &str)] = &[("webapp_api", "web"), ("webapp_web", "web")];

/// A pack with the repo var pointing at a real directory (steps run in it).
async fn pack() -> (Pack, tempfile::TempDir) {
    let mut pack = Pack::start(FIXTURE, TARGETS).await;
    let repo = tempfile::tempdir().unwrap();
    pack.var("webapp_repo", &repo.path().display().to_string());
    pack.standins
        .add("vercel", "Success! Rolled back", 0)
        .add("railway", "Rollback triggered", 0);
    // `node` prints where it runs, so the step output shows the cwd.
    pack.standins
        .script_at(&pack.standins.dir.path().join("node"), "pwd");
    (pack, repo)
}

fn stakeholder_posts(chat: &warroom::chat::recording::RecordingChat) -> Vec<String> {
    chat.posts()
        .into_iter()
        .filter(|p| p.post.kind == PostKind::Template && p.post.channel == "C_STATUS")
        .map(|p| p.text().to_string())
        .collect()
}

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn frontend_rollback_runs_vercel_rollback_previous_after_the_lead_approves_and_checks_the_site_loads(
) {
    let (pack, repo) = pack().await;
    let (app, chat) = pack.app().await;

    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/app-rollback frontend reason=\"UI broken after deploy\""
        )
        .await,
        Outcome::Waiting,
        "a production rollback needs the DevSecOps Lead too"
    );
    assert!(
        pack.standins.calls().is_empty(),
        "nothing runs before approval"
    );
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );

    assert_eq!(
        pack.standins.calls_of("vercel"),
        [argv(&["rollback", "--previous"])]
    );
    assert_eq!(pack.web.paths(), ["GET /"]);
    let steps = app.store.steps(1).await.unwrap();
    assert!(
        steps.iter().all(|s| s.state == StepState::Succeeded),
        "{steps:?}"
    );
    assert_eq!(
        steps[0].output.as_deref(),
        Some("`vercel` exited 0: Success! Rolled back")
    );
    let posts = stakeholder_posts(&chat);
    assert_eq!(posts.len(), 2, "posted at start and on success: {posts:?}");
    assert!(
        posts[0].starts_with("🚨 **EMERGENCY ROLLBACK IN PROGRESS**")
            && posts[0].contains("**Issue**: UI broken after deploy")
            && posts[0].contains("**Affected Systems**: Frontend (Vercel)")
            && posts[0].contains("**Status**: In Progress")
            && posts[0].contains("- [ ] Roll the frontend back (vercel rollback)"),
        "{}",
        posts[0]
    );
    assert!(
        posts[1].contains("**Status**: Completed")
            && posts[1].contains("- [x] Roll the frontend back (vercel rollback)")
            && posts[1].contains("- [x] Verify the frontend loads")
            && posts[1].contains("**ETA**: [to be filled: estimated completion time]"),
        "{}",
        posts[1]
    );
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap();
    assert_eq!(incident.status, "monitoring");
    drop(repo);
}

#[tokio::test]
async fn frontend_rollback_to_a_named_deployment_passes_exactly_that_deployment() {
    let (pack, _repo) = pack().await;
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        "/app-rollback frontend reason=\"bad build\" deployment=https://my-app-k3j2h1.vercel.app",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(
        pack.standins.calls_of("vercel"),
        [argv(&["rollback", "https://my-app-k3j2h1.vercel.app"])]
    );
}

#[tokio::test]
async fn a_deployment_that_is_not_a_vercel_url_or_id_is_refused_before_anything_runs() {
    let (pack, _repo) = pack().await;
    let (app, chat) = pack.app().await;
    for bad in [
        "\"dpl_abc123; rm -rf /\"",
        "\"$(id)\"",
        "--prod",
        "\"'dpl_abc123'\"",
        "\"--previous --prod\"",
        "https://evil.example.com",
        "\"my-app.vercel.app --token=x\"",
    ] {
        assert_eq!(
            say(
                &app,
                "U_ONCALL",
                &format!("/app-rollback frontend reason=\"bad build\" deployment={bad}")
            )
            .await,
            Outcome::Invalid,
            "{bad}"
        );
    }
    assert!(pack.standins.calls().is_empty());
    assert!(app.store.run(1).await.unwrap().is_none(), "no run created");
    assert!(
        chat.transcript().contains("`deployment` `"),
        "the reason is told"
    );
}

#[tokio::test]
async fn a_dry_run_shows_the_exact_argv_and_directory_and_changes_nothing() {
    let (pack, repo) = pack().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/app-rollback frontend reason=\"bad build\" deployment=dpl_Ab12Cd34 dry-run=true"
        )
        .await,
        Outcome::Done
    );
    let text = chat.transcript();
    assert!(
        text.contains(&format!(
            "Run `vercel rollback dpl_Ab12Cd34` in `{}`",
            repo.path().display()
        )),
        "{text}"
    );
    assert!(pack.standins.calls().is_empty() && pack.web.requests().is_empty());
}

#[tokio::test]
async fn a_hanging_vercel_is_killed_at_the_step_timeout_and_the_site_is_not_checked() {
    let (mut pack, _repo) = pack().await;
    pack.standins.add_sleeper("vercel", 3);
    let _commands = pack.patch_commands(
        "webapp/frontend.toml",
        "timeout = \"5m\"",
        "timeout = \"1s\"",
    );
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        "/app-rollback frontend reason=\"bad build\"",
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[0].state, StepState::Failed);
    assert!(
        steps[0].output.as_deref().unwrap().contains("timed out"),
        "{:?}",
        steps[0].output
    );
    assert_eq!(
        (steps[1].state, steps[1].output.as_deref()),
        (StepState::Skipped, Some("not run"))
    );
    // Past the sleeper's wake-up time: a killed process never writes its second line.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        pack.standins.calls(),
        [argv(&["vercel", "rollback", "--previous"])]
    );
    assert!(pack.web.requests().is_empty());
    assert!(chat
        .transcript()
        .contains("RUNBOOK FAILED: /app-rollback frontend"));
}

#[tokio::test]
async fn backend_rollback_runs_railway_rollback_then_checks_health_clients_and_auth_in_order() {
    let (pack, _repo) = pack().await;
    let (app, chat) = pack.app().await;
    say(&app, "U_LEAD", "/app-rollback backend reason=\"API 500s\"").await;
    assert_eq!(
        say(&app, "U_ONCALL", "/approve RUN-1").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    assert_eq!(pack.standins.calls(), [argv(&["railway", "rollback"])]);
    assert_eq!(
        pack.web.paths(),
        [
            "GET /api/health",
            "GET /api/crm/clients",
            "GET /api/auth/me"
        ]
    );
    assert!(pack
        .web
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer test-token")));
    let posts = stakeholder_posts(&chat);
    assert!(
        posts[1].contains("**Affected Systems**: Backend (Railway)")
            && posts[1].contains("- [x] Authentication is functional (/api/auth/me)"),
        "{}",
        posts[1]
    );
}

#[tokio::test]
async fn a_failing_railway_rollback_stops_the_run_posts_the_failure_and_checks_nothing() {
    let (pack, _repo) = pack().await;
    pack.standins
        .add("railway", "Error: no previous deployment found", 1);
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        "/app-rollback backend reason=\"API 500s\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    assert!(
        pack.web.requests().is_empty(),
        "no health check after a failure"
    );
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Failed
    );
    let steps = app.store.steps(1).await.unwrap();
    assert!(steps[1..]
        .iter()
        .all(|s| s.state == StepState::Skipped && s.output.as_deref() == Some("not run")));
    let failure = stakeholder_posts(&chat)
        .into_iter()
        .find(|t| t.contains("RUNBOOK FAILED"))
        .expect("the failure reaches stakeholders");
    assert!(
        failure.contains("\\`railway\\` exited 1, expected 0: Error: no previous deployment found"),
        "{failure}"
    );
}

#[tokio::test]
async fn database_rollback_needs_a_lead_and_a_dba_and_stops_at_both_checkpoints() {
    let (pack, repo) = pack().await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/app-rollback database reason=\"client records corrupted\""
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
        "parked at `stop all write operations`"
    );
    assert!(
        pack.standins.calls().is_empty(),
        "nothing before writes stop"
    );
    assert!(chat
        .transcript()
        .contains("checkpoint 1: Stop all write operations first"));

    assert_eq!(
        say(&app, "U_COMMS", "/confirm RUN-1").await,
        Outcome::Denied,
        "only the scenario's people tick its checkpoints"
    );
    assert_eq!(say(&app, "U_DBA", "/confirm RUN-1").await, Outcome::Waiting);
    assert_eq!(
        pack.standins.calls(),
        [argv(&["node", "scripts/backup-database.js"])],
        "backed up, not yet restored"
    );
    assert_eq!(say(&app, "U_LEAD", "/confirm RUN-1").await, Outcome::Done);

    assert_eq!(
        pack.standins.calls_of("node"),
        [
            argv(&["scripts/backup-database.js"]),
            argv(&["scripts/restore-database.js"]),
            argv(&["scripts/validate-data.js"]),
        ]
    );
    let steps = app.store.steps(1).await.unwrap();
    let repo_path = repo.path().canonicalize().unwrap().display().to_string();
    assert!(
        steps[3].output.as_deref().unwrap().ends_with(&repo_path),
        "node ran in the repo: {:?}",
        steps[3].output
    );
    assert_eq!(steps[0].output.as_deref(), Some("confirmed by U_DBA"));
    assert_eq!(pack.web.paths(), ["GET /api/health"]);
    let posts = stakeholder_posts(&chat);
    assert!(
        posts.last().unwrap().contains("**Status**: Completed")
            && posts
                .last()
                .unwrap()
                .contains("- [x] Restore from the known good backup"),
        "{posts:?}"
    );
}

#[tokio::test]
async fn a_cancelled_database_rollback_never_restores() {
    let (pack, _repo) = pack().await;
    let (app, _chat) = pack.app().await;
    say(&app, "U_DBA", "/app-rollback database reason=\"bad data\"").await;
    say(&app, "U_LEAD", "/approve RUN-1").await;
    assert_eq!(say(&app, "U_DBA", "/confirm RUN-1").await, Outcome::Waiting);
    say(&app, "U_DBA", "/cancel RUN-1").await;
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Cancelled
    );
    assert_eq!(
        say(&app, "U_DBA", "/confirm RUN-1").await,
        Outcome::Invalid,
        "a cancelled run has no checkpoint to confirm"
    );
    assert_eq!(
        pack.standins.calls_of("node"),
        [argv(&["scripts/backup-database.js"])]
    );
}

#[tokio::test]
async fn full_rollback_rolls_back_frontend_then_backend_and_waits_for_a_person_before_checking() {
    let (pack, _repo) = pack().await;
    let (app, chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        "/app-rollback full reason=\"security issue\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting
    );
    assert_eq!(
        pack.standins.calls(),
        [
            argv(&["vercel", "rollback", "--previous"]),
            argv(&["railway", "rollback"])
        ]
    );
    assert!(pack.web.requests().is_empty());
    assert!(chat
        .transcript()
        .contains("Database rollback requires manual confirmation"));
    assert_eq!(say(&app, "U_ONCALL", "/confirm RUN-1").await, Outcome::Done);
    assert_eq!(
        pack.web.paths(),
        [
            "GET /",
            "GET /api/health",
            "GET /api/crm/clients",
            "GET /api/auth/me"
        ]
    );
    assert!(
        pack.standins.calls_of("node").is_empty(),
        "the database is not restored"
    );
    assert!(stakeholder_posts(&chat)[1].contains(
        "**Affected Systems**: Frontend (Vercel), Backend (Railway); Database only on manual confirmation"
    ));
}

#[tokio::test]
async fn a_failing_frontend_rollback_stops_a_full_rollback_before_the_backend() {
    let (pack, _repo) = pack().await;
    pack.standins.add("vercel", "Error: not authorized", 1);
    let (app, _chat) = pack.app().await;
    say(
        &app,
        "U_ONCALL",
        "/app-rollback full reason=\"security issue\"",
    )
    .await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::StepFailed
    );
    assert_eq!(
        pack.standins.calls(),
        [argv(&["vercel", "rollback", "--previous"])]
    );
}

#[tokio::test]
async fn people_outside_the_matrix_cannot_roll_anything_back() {
    let (pack, _repo) = pack().await;
    let (app, _chat) = pack.app().await;
    for (user, sub) in [
        ("U_RANDOM", "frontend"),
        ("U_COMMS", "backend"),
        ("U_SEC", "database"),
        ("U_RANDOM", "full"),
    ] {
        assert_eq!(
            say(&app, user, &format!("/app-rollback {sub} reason=\"x y z\"")).await,
            Outcome::Denied,
            "{user} {sub}"
        );
    }
    say(&app, "U_ONCALL", "/app-rollback frontend reason=\"x y z\"").await;
    assert_eq!(
        say(&app, "U_ONCALL", "/approve RUN-1").await,
        Outcome::Denied,
        "the requester cannot approve their own rollback"
    );
    assert!(pack.standins.calls().is_empty());
}
