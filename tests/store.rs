//! The state store, run identically against a fresh SQLite file and a fresh
//! PostgreSQL database: the same code must behave the same on both.

mod common;

use chrono::{TimeZone, Utc};
use common::{fresh_postgres, say, Env, Phase, RunState, StateDb, StepState};
use serde_json::json;
use warroom::app::Outcome;
use warroom::model::incident::{Incident, NewEvent};
use warroom::model::user::UserId;
use warroom::store::{NewCommand, NewRun, Store};

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    (store, dir)
}

/// A P0 incident in channel C, declared at `at`.
async fn open(store: &Store, title: &str, at: chrono::DateTime<Utc>) -> Incident {
    store
        .create_incident(title, "P0", "C", "console", at)
        .await
        .unwrap()
}

async fn postgres() -> Store {
    Store::connect(&fresh_postgres().await).await.unwrap()
}

/// Runs one async test body against both backends.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn on_sqlite() {
                let (store, _dir) = super::sqlite().await;
                super::$body(store).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                super::$body(super::postgres().await).await;
            }
        }
    };
}

both!(incident_ids_count_per_day, incident_ids);
async fn incident_ids(store: Store) {
    let day1 = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
    let day2 = Utc.with_ymd_and_hms(2026, 11, 23, 0, 5, 0).unwrap();
    let a = store
        .create_incident("a", "P0", "C1", "console", day1)
        .await
        .unwrap();
    let b = store
        .create_incident("b", "P1", "C2", "console", day1)
        .await
        .unwrap();
    let c = store
        .create_incident("c", "P1", "C1", "console", day2)
        .await
        .unwrap();
    assert_eq!(
        (a.id.as_str(), b.id.as_str(), c.id.as_str()),
        ("INC-20261122-001", "INC-20261122-002", "INC-20261123-001")
    );
    assert_eq!(
        store.open_incident("C1").await.unwrap().unwrap().id,
        c.id,
        "newest open incident of the channel"
    );
    store
        .set_incident_status(&c.id, "resolved", day2)
        .await
        .unwrap();
    let c = store.incident(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (c.status.as_str(), c.resolved_at, c.mitigated_at),
        ("resolved", Some(day2), Some(day2))
    );
    assert_eq!(store.open_incident("C1").await.unwrap().unwrap().id, a.id);
}

both!(timeline_is_append_only_and_ordered, timeline);
async fn timeline(store: Store) {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 3, 4, 5).unwrap();
    let inc = store
        .create_incident("t", "P0", "C", "console", at)
        .await
        .unwrap();
    for (i, text) in ["first", "second", "third"].iter().enumerate() {
        let e = NewEvent {
            kind: "step",
            actor: Some("U1"),
            text,
            run_id: Some(7),
            step_idx: Some(i as i64),
        };
        store.append_event(&inc.id, at, &e).await.unwrap();
    }
    let events = store.timeline(&inc.id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
        ["first", "second", "third"]
    );
    assert_eq!(events[2].step_idx, Some(2));
    assert_eq!(events[0].at, at);
}

both!(commands_are_recorded_once_per_delivery, commands);
async fn commands(store: Store) {
    let c = |key| NewCommand {
        received_at: Utc::now(),
        platform: "slack",
        channel: "C",
        user_id: "U",
        text: "/x",
        dedup_key: key,
        outcome: None,
        detail: None,
        note: None,
    };
    assert!(store
        .record_command(&c(Some("k1")))
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .record_command(&c(Some("k1")))
            .await
            .unwrap()
            .is_none(),
        "a redelivery is refused"
    );
    assert!(store.record_command(&c(None)).await.unwrap().is_some());
    assert!(
        store.record_command(&c(None)).await.unwrap().is_some(),
        "no key never collides"
    );
    assert_eq!(store.commands().await.unwrap().len(), 3);
}

