//! The whole pipeline through `App::handle`, as chat drives it, with a recording chat,
//! on an embedded SQLite state database and the self-seeding demo target.

mod common;

use common::{kanban_enabled, msg, say, Env, StateDb};
use warroom::app::Outcome;
use warroom::chat::PostKind;
use warroom::model::run::{RunState, StepState};

#[tokio::test]
async fn kanban_off_flips_the_flag_and_posts_the_filled_resolved_template() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    assert_eq!(
        kanban_enabled(&env).await,
        30,
        "the demo starts with 30 of 40 enabled"
    );

    let out = say(
        &app,
        "U_ONCALL",
        "/kanban-off reason=\"Socket.IO down\" impact=\"40 companies\"",
    )
    .await;

    assert_eq!(out, Outcome::Done);
    assert_eq!(kanban_enabled(&env).await, 0);
    let posts = chat.posts();
    let progress = posts
        .iter()
        .find(|p| p.post.kind == PostKind::Progress)
        .expect("a progress message");
    assert!(
        progress
            .text()
            .contains("✅ **RUN-1** /kanban-off — succeeded"),
        "{}",
        progress.text()
    );
    assert!(
        progress.text().contains("30 rows affected"),
        "{}",
        progress.text()
    );
    assert!(
        progress.edits.len() >= 4,
        "progress is edited in place as steps advance"
    );
    let resolved: Vec<_> = posts
        .iter()
        .filter(|p| p.post.kind == PostKind::Template)
        .collect();
    assert_eq!(
        resolved.len(),
        2,
        "to the incident channel and to stakeholders"
    );
    assert_eq!(resolved[0].post.channel, "C_INC");
    assert_eq!(resolved[1].post.channel, "C_STATUS");
    let text = resolved[0].text();
    assert!(text.starts_with("**INCIDENT RESOLVED**"), "{text}");
    assert!(
        text.contains("**Impact:** 40 companies for 0 minutes"),
        "{text}"
    );
    assert!(
        text.contains("**Affected Users:** [to be filled: estimated number]"),
        "{text}"
    );
    let timeline_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- ") && l.chars().nth(4) == Some(':'))
        .collect();
    assert_eq!(timeline_lines.len(), 4, "{text}");
    assert!(timeline_lines[0]
        .ends_with("Incident detected: Kanban V2 critical bug (P0), opened by /kanban-off"));
    assert!(timeline_lines[1].ends_with(" - Feature flag disabled"));
    assert!(timeline_lines[2].ends_with(" - System validated and operational"));

    let incident = app
        .store
        .open_incident("C_INC")
        .await
        .unwrap()
        .expect("incident opened implicitly");
    assert!(
        incident.id.starts_with("INC-") && incident.id.ends_with("-001"),
        "{}",
        incident.id
    );
    assert_eq!(incident.status, "monitoring");
    assert!(incident.mitigated_at.is_some());
    let kinds: Vec<String> = app
        .store
        .timeline(&incident.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "detected",
            "post", // stakeholder alert: the incident opened
            "command",
            "post", // stakeholder update: the run started
            "milestone",
            "milestone",
            "run",
            "status",
            "post" // the filled INCIDENT RESOLVED template
        ]
    );
}

#[tokio::test]
async fn a_user_without_a_role_is_denied_and_nothing_runs() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;

    let out = say(&app, "U_STRANGER", "/kanban-off reason=\"socket down\"").await;

    assert_eq!(out, Outcome::Denied);
    assert_eq!(kanban_enabled(&env).await, 30);
    let posts = chat.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].post.kind, PostKind::Denied);
    assert!(
        posts[0].post.ephemeral_to.is_some(),
        "refusals go to the user only"
    );
    assert!(
        posts[0].text().contains("On-Call Engineer"),
        "{}",
        posts[0].text()
    );
    let recorded = app.store.commands().await.unwrap();
    assert_eq!(
        recorded,
        vec![(
            "/kanban-off reason=\"socket down\"".to_string(),
            "denied".to_string(),
            Some(posts[0].text().to_string())
        )]
    );
}

