//! The writes every command makes, committed in groups (issue 18): records,
//! refusal notes, outcomes and outbox rows from many concurrent commands share
//! statements, and each still lands on its own row. Run against a fresh SQLite
//! file and a fresh PostgreSQL database. The SQL forms used (`WITH … UPDATE …
//! FROM`, `WITH … INSERT … SELECT`, multi-row `INSERT … RETURNING`) are in
//! PostgreSQL's documented grammar (sql-update.html, sql-insert.html) and in
//! SQLite's since 3.33 / 3.35 (lang_update.html "UPDATE FROM",
//! lang_returning.html); SQLite says RETURNING's row order is arbitrary, so the
//! test checks each id against its own row rather than an order.

mod common;

use chrono::Utc;
use common::fresh_postgres;
use warroom::store::{CommandOutcome, NewCommand, NewOutbox, Store};

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let (store, _dir) = super::common::sqlite_store().await;
                super::$body(store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let store = super::Store::connect(&super::fresh_postgres().await)
                    .await
                    .unwrap();
                super::$body(store).await;
            }
        }
    };
}

fn command<'a>(key: &'a str, channel: &'a str, note: Option<&'a str>) -> NewCommand<'a> {
    NewCommand {
        received_at: Utc::now(),
        platform: "slack",
        channel,
        user_id: "U_STRANGER",
        text: key,
        dedup_key: Some(key),
        outcome: note.map(|_| CommandOutcome::Denied),
        detail: None,
        note,
    }
}

both!(concurrent_outcomes_land_each_on_its_own_command, outcomes);
async fn outcomes(store: Store) {
    let mut ids = Vec::new();
    for i in 0..150 {
        let key = format!("/x {i}");
        let id = store
            .record_command(&command(&key, "C", None))
            .await
            .unwrap()
            .unwrap();
        ids.push((i, id));
    }
    // All at once, so they share statements.
    let mut tasks = Vec::new();
    for &(i, id) in &ids {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = if i % 3 == 0 {
                CommandOutcome::Failed
            } else {
                CommandOutcome::Done
            };
            let run = (i % 2 == 0).then_some(1000 + i);
            store
                .finish_command(id, outcome, &format!("detail {i}"), run)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows = store.commands().await.unwrap();
    assert_eq!(rows.len(), 150);
    for (text, outcome, detail) in rows {
        let i: i64 = text.trim_start_matches("/x ").parse().unwrap();
        let want = if i % 3 == 0 { "failed" } else { "done" };
        assert_eq!(outcome, want, "{text}");
        assert_eq!(detail.as_deref(), Some(format!("detail {i}").as_str()));
    }
}

both!(concurrent_outbox_rows_each_get_their_own_id, outbox_rows);
async fn outbox_rows(store: Store) {
    // 200 rows at once: most distinct, 40 of them the very same post (which are
    // interchangeable, but still each its own row).
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let payload = if i < 40 {
                "{\"same\":true}".to_string()
            } else {
                format!("{{\"n\":{i}}}")
            };
            let channel = format!("C{}", i % 7);
            let row = NewOutbox {
                platform: "slack",
                channel: &channel,
                op: "post",
                target: None,
                paced: i % 2 == 0,
                payload: &payload,
            };
            let id = store.enqueue(&row, Utc::now()).await.unwrap();
            (id, channel, payload, i % 2 == 0)
        }));
    }
    let mut queued = Vec::new();
    for t in tasks {
        queued.push(t.await.unwrap());
    }
    let ids: std::collections::BTreeSet<i64> = queued.iter().map(|q| q.0).collect();
    assert_eq!(ids.len(), 200, "each row its own id");
    let due = store
        .due_outbox("slack", Utc::now() + chrono::Duration::seconds(1), 1000)
        .await
        .unwrap();
    assert_eq!(due.len(), 200);
    let by_id: std::collections::HashMap<i64, _> = due.iter().map(|r| (r.id, r)).collect();
    for (id, channel, payload, paced) in queued {
        let row = by_id[&id];
        assert_eq!(
            (&row.channel, &row.payload, row.paced),
            (&channel, &payload, paced),
            "row {id} is the one its waiter queued"
        );
    }
}

both!(
    refusals_are_noted_on_their_channels_open_incident_only,
    refusal_notes
);
async fn refusal_notes(store: Store) {
    let incident = store
        .create_incident("Checkout down", "P0", "C_INC", "slack", Utc::now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("/kanban-off {i}");
            // Half in the incident's channel, half in a quiet one.
            let channel = if i % 2 == 0 { "C_INC" } else { "C_QUIET" };
            let note = format!("U_STRANGER was refused /kanban-off ({i}): not authorized");
            store
                .record_command(&command(&key, channel, Some(&note)))
                .await
                .unwrap()
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // The notes follow the records' answers: give the batch a moment.
    let mut notes = Vec::new();
    for _ in 0..50 {
        notes = store
            .timeline(&incident.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "denied")
            .collect();
        if notes.len() >= 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        notes.len(),
        30,
        "one note per refusal in the incident's channel"
    );
    for n in &notes {
        assert_eq!(n.actor.as_deref(), Some("U_STRANGER"));
        let i: i64 = n.text.split(['(', ')']).nth(1).unwrap().parse().unwrap();
        assert_eq!(
            i % 2,
            0,
            "a quiet channel's refusal noted on the incident: {}",
            n.text
        );
    }
    // A redelivery is not noted twice.
    let again = store
        .record_command(&command(
            "/kanban-off 0",
            "C_INC",
            Some("U_STRANGER was refused /kanban-off (0): not authorized"),
        ))
        .await
        .unwrap();
    assert_eq!(again, None);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let denied = store
        .timeline(&incident.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "denied")
        .count();
    assert_eq!(denied, 30);
}

both!(a_seal_of_many_write_turns_is_one_intact_chain, long_seal);
async fn long_seal(store: Store) {
    use warroom::store::AuditVerdict;
    // More rows than one write turn seals (128), so the seal takes several turns
    // and only the last moves the marks.
    for i in 0..700 {
        let key = format!("/x {i}");
        store
            .record_command(&command(&key, "C", None))
            .await
            .unwrap();
    }
    let n = store.seal_audit(Utc::now()).await.unwrap();
    assert_eq!(n, 700);
    assert_eq!(
        store.seal_audit(Utc::now()).await.unwrap(),
        0,
        "nothing twice"
    );
    match store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { entries, .. } => assert_eq!(entries, 700),
        broken => panic!("{broken:?}"),
    }
    // Two sealers at once (two replicas' ticks) still make one chain.
    for i in 700..1000 {
        let key = format!("/x {i}");
        store
            .record_command(&command(&key, "C", None))
            .await
            .unwrap();
    }
    let other = store.clone();
    let (a, b) = tokio::join!(store.seal_audit(Utc::now()), other.seal_audit(Utc::now()));
    assert_eq!(a.unwrap() + b.unwrap(), 300);
    match store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { entries, .. } => assert_eq!(entries, 1000),
        broken => panic!("{broken:?}"),
    }
}
