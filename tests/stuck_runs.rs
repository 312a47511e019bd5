//! No stuck runs (issue 14): a run whose process was killed outside a step (before
//! the first, between two, after the last) stayed `running` forever, because
//! recovery looked only for a step marked `running`. Each kill point is simulated
//! on the fixture `/checkpoint` run (sql "Before", confirm "Look at it", sql
//! "After") by setting its steps and a lapsed lease, on SQLite and PostgreSQL.

mod common;

use common::{say, Env, RunState, StateDb};
use warroom::app::Outcome;

/// (steps 1–3 as a crash left them, what the channel is told)
const KILL_POINTS: [(&str, [&str; 3], &str); 3] = [
    (
        "before the first step",
        ["pending", "pending", "pending"],
        "was interrupted before its first step (Before)",
    ),
    (
        "between two steps",
        ["succeeded", "pending", "pending"],
        "was interrupted between step 1 (Before) and step 2 (Look at it)",
    ),
    (
        "after the last step",
        ["succeeded", "succeeded", "succeeded"],
        "was interrupted after its last step, before it was marked finished",
    ),
];

async fn killed_outside_a_step_is_interrupted_and_told(db: fn() -> StateDb) {
    for (point, states, told) in KILL_POINTS {
        let env = Env::fixtures(db()).await;
        let (app, chat) = env.app().await;
        say(&app, "U_ONCALL", "/checkpoint").await;
        let pool = app.store.pool();
        for (idx, state) in states.iter().enumerate() {
            sqlx::query(&format!(
                "UPDATE steps SET state = '{state}' WHERE run_id = 1 AND idx = {idx}"
            ))
            .execute(pool)
            .await
            .unwrap();
        }
        // The engine's lease, renewed before each step, lapsed with its process.
        sqlx::query("UPDATE runs SET lease_owner = 'dead', lease_until = 0 WHERE id = 1")
            .execute(pool)
            .await
            .unwrap();
        chat.clear();
        warroom::app::ticker::tick(&app, &warroom::incident::clock::SystemClock)
            .await
            .unwrap();
        let run = app.store.run(1).await.unwrap().unwrap();
        assert_eq!(run.state, RunState::Interrupted, "{point}");
        let transcript = chat.transcript();
        assert!(transcript.contains(told), "{point}: {transcript}");
        assert_eq!(app.recover().await.unwrap(), 0, "{point}: reported once");
        // Retyping is no longer refused as "already running".
        chat.clear();
        // It runs again, up to its checkpoint.
        assert_eq!(say(&app, "U_ONCALL", "/checkpoint").await, Outcome::Waiting);
        assert!(
            !chat.transcript().contains("already"),
            "{point}: {}",
            chat.transcript()
        );
    }
}

#[tokio::test]
async fn a_run_killed_outside_a_step_is_interrupted_and_told_on_sqlite() {
    killed_outside_a_step_is_interrupted_and_told(|| StateDb::Sqlite).await;
}

#[tokio::test]
async fn a_run_killed_outside_a_step_is_interrupted_and_told_on_postgres() {
    killed_outside_a_step_is_interrupted_and_told(|| StateDb::Postgres).await;
}

#[tokio::test]
async fn a_run_parked_at_a_checkpoint_or_just_started_is_not_taken_for_dead() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, _chat) = env.app().await;
    // Parked: step 2 waits for /confirm, and a parked run holds no lease.
    say(&app, "U_ONCALL", "/checkpoint").await;
    assert_eq!(app.recover().await.unwrap(), 0);
    // Even if its process died after parking: the checkpoint still waits.
    sqlx::query("UPDATE runs SET lease_owner = 'dead', lease_until = 0 WHERE id = 1")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.recover().await.unwrap(), 0);
    // Confirmed a moment ago and not claimed yet (no lease, nothing waiting): the
    // engine is about to take it, so it is not dead.
    sqlx::query(
        "UPDATE steps SET state = 'succeeded', finished_at = $1 WHERE run_id = 1 AND idx = 1",
    )
    .bind(chrono::Utc::now().timestamp_millis())
    .execute(app.store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = 1")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.recover().await.unwrap(), 0);
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Running
    );
}