#[tokio::test]
async fn every_received_command_is_recorded_before_anything_runs_even_when_rejected() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let table = [
        (
            "U_ONCALL",
            "kanban-off",
            Outcome::Invalid,
            "commands start with `/`",
        ),
        (
            "U_ONCALL",
            "/kanban-of reason=x",
            Outcome::Invalid,
            "Did you mean /kanban-off?",
        ),
        (
            "U_ONCALL",
            "/kanban-off",
            Outcome::Invalid,
            "`reason` is required",
        ),
        (
            "U_ONCALL",
            "/kanban-off reason=\"unterminated",
            Outcome::Invalid,
            "never closed",
        ),
        (
            "U_ONCALL",
            "/kanban-off reason=ok top=3",
            Outcome::Invalid,
            "`top` is not an argument",
        ),
        (
            "U_ONCALL",
            "/approve RUN-99",
            Outcome::Invalid,
            "RUN-99 does not exist",
        ),
        (
            "U_ONCALL",
            "/approve",
            Outcome::Invalid,
            "Usage: /approve RUN-n",
        ),
    ];
    for (user, text, want, says) in table {
        chat.clear();
        assert_eq!(say(&app, user, text).await, want, "{text}");
        let posts = chat.posts();
        assert_eq!(posts.len(), 1, "{text}");
        assert!(
            posts[0].text().contains(says),
            "{text}: {}",
            posts[0].text()
        );
    }
    let recorded = app.store.commands().await.unwrap();
    assert_eq!(recorded.len(), table.len());
    assert!(recorded.iter().all(|(_, outcome, _)| outcome == "invalid"));
    assert_eq!(kanban_enabled(&env).await, 30);
}

#[tokio::test]
async fn the_umbrella_command_reaches_every_command() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, _chat) = env.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/warroom kanban-off reason=\"via umbrella\""
        )
        .await,
        Outcome::Done
    );
    assert_eq!(kanban_enabled(&env).await, 0);
}

#[tokio::test]
async fn a_selective_rollback_waits_for_the_lead_then_runs_with_bound_parameters() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;

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
        kanban_enabled(&env).await,
        30,
        "nothing runs before approval"
    );
    let request = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Approval)
        .expect("approval request");
    assert!(
        request.text().contains("bound: $1 = 10, $2 = 3"),
        "approvers see the bound values: {}",
        request.text()
    );
    assert_eq!(
        request
            .post
            .buttons
            .iter()
            .map(|b| b.command.as_str())
            .collect::<Vec<_>>(),
        ["/approve RUN-1", "/deny RUN-1"]
    );
    assert_eq!(request.post.mentions, ["U_LEAD"]);

    assert_eq!(
        say(&app, "U_ONCALL", "/approve RUN-1").await,
        Outcome::Denied,
        "never your own run"
    );
    assert_eq!(
        say(&app, "U_DBA", "/approve RUN-1").await,
        Outcome::Denied,
        "not a deciding role"
    );
    assert_eq!(say(&app, "U_LEAD", "/approve RUN-1").await, Outcome::Done);

    assert_eq!(
        kanban_enabled(&env).await,
        27,
        "exactly the top 3 by errors were switched off"
    );
    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Succeeded);
    let request = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Approval)
        .unwrap();
    assert!(
        request
            .text()
            .contains("👍 approved by U_LEAD as DevSecOps Lead"),
        "the request updates in place: {}",
        request.text()
    );
    assert!(
        chat.transcript().contains("company-001 | Company 1 | 40"),
        "the assessment table is posted"
    );
}