both!(
    concurrent_deliveries_are_batched_and_each_key_is_recorded_once,
    batched
);
async fn batched(store: Store) {
    // 200 deliveries of 100 keys at once, as retries racing their originals: the
    // recorder writes them in batches and every key wins exactly once.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("k{}", i % 100);
            let c = NewCommand {
                received_at: Utc::now(),
                platform: "slack",
                channel: "C",
                user_id: "U",
                text: "/x",
                dedup_key: Some(&key),
                outcome: (i % 3 == 0).then_some(warroom::store::CommandOutcome::Invalid),
                detail: Some("typo"),
                note: None,
            };
            (key.clone(), store.record_command(&c).await.unwrap())
        }));
    }
    let mut winners = std::collections::BTreeMap::new();
    for t in tasks {
        let (key, id) = t.await.unwrap();
        if let Some(id) = id {
            assert!(winners.insert(key, id).is_none(), "a key recorded twice");
        }
    }
    assert_eq!(winners.len(), 100);
    let ids: std::collections::BTreeSet<i64> = winners.values().copied().collect();
    assert_eq!(ids.len(), 100, "each row its own id");
    let rows = store.commands().await.unwrap();
    assert_eq!(rows.len(), 100);
    assert!(rows
        .iter()
        .all(|(_, o, _)| o == "received" || o == "invalid"));
}

both!(one_live_run_per_scope_and_compare_and_set_transitions, runs);
async fn runs(store: Store) {
    let at = Utc::now();
    let inc = open(&store, "r", at).await;
    let user = UserId::new("slack", "U1");
    let args = json!({"reason": "x", "top": 3});
    let new = |state| NewRun {
        incident_id: &inc.id,
        command: "rollback full",
        scope: "rollback",
        scenario: "p1",
        args: &args,
        channel: "C",
        requested_by: &user,
        state,
        dry_run: false,
        at,
        approval_expires_at: None,
        steps: vec![
            (Phase::Main, "one".into(), "sql"),
            (Phase::OnFailure, "undo".into(), "sql"),
        ],
    };
    let first = store
        .create_run(&new(RunState::AwaitingApproval))
        .await
        .unwrap()
        .expect("scope free");
    assert_eq!(first.args, args);
    assert_eq!(first.requested_by, user);
    let conflict = store
        .create_run(&new(RunState::Running))
        .await
        .unwrap()
        .expect_err("scope taken");
    assert_eq!(conflict.0.id, first.id);
    // Compare-and-set moves of the run and of its first step, as each process makes them.
    let store = &store;
    let run_to = |from, to, detail: Option<&'static str>| async move {
        store
            .transition(first.id, from, to, at, detail)
            .await
            .unwrap()
    };
    let step_to = |from, to, output: Option<&'static str>| async move {
        store
            .step_transition(first.id, 0, from, to, at, output)
            .await
            .unwrap()
    };

    assert!(run_to(RunState::AwaitingApproval, RunState::Running, None).await);
    assert!(
        !run_to(RunState::AwaitingApproval, RunState::Running, None).await,
        "only one process wins"
    );
    assert!(store
        .claim(first.id, "p1", at, at + chrono::Duration::seconds(30))
        .await
        .unwrap());
    assert!(
        !store
            .claim(first.id, "p2", at, at + chrono::Duration::seconds(30))
            .await
            .unwrap(),
        "a live lease keeps others out"
    );
    assert!(
        store
            .claim(
                first.id,
                "p2",
                at + chrono::Duration::seconds(31),
                at + chrono::Duration::seconds(60)
            )
            .await
            .unwrap(),
        "a lapsed lease does not"
    );

    assert!(step_to(StepState::Pending, StepState::Running, None).await);
    assert!(!step_to(StepState::Pending, StepState::Running, None).await);
    assert!(
        step_to(
            StepState::Running,
            StepState::Succeeded,
            Some("1 row affected")
        )
        .await
    );
    let steps = store.steps(first.id).await.unwrap();
    assert_eq!(
        (
            steps[0].state,
            steps[0].output.as_deref(),
            steps[1].phase.as_str()
        ),
        (StepState::Succeeded, Some("1 row affected"), "on_failure")
    );

    assert!(run_to(RunState::Running, RunState::Succeeded, Some("done")).await);
    let second = store
        .create_run(&new(RunState::Running))
        .await
        .unwrap()
        .expect("a finished run frees the scope");
    assert!(second.started_at.is_some());
}

