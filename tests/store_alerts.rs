//! The alert and status-page tables on both backends (a fresh SQLite file and a
//! fresh PostgreSQL database): deduplication by fingerprint, changes by
//! compare-and-set, groups to incidents, stakeholder posts as they read, and the
//! metrics sample.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use common::fresh_postgres;
use warroom::model::alert::{Alert, AlertStatus, Seen};
use warroom::store::Store;

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    (store, dir)
}

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
                let store = warroom::store::Store::connect(&super::fresh_postgres().await)
                    .await
                    .unwrap();
                super::$body(store).await;
            }
        }
    };
}

fn alert(status: AlertStatus, starts_min: i64) -> Alert {
    let t = Utc.with_ymd_and_hms(2026, 12, 3, 1, 0, 0).unwrap();
    Alert {
        source: "alertmanager",
        fingerprint: "fp1".into(),
        group_key: "g1".into(),
        status,
        labels: BTreeMap::from([("alertname".to_string(), "X".to_string())]),
        annotations: BTreeMap::new(),
        starts_at: t + Duration::minutes(starts_min),
        ends_at: None,
    }
}

both!(alerts_are_deduplicated_and_change_once, alerts);
async fn alerts(store: Store) {
    let now = Utc::now();
    let fire = alert(AlertStatus::Firing, 0);
    assert_eq!(store.record_alert(&fire, now).await.unwrap(), Seen::New);
    assert_eq!(
        store.record_alert(&fire, now).await.unwrap(),
        Seen::Repeat { incident_id: None }
    );
    let inc = store
        .create_incident("X", "P0", "C", "slack", now)
        .await
        .unwrap();
    store
        .attach_alert("alertmanager", "fp1", &inc.id)
        .await
        .unwrap();
    assert_eq!(
        store.group_incident("alertmanager", "g1").await.unwrap(),
        Some(inc.id.clone())
    );
    assert_eq!(store.group_incident("grafana", "g1").await.unwrap(), None);
    assert_eq!(store.firing_alerts(&inc.id).await.unwrap(), 1);
    let resolved = alert(AlertStatus::Resolved, 0);
    assert_eq!(
        store.record_alert(&resolved, now).await.unwrap(),
        Seen::Changed {
            incident_id: Some(inc.id.clone())
        }
    );
    assert_eq!(
        store.record_alert(&resolved, now).await.unwrap(),
        Seen::Repeat {
            incident_id: Some(inc.id.clone())
        }
    );
    assert_eq!(store.firing_alerts(&inc.id).await.unwrap(), 0);
    // Fired again later: a change of the same row.
    assert!(matches!(
        store
            .record_alert(&alert(AlertStatus::Firing, 30), now)
            .await
            .unwrap(),
        Seen::Changed { .. }
    ));
    let (received, status, _) = store
        .alert_record("alertmanager", "fp1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((received, status.as_str()), (5, "firing"));
    // A resolved incident is no group's any more.
    store
        .set_incident_status(&inc.id, "resolved", now)
        .await
        .unwrap();
    assert_eq!(
        store.group_incident("alertmanager", "g1").await.unwrap(),
        None
    );
    assert_eq!(store.alerts().await.unwrap().len(), 1);
}

both!(stakeholder_posts_read_as_their_last_edit, status_posts);
async fn status_posts(store: Store) {
    let now = Utc::now();
    let old = store
        .create_incident("old", "P1", "C1", "slack", now - Duration::days(100))
        .await
        .unwrap();
    store
        .set_incident_status(&old.id, "resolved", now - Duration::days(99))
        .await
        .unwrap();
    let open = store
        .create_incident("open", "P0", "C2", "slack", now)
        .await
        .unwrap();
    store
        .record_status_post(&old.id, "long ago", false, now - Duration::days(100))
        .await
        .unwrap();
    store
        .record_status_post(&open.id, "first", false, now)
        .await
        .unwrap();
    store
        .record_status_post(&open.id, "first, edited", true, now)
        .await
        .unwrap();
    store
        .record_status_post(&open.id, "second", false, now)
        .await
        .unwrap();
    let since = now - Duration::days(90);
    let posts = store.status_posts_since(since).await.unwrap();
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["first, edited", "second"]);
    let listed: Vec<String> = store
        .incidents_since(since)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![open.id]);
    assert_eq!(
        store.incidents_detected_since(since).await.unwrap().len(),
        1
    );
    let sample = store.sample(now).await.unwrap();
    assert_eq!(sample.open_incidents, vec![("P0".to_string(), 1)]);
    assert!(sample.outbox.is_empty());
}