#[tokio::test]
async fn data_corruption_needs_a_lead_and_a_dba_who_are_different_people() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;

    assert_eq!(say(&app, "U_ONCALL", "/corrupt").await, Outcome::Waiting);
    assert_eq!(
        say(&app, "U_BOTH", "/approve RUN-1").await,
        Outcome::Waiting,
        "U_BOTH covers one role"
    );
    assert!(
        chat.transcript().contains("Still needed: Database Admin")
            || chat.transcript().contains("Still needed: DevSecOps Lead")
    );
    let again = say(&app, "U_BOTH", "/approve RUN-1").await;
    assert_eq!(
        again,
        Outcome::Invalid,
        "and only once: {}",
        chat.transcript()
    );
    let still = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(still.state, RunState::AwaitingApproval);
    assert_eq!(say(&app, "U_DBA", "/approve RUN-1").await, Outcome::Done);
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Succeeded
    );
}

#[tokio::test]
async fn a_denial_cancels_the_request_and_nothing_runs() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_ONCALL", "/corrupt").await;
    assert_eq!(say(&app, "U_DBA", "/deny RUN-1").await, Outcome::Done);
    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Cancelled);
    assert_eq!(run.detail.as_deref(), Some("denied by U_DBA"));
    assert!(chat
        .transcript()
        .contains("denied by U_DBA (Database Admin). Nothing ran."));
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Invalid,
        "a denied run cannot be approved"
    );
    assert_eq!(kanban_enabled(&env).await, 30);
}

#[tokio::test]
async fn an_approval_after_the_window_expires_the_request() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    assert_eq!(say(&app, "U_ONCALL", "/short").await, Outcome::Waiting);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        say(&app, "U_LEAD", "/approve RUN-1").await,
        Outcome::Invalid
    );
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Expired
    );
    assert!(chat.transcript().contains("expired"));
    assert_eq!(
        say(&app, "U_ONCALL", "/short").await,
        Outcome::Waiting,
        "an expired request frees its scope"
    );
}

#[tokio::test]
async fn a_second_run_of_the_same_scope_is_refused_while_one_is_live() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-selective-off reason=\"slow\"").await,
        Outcome::Waiting
    );
    chat.clear();
    assert_eq!(
        say(&app, "U_LEAD", "/kanban-off reason=\"now down\"").await,
        Outcome::Invalid
    );
    let text = chat.posts()[0].text().to_string();
    assert!(
        text.contains("already waiting for approval as RUN-1, started by U_ONCALL at"),
        "{text}"
    );
    assert_eq!(say(&app, "U_ONCALL", "/cancel RUN-1").await, Outcome::Done);
    assert_eq!(
        say(&app, "U_LEAD", "/kanban-off reason=\"now down\"").await,
        Outcome::Done
    );
}

#[tokio::test]
async fn a_checkpoint_parks_the_run_until_an_allowed_person_confirms() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    assert_eq!(say(&app, "U_ONCALL", "/checkpoint").await, Outcome::Waiting);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.state).collect::<Vec<_>>(),
        [StepState::Succeeded, StepState::Waiting, StepState::Pending]
    );
    let checkpoint = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Checkpoint)
        .expect("checkpoint post");
    assert_eq!(checkpoint.post.buttons[0].command, "/confirm RUN-1");

    assert_eq!(say(&app, "U_SEC", "/confirm RUN-1").await, Outcome::Denied);
    assert_eq!(say(&app, "U_ONCALL", "/confirm RUN-1").await, Outcome::Done);
    let steps = app.store.steps(1).await.unwrap();
    assert!(steps.iter().all(|s| s.state == StepState::Succeeded));
    assert_eq!(steps[1].output.as_deref(), Some("confirmed by U_ONCALL"));
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap();
    let timeline = app.store.timeline(&incident.id).await.unwrap();
    assert!(timeline
        .iter()
        .any(|e| e.text == "Checked by a human" && e.actor.as_deref() == Some("U_ONCALL")));
}