both!(votes_are_one_per_person, votes);
async fn votes(store: Store) {
    let at = Utc::now();
    let inc = open(&store, "v", at).await;
    let user = UserId::new("console", "U_ONCALL");
    let args = json!({});
    let run = store
        .create_run(&NewRun {
            incident_id: &inc.id,
            command: "x",
            scope: "x",
            scenario: "s",
            args: &args,
            channel: "C",
            requested_by: &user,
            state: RunState::AwaitingApproval,
            dry_run: false,
            at,
            approval_expires_at: Some(at),
            steps: vec![],
        })
        .await
        .unwrap()
        .unwrap();
    let lead = UserId::new("console", "U_LEAD");
    assert!(store
        .add_vote(run.id, &lead, "DevSecOps Lead", true, at, &run.plan)
        .await
        .unwrap());
    assert!(!store
        .add_vote(run.id, &lead, "DevSecOps Lead", false, at, &run.plan)
        .await
        .unwrap());
    let votes = store.votes(run.id).await.unwrap();
    assert_eq!(votes.len(), 1);
    assert_eq!(
        (
            votes[0].0.user.clone(),
            votes[0].0.approve,
            votes[0].1.as_str()
        ),
        (lead, true, "DevSecOps Lead")
    );
}

#[tokio::test]
async fn the_whole_pipeline_runs_on_a_postgresql_state_database() {
    let env = Env::shipped(StateDb::Postgres).await;
    let (app, chat) = env.app().await;
    assert_eq!(
        say(
            &app,
            "U_ONCALL",
            "/kanban-selective-off reason=\"slow\" top=2 settle=10ms"
        )
        .await,
        Outcome::Waiting
    );
    assert_eq!(say(&app, "U_LEAD", "/approve RUN-1").await, Outcome::Done);
    assert_eq!(common::kanban_enabled(&env).await, 28);
    assert!(chat
        .transcript()
        .contains("PERFORMANCE ISSUE - PARTIALLY RESOLVED"));
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap();
    assert_eq!(
        app.store
            .timeline(&incident.id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == "approval")
            .count(),
        2
    );
}

/// Issue 18: fired timers and sent posts piled up for ever (80k timers after a
/// year). A week on, what nothing will read again is deleted; what may be read
/// (a public post a later edit needs, an unsent post, a pending timer) stays.
#[tokio::test]
async fn pruning_keeps_what_may_still_be_read() {
    for db in [StateDb::Sqlite, StateDb::Postgres] {
        let env = Env::fixtures(db).await;
        let (app, _chat) = env.app().await;
        let store = &app.store;
        let old = chrono::Utc::now() - chrono::Duration::days(8);
        let i = store
            .create_incident("t", "P1", "C1", "console", old)
            .await
            .unwrap();
        store
            .schedule(&i.id, "rto:50", old, &serde_json::json!({}))
            .await
            .unwrap();
        store
            .schedule(&i.id, "rto:80", old, &serde_json::json!({}))
            .await
            .unwrap();
        store
            .schedule(
                &i.id,
                "rto:100",
                chrono::Utc::now() + chrono::Duration::days(1),
                &serde_json::json!({}),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_due_timers(chrono::Utc::now(), "console")
                .await
                .unwrap()
                .len(),
            2
        );
        let pruned = store.prune(chrono::Utc::now()).await.unwrap();
        assert_eq!(pruned.timers, 2, "the two fired a week ago");
        let left = store.timers(&i.id).await.unwrap();
        assert_eq!(left.len(), 1, "the pending one stays: {left:?}");
        assert_eq!(
            store.prune(chrono::Utc::now()).await.unwrap(),
            Default::default()
        );
    }
}