both!(the_report_counts_drills_done_and_rto_breaches, report);
async fn report(store: Store) {
    use warroom::store::DrillRun;
    let now = Utc::now();
    // Two configured drills: seed 000's monthly DR test and seed 002's quarterly one.
    let drill = |every: &str| warroom::config::Drill {
        run: "/dr drill /var/backups/x.dump".into(),
        every: Some(every.into()),
        source: "seed".into(),
        targets: Default::default(),
        staging: vec![],
        vars: Default::default(),
        programs: vec![],
    };
    let configured = std::collections::BTreeMap::from([
        ("monthly".to_string(), drill("30d")),
        ("quarterly".to_string(), drill("90d")),
    ]);
    let done = |run_id, name: &str, outcome: &str, days| DrillRun {
        run_id,
        name: name.into(),
        outcome: outcome.into(),
        started_at: now - Duration::days(days) - Duration::minutes(5),
        finished_at: now - Duration::days(days),
    };
    store
        .record_drill(&done(1, "monthly", "succeeded", 3))
        .await
        .unwrap();
    store
        .record_drill(&done(2, "monthly", "failed", 40))
        .await
        .unwrap();
    // Recorded twice (a retried end), counted once.
    store
        .record_drill(&done(2, "monthly", "failed", 40))
        .await
        .unwrap();
    // Before the window.
    store
        .record_drill(&done(3, "monthly", "succeeded", 90))
        .await
        .unwrap();
    // A P0 open for an hour: past its 5-minute RTO.
    let late = store
        .create_incident("late", "P0", "C2", "console", now - Duration::hours(1))
        .await
        .unwrap();
    let clocks = warroom::config::Clocks::default();
    let r = warroom::export::report::gather(
        &store,
        &clocks,
        &configured,
        now - Duration::days(60),
        now,
    )
    .await
    .unwrap();
    assert_eq!(r.incidents, 1);
    assert_eq!(r.drills["monthly"].done, 1);
    assert_eq!(r.drills["monthly"].failed, 1);
    assert_eq!(r.drills["monthly"].due, 2, "60 days: two monthly drills");
    assert_eq!(r.drills["quarterly"].due, 1, "at least one");
    assert_eq!(r.drills["quarterly"].done, 0);
    let (last, last_ok) = store.last_drills("monthly").await.unwrap();
    assert_eq!(last.map(|d| d.run_id), Some(1));
    assert_eq!(last_ok.map(|d| d.run_id), Some(1));
    let breached: Vec<&str> = r.breaches.iter().map(|b| b.incident.as_str()).collect();
    assert_eq!(breached, [late.id.as_str()]);
    assert_eq!(r.by_severity["P0"].breaches, 1);
}

both!(a_drills_overdue_date_is_reminded_once, drill_reminders);
async fn drill_reminders(store: Store) {
    let now = Utc::now();
    let (since, reminded) = store.drill_clock("monthly", now).await.unwrap();
    assert_eq!(since.timestamp_millis(), now.timestamp_millis());
    assert_eq!(reminded, None);
    // Seen again later: the first sighting stays.
    let (again, _) = store
        .drill_clock("monthly", now + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(again, since);
    let due = now + Duration::days(30);
    assert!(store.claim_drill_reminder("monthly", due).await.unwrap());
    assert!(
        !store.claim_drill_reminder("monthly", due).await.unwrap(),
        "told once"
    );
    assert!(store
        .claim_drill_reminder("monthly", due + Duration::days(30))
        .await
        .unwrap());
}

both!(a_group_is_claimed_once_until_its_incident_resolves, claims);
async fn claims(store: Store) {
    use warroom::store::GroupClaim;
    let now = Utc::now();
    let long = Duration::seconds(30);
    let claim = |at| store.claim_alert_group("alertmanager", "g", at, long);
    assert_eq!(claim(now).await.unwrap(), GroupClaim::Mine);
    assert_eq!(claim(now).await.unwrap(), GroupClaim::Opening);
    // The claimer died before naming an incident: taken over once stale.
    assert_eq!(
        claim(now + Duration::seconds(31)).await.unwrap(),
        GroupClaim::Mine
    );
    let inc = store
        .create_incident("g", "P0", "C", "slack", now)
        .await
        .unwrap();
    store
        .set_group_incident("alertmanager", "g", &inc.id)
        .await
        .unwrap();
    assert_eq!(
        store
            .claimed_group_incident("alertmanager", "g")
            .await
            .unwrap(),
        Some(inc.id.clone())
    );
    // An open incident holds the group however old the claim.
    assert_eq!(
        claim(now + Duration::hours(5)).await.unwrap(),
        GroupClaim::Opening
    );
    store
        .set_incident_status(&inc.id, "resolved", now)
        .await
        .unwrap();
    assert_eq!(claim(now).await.unwrap(), GroupClaim::Mine, "fired again");
    assert_eq!(
        store
            .claimed_group_incident("alertmanager", "g")
            .await
            .unwrap(),
        None
    );
}