#[tokio::test]
async fn a_failing_step_stops_the_run_runs_on_failure_and_posts_what_ran() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;

    assert_eq!(say(&app, "U_ONCALL", "/failing").await, Outcome::StepFailed);

    let steps = app.store.steps(1).await.unwrap();
    let states: Vec<(&str, StepState)> = steps.iter().map(|s| (s.name.as_str(), s.state)).collect();
    assert_eq!(
        states,
        [
            ("Count companies", StepState::Succeeded),
            ("Expect the impossible", StepState::Failed),
            ("Never reached", StepState::Skipped),
            ("Record the failure", StepState::Succeeded),
        ]
    );
    assert_eq!(
        steps[1].output.as_deref(),
        Some("`n`: expected = 0, got 40 (n = 40)")
    );
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Failed
    );
    let failure = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Template)
        .expect("failure template");
    assert!(
        failure.text().contains("**RUNBOOK FAILED: /failing**"),
        "{}",
        failure.text()
    );
    assert!(
        failure.text().contains("Never reached — not run"),
        "{}",
        failure.text()
    );
    assert_eq!(kanban_enabled(&env).await, 30, "the DELETE never ran");
}

#[tokio::test]
async fn user_text_cannot_mention_the_channel_or_break_formatting() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let out = say(
        &app,
        "U_ONCALL",
        "/echo impact=\"@channel <!here> **all** users\nnew line\" eta=@everyone",
    )
    .await;
    assert_eq!(out, Outcome::Done);
    let transcript = chat.transcript();
    for bad in ["@channel", "@everyone", "<!here>", "**all**", "users\nnew"] {
        assert!(!transcript.contains(bad), "{bad} survived: {transcript}");
    }
    assert!(
        transcript.contains("INCIDENT ALERT: P2 - Echo test"),
        "{transcript}"
    );
}

#[tokio::test]
async fn a_dry_run_renders_every_step_and_changes_nothing() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/kanban-off reason=\"check first\" dry-run=true"
        )
        .await,
        Outcome::Done
    );
    assert_eq!(kanban_enabled(&env).await, 30);
    let text = chat.posts()[0].text().to_string();
    assert!(text.contains("Dry run of /kanban-off — nothing was changed"));
    assert!(
        text.contains("json_set(COALESCE(settings, '{}'), '$.kanbanV2Enabled', json('false'))"),
        "{text}"
    );
    assert!(text.contains("expects: enabled = 0"), "{text}");
    assert!(
        app.store.open_incident("C_INC").await.unwrap().is_none(),
        "a dry run opens no incident"
    );
}

#[tokio::test]
async fn a_redelivered_message_is_handled_once() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let mut m = msg("U_ONCALL", "/kanban-off reason=\"retry storm\"");
    m.dedup_key = Some("slack-trigger-123".into());
    assert_eq!(app.handle(&m).await, Outcome::Done);
    let posts = chat.posts().len();
    assert_eq!(app.handle(&m).await, Outcome::Duplicate);
    assert_eq!(chat.posts().len(), posts, "nothing posted twice");
    assert_eq!(app.store.commands().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_whose_process_died_mid_step_is_reported_interrupted_and_not_rerun() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_ONCALL", "/checkpoint").await;
    // Simulate a crash during step 3: the step is running and the lease has lapsed.
    let pool = app.store.pool();
    sqlx::query("UPDATE steps SET state = 'succeeded' WHERE run_id = 1 AND idx = 1")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE steps SET state = 'running' WHERE run_id = 1 AND idx = 2")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE runs SET lease_owner = 'dead', lease_until = 0 WHERE id = 1")
        .execute(pool)
        .await
        .unwrap();
    chat.clear();

    // The clock finds it (as it would at start, or a second after the lease lapsed).
    warroom::app::ticker::tick(&app, &warroom::incident::clock::SystemClock)
        .await
        .unwrap();

    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Interrupted
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[2].state, StepState::Failed);
    assert!(
        chat.transcript()
            .contains("was interrupted during step 3 (After)"),
        "{}",
        chat.transcript()
    );
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.demo_db().display()))
        .await
        .unwrap();
    let name: String = sqlx::query_scalar("SELECT name FROM Companies WHERE id = 'company-002'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "Company 2", "the interrupted step was not re-run");
    assert_eq!(app.recover().await.unwrap(), 0, "reported once");
}

