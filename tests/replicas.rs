//! Several warroom instances on one PostgreSQL state database (replicas, or Slack
//! delivering one event to a random connection): nothing runs twice.

mod common;

use std::sync::Arc;

use common::{msg, Env, RunState, StateDb};
use warroom::app::{App, Outcome};
use warroom::chat::recording::RecordingChat;

async fn two_replicas(env: &Env) -> ((App, Arc<RecordingChat>), (App, Arc<RecordingChat>)) {
    (env.app().await, env.app().await)
}

async fn company_001_flag(env: &Env) -> String {
    let v: i64 = common::demo_value(
        env,
        "SELECT json_extract(settings, '$.kanbanV2Enabled') FROM Companies WHERE id = 'company-001'",
    )
    .await;
    v.to_string()
}

#[tokio::test]
async fn the_last_two_approvals_arriving_at_two_replicas_at_once_start_the_run_once() {
    for round in 0..10 {
        let env = Env::fixtures(StateDb::Postgres).await;
        let ((a, chat_a), (b, chat_b)) = two_replicas(&env).await;
        assert_eq!(
            a.handle(&msg("U_ONCALL", "/corrupt")).await,
            Outcome::Waiting
        );
        let (m_lead, m_dba) = (
            msg("U_LEAD", "/approve RUN-1"),
            msg("U_DBA", "/approve RUN-1"),
        );
        let (lead, dba) = tokio::join!(a.handle(&m_lead), b.handle(&m_dba));
        let outcomes = [lead, dba];
        assert!(
            outcomes.contains(&Outcome::Done),
            "round {round}: one of them ran it: {outcomes:?}"
        );
        let run = a.store.run(1).await.unwrap().unwrap();
        assert_eq!(run.state, RunState::Succeeded, "round {round}");
        // The step's milestone is written once per execution.
        let incident = a.store.open_incident("C_INC").await.unwrap().unwrap();
        let ran = a
            .store
            .timeline(&incident.id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.text == "Company 001 switched off")
            .count();
        assert_eq!(
            ran, 1,
            "round {round}: exactly one replica executed the step"
        );
        // The other saw only its own vote (Waiting), or lost the start (Invalid). Both
        // cannot miss each other: each reads after its own committed vote.
        let loser = if lead == Outcome::Done { dba } else { lead };
        assert!(
            matches!(loser, Outcome::Waiting | Outcome::Invalid | Outcome::Done),
            "round {round}: {outcomes:?}"
        );
        let _ = (&chat_a, &chat_b);
        assert_eq!(company_001_flag(&env).await, "0");
    }
}

#[tokio::test]
async fn a_slack_retry_delivered_to_two_replicas_is_handled_once() {
    let env = Env::shipped(StateDb::Postgres).await;
    let ((a, _), (b, _)) = two_replicas(&env).await;
    let mut m = msg("U_ONCALL", "/kanban-off reason=\"retry storm\"");
    m.dedup_key = Some("Ev-retry-1".into());
    let (x, y) = tokio::join!(a.handle(&m), b.handle(&m));
    let mut both = [x, y];
    both.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(both, [Outcome::Done, Outcome::Duplicate]);
    assert_eq!(a.store.commands().await.unwrap().len(), 1);
    assert_eq!(
        a.store
            .incident_runs(&a.store.open_incident("C_INC").await.unwrap().unwrap().id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn two_replicas_asked_for_the_same_scope_at_once_start_one_run() {
    let env = Env::shipped(StateDb::Postgres).await;
    let ((a, _), (b, _)) = two_replicas(&env).await;
    let (from_a, from_b) = (
        msg("U_ONCALL", "/kanban-off reason=\"from a\""),
        msg("U_LEAD", "/kanban-off reason=\"from b\""),
    );
    let (x, y) = tokio::join!(a.handle(&from_a), b.handle(&from_b));
    let mut both = [x, y];
    both.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        both,
        [Outcome::Done, Outcome::Invalid],
        "the second is told it is already running"
    );
}
