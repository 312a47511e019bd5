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