#[tokio::test]
async fn when_the_state_database_is_down_the_user_is_told_and_nothing_runs() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    app.store.close().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-off reason=\"db gone\"").await,
        Outcome::Internal
    );
    assert!(chat
        .transcript()
        .contains("The state database is unavailable, so nothing was run"));
    assert_eq!(kanban_enabled(&env).await, 30);
}

#[tokio::test]
async fn help_lists_what_the_user_may_run_and_explains_one_command() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_COMMS", "/help").await;
    let text = chat.posts()[0].text().to_string();
    assert!(
        text.contains("You may not run any runbook command"),
        "{text}"
    );
    chat.clear();
    say(&app, "U_ONCALL", "/help kanban-selective-off").await;
    let text = chat.posts()[0].text().to_string();
    assert!(
        text.contains("Usage: `/kanban-selective-off reason=<reason> [top=<top>]"),
        "{text}"
    );
    assert!(text.contains("Authorization: Production P1 Alert — requested by On-Call Engineer, DevSecOps Lead; decided by On-Call Engineer, DevSecOps Lead (each a different person)"), "{text}");
}

#[tokio::test]
async fn a_command_whose_target_is_not_configured_is_refused_before_anything_runs() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let out = say(&app, "U_ONCALL", "/kill-switch on reason=\"prod down\"").await;
    assert_eq!(out, Outcome::Internal);
    let text = chat.transcript();
    assert!(
        text.contains("/kill-switch on cannot run here: set LEGALFLOW_DATABASE_URL"),
        "{text}"
    );
    assert!(
        app.store.open_incident("C_INC").await.unwrap().is_none(),
        "no incident, no run"
    );
    chat.clear();
    say(&app, "U_ONCALL", "/help").await;
    assert!(chat
        .transcript()
        .contains("⚠️ not configured here (set LEGALFLOW_DATABASE_URL)"));
}

#[tokio::test]
async fn a_run_on_the_embedded_demo_database_says_so() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_ONCALL", "/kanban-off reason=\"demo\"").await;
    let progress = chat
        .posts()
        .into_iter()
        .find(|p| p.post.kind == PostKind::Progress)
        .unwrap();
    assert!(
        progress
            .text()
            .contains("Runs against the embedded demo database for chatia_db"),
        "{}",
        progress.text()
    );
}

#[tokio::test]
async fn every_shipped_command_renders_its_dry_run_with_every_step() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, _chat) = env.app().await;
    let mut rendered = 0;
    for spec in app.catalog.specs() {
        let text = warroom::runbook::engine::describe(&app, spec, &serde_json::json!({}), None);
        for (i, step) in spec.file.steps.iter().enumerate() {
            assert!(
                text.contains(&format!("{}. ", i + 1)) && text.contains(&step.name),
                "/{}: step {} missing:\n{text}",
                spec.full_name(),
                step.name
            );
        }
        rendered += 1;
    }
    assert!(rendered >= 38, "{rendered}");
}

#[tokio::test]
async fn a_run_is_decided_only_on_the_platform_it_was_requested_on() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (console, _) = env.app().await;
    assert_eq!(
        say(&console, "U_ONCALL", "/corrupt").await,
        Outcome::Waiting
    );
    // A second platform on the same database: its progress would go nowhere.
    let (slack, chat) = env.app_on("slack").await;
    for verb in ["approve", "deny", "cancel"] {
        let mut m = msg("U_LEAD", &format!("/{verb} RUN-1"));
        m.user = warroom::model::user::UserId::new("slack", "U_LEAD");
        assert_eq!(slack.handle(&m).await, Outcome::Invalid, "/{verb}");
        let said = chat.posts().last().unwrap().text().to_string();
        assert!(
            said.contains("RUN-1 was requested on the console"),
            "{said}"
        );
    }
    let run = console.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::AwaitingApproval);
    assert_eq!(
        say(&console, "U_LEAD", "/approve RUN-1").await,
        Outcome::Waiting
    );
}