#[tokio::test]
async fn cancel_stops_a_run_inside_a_wait_and_nothing_after_it_runs() {
    let (env, _commands) = common::with_a_wait(StateDb::Sqlite, "30s").await;
    let (app, chat) = env.app().await;
    let app = std::sync::Arc::new(app);
    let running = {
        let app = app.clone();
        tokio::spawn(async move { say(&app, "U_ONCALL", "/waiting").await })
    };
    // Bounded: the run reaches its wait within seconds (it cannot end before 30 s).
    let mut waited = 0;
    loop {
        let steps = app.store.steps(1).await.unwrap_or_default();
        if steps
            .get(1)
            .is_some_and(|s| s.state == common::StepState::Running)
        {
            break;
        }
        waited += 1;
        assert!(waited < 200, "the run never reached its wait");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(say(&app, "U_ONCALL", "/cancel RUN-1").await, Outcome::Done);
    let transcript = chat.transcript();
    assert!(
        transcript.contains("cancelled by U_ONCALL")
            && transcript.contains("Step 2 (Let it settle) is a wait: it stops within a second"),
        "{transcript}"
    );
    // Bounded well under the wait's 30 s: the engine notices within a second.
    tokio::time::timeout(std::time::Duration::from_secs(15), running)
        .await
        .expect("the wait stopped when the run was cancelled")
        .unwrap();
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Cancelled
    );
    let steps = app.store.steps(1).await.unwrap();
    let states: Vec<_> = steps.iter().map(|s| s.state).collect();
    use common::StepState::{Pending, Skipped, Succeeded};
    assert_eq!(
        states[..3],
        [Succeeded, Skipped, Pending],
        "nothing after the wait ran"
    );
    let name: String =
        common::demo_value(&env, "SELECT name FROM Companies WHERE id = 'company-002'").await;
    assert_eq!(name, "Company 2");
}

#[tokio::test]
async fn cancel_between_steps_or_inside_one_stops_the_run_before_the_next_step() {
    // Between steps: the run is running, no step in flight (its process is busy
    // posting, say). Before, /cancel answered "executing a step right now".
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_ONCALL", "/checkpoint").await;
    let pool = app.store.pool();
    sqlx::query("UPDATE steps SET state = 'pending' WHERE run_id = 1 AND idx = 1")
        .execute(pool)
        .await
        .unwrap();
    chat.clear();
    assert_eq!(say(&app, "U_ONCALL", "/cancel RUN-1").await, Outcome::Done);
    assert!(
        chat.transcript()
            .contains("No step was running; nothing more runs."),
        "{}",
        chat.transcript()
    );
    // The engine, resuming, stops before the next step.
    warroom::runbook::engine::drive(&app, 1).await.unwrap();
    assert_eq!(
        app.store.run(1).await.unwrap().unwrap().state,
        RunState::Cancelled
    );
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[1].state, common::StepState::Pending, "not run");
    assert_eq!(steps[2].state, common::StepState::Pending, "not run");

    // Inside a step that cannot stop half way: said when it will end.
    let env = Env::fixtures(StateDb::Sqlite).await;
    let (app, chat) = env.app().await;
    say(&app, "U_ONCALL", "/checkpoint").await;
    let pool = app.store.pool();
    sqlx::query("UPDATE steps SET state = 'pending' WHERE run_id = 1 AND idx = 1")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE steps SET state = 'running', started_at = $1 WHERE run_id = 1 AND idx = 2")
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(pool)
        .await
        .unwrap();
    chat.clear();
    assert_eq!(say(&app, "U_ONCALL", "/cancel RUN-1").await, Outcome::Done);
    assert!(
        chat.transcript()
            .contains("Step 3 (After) is not stopped half way: it ends on its own, by ")
            && chat
                .transcript()
                .contains("UTC at the latest (its timeout), and nothing after it runs."),
        "{}",
        chat.transcript()
    );
}