#[tokio::test]
async fn a_command_lost_with_its_process_is_reported_once_and_a_live_ones_is_not() {
    for db in [StateDb::Sqlite, StateDb::Postgres] {
        lost_command_reported_once(db).await;
    }
}

async fn lost_command_reported_once(db: StateDb) {
    use warroom::store::{NewCommand, Store};
    let env = Env::fixtures(db).await;
    let url = secrecy::ExposeSecret::expose_secret(&env.settings.database_url).to_string();
    let t0 = chrono::Utc::now();
    let accepted = |text: &'static str| NewCommand {
        received_at: t0,
        platform: "console",
        channel: "C_INC",
        user_id: "U_ONCALL",
        text,
        dedup_key: None,
        outcome: None,
        detail: None,
    };
    // One process took a command and was killed; another took one and lives on.
    let dead = Store::connect(&url).await.unwrap();
    let lost = dead
        .record_command(&accepted("/kanban-off reason=\"lost\""))
        .await
        .unwrap()
        .unwrap();
    dead.close().await;
    let alive = Store::connect(&url).await.unwrap();
    alive
        .record_command(&accepted("/kanban-off reason=\"still running\""))
        .await
        .unwrap()
        .unwrap();
    // Minutes on: the killed one has been quiet since, the other has not.
    let later = t0 + chrono::Duration::minutes(5);
    alive.heartbeat(later).await.unwrap();

    let (app, chat) = env.app().await;
    app.store.heartbeat(later).await.unwrap();
    assert_eq!(app.report_lost_commands(later).await.unwrap(), 1);
    let told = chat.posts().last().unwrap().clone();
    assert!(told.post.ephemeral_to.is_some(), "told privately");
    assert!(
        told.text().contains(&format!("CMD-{lost}"))
            && told.text().contains("warroom stopped while handling your"),
        "{}",
        told.text()
    );
    let outcomes = app.store.commands().await.unwrap();
    assert!(
        outcomes.iter().any(|(_, o, _)| o == "interrupted"),
        "{outcomes:?}"
    );
    assert!(outcomes.iter().any(|(_, o, _)| o == "received"));
    // Said once, whichever process checks next.
    assert_eq!(app.report_lost_commands(later).await.unwrap(), 0);
}

#[tokio::test]
async fn a_record_slower_than_the_ack_budget_is_answered_in_time_and_still_runs_once() {
    use sqlx::Connection;
    let env = Env::shipped(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    let app = std::sync::Arc::new(app);
    // Another process holds the database's write lock (a backup, a migration).
    let state = secrecy::ExposeSecret::expose_secret(&env.settings.database_url).to_string();
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{state}"))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut m = msg("U_ONCALL", "/kanban-off reason=\"slow database\"");
    m.dedup_key = Some("slack:command:slow-1".into());
    let ack = app.acknowledge(m).await;
    assert_eq!(ack, warroom::app::pipeline::Ack::Slow);
    assert!(
        ack.text("/kanban-off")
            .contains("check /status before typing it again"),
        "{}",
        ack.text("/kanban-off")
    );
    // The lock goes; the command is recorded after all, and runs, once.
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    for _ in 0..500 {
        if kanban_enabled(&env).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(kanban_enabled(&env).await, 0, "{}", chat.transcript());
    let commands = app.store.commands().await.unwrap();
    assert_eq!(commands.len(), 1, "{commands:?}");
}
