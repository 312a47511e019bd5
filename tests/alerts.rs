//! Alerts into incidents, end to end against the real Prometheus Alertmanager
//! (Debian's `prometheus-alertmanager` 0.25): it notifies a `warroom serve` (Slack
//! over HTTP, against the fake Slack) through its webhook receiver, with a bearer
//! token. The incident opens in the routed channel with the suggested runbook and
//! a Run button; the on-call engineer presses it (Slack's signed `block_actions`
//! request); the run goes through the matrix like a typed command; the alert
//! resolves and `/incident resolve` is offered. An unauthenticated webhook is
//! refused and counted, and recorded nowhere.
//!
//! The webhook's JSON is Alertmanager's own; the payload-level tests post the
//! version 4 shape documented at
//! prometheus.io/docs/alerting/latest/configuration/#webhook_config.

mod common;

use common::alertmanager::Alertmanager;
use common::fake_slack::{FakeMessage, FakeSlack};
use common::serve::{
    eventually, slack_team, team_env, until, with_slack, Served, SLACK_SIGNING_SECRET,
};
use common::{kanban_enabled, StateDb};
use secrecy::SecretString;
use serde_json::{json, Value};
use warroom::chat::slack::signature::sign;
use warroom::config::{Route, Rule};

const TOKEN: &str = "am-token-3f9c2e";
const SUMMARY: &str = "Kanban V2 error rate 12% (threshold 5%)";

fn labels() -> Value {
    json!({"alertname": "KanbanV2Errors", "severity": "critical", "service": "kanban"})
}

async fn serve(fake: &FakeSlack) -> (Served, common::Env, tempfile::TempDir) {
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    env.settings.hooks.alertmanager = Some(SecretString::from(TOKEN.to_string()));
    let alerts = &mut env.settings.file.alerts;
    // Unrouted alerts would go elsewhere: the route is what puts this one in C_INC.
    alerts.channel = Some("C_OPS".into());
    alerts.routes = vec![Route {
        matchers: [("service".to_string(), "kanban".to_string())].into(),
        channel: "C_INC".into(),
    }];
    alerts.rules = vec![Rule {
        matchers: [("alertname".to_string(), "KanbanV2Errors".to_string())].into(),
        run: "/kanban-off reason=\"{annotations.summary}\"".into(),
    }];
    // README's setup: warroom is invited to the channels alerts open incidents in.
    fake.invite("C_INC");
    let served = Served::start(env.settings.clone()).await;
    (served, env, commands)
}

fn find(fake: &FakeSlack, needle: &str) -> Option<FakeMessage> {
    fake.messages("C_INC")
        .into_iter()
        .find(|m| m.text.contains(needle))
}

/// The buttons of a message: (action_id, value).
fn buttons(m: &FakeMessage) -> Vec<(String, String)> {
    m.blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["action_id"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Presses a button the way Slack does over HTTP: the `block_actions` payload
/// form-encoded and signed with the signing secret (v0).
async fn press(served: &Served, fake: &FakeSlack, user: &str, m: &FakeMessage, action: &str) {
    let payload = fake.button_press(user, "C_INC", &m.ts, action);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let ts = chrono::Utc::now().timestamp().to_string();
    let r = reqwest::Client::new()
        .post(served.url("/slack/interactivity"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            sign(SLACK_SIGNING_SECRET.as_bytes(), &ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn alertmanager_opens_the_incident_suggests_the_runbook_and_offers_resolve_after_it_clears() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (served, env, _commands) = serve(&fake).await;
    let app = served.app("slack").clone();
    let am = Alertmanager::start(&served.url("/hooks/alertmanager"), TOKEN).await;
    assert!(
        kanban_enabled(&env).await > 0,
        "the demo starts with Kanban V2 on"
    );

    let posted = std::time::Instant::now();
    am.post(labels(), json!({"summary": SUMMARY}), None).await;
    until("the incident opened by the alert", || {
        find(&fake, "opened by alert").is_some()
    })
    .await;
    // Alertmanager waits group_wait (1 s here) before it notifies.
    eprintln!(
        "alert posted -> incident opened in Slack: {:?}",
        posted.elapsed()
    );
    let opened = find(&fake, "opened by alert").unwrap();
    let incident = app
        .store
        .open_incident("C_INC")
        .await
        .unwrap()
        .expect("an incident open in the routed channel");
    assert_eq!(incident.severity, "P0", "severity=critical maps to P0");
    assert!(opened.text.contains(&incident.id), "{}", opened.text);
    assert!(opened.text.contains("Suggested runbook"), "{}", opened.text);
    assert!(
        fake.messages("C_OPS").is_empty(),
        "the route, not the default"
    );
    let want = format!("/kanban-off reason=\"{SUMMARY}\"");
    let run = buttons(&opened)
        .into_iter()
        .find(|(_, v)| v == &want)
        .unwrap_or_else(|| panic!("no Run button for {want}: {}", opened.blocks));
    // Only a suggestion so far: nothing ran.
    assert!(app
        .store
        .incident_runs(&incident.id)
        .await
        .unwrap()
        .is_empty());
    assert!(kanban_enabled(&env).await > 0);

    eprintln!("the opening message: {}", opened.text);
    let pressed = std::time::Instant::now();
    press(&served, &fake, "U_ONCALL", &opened, &run.0).await;
    eventually("the suggested run to succeed", || async {
        app.store
            .incident_runs(&incident.id)
            .await
            .unwrap()
            .iter()
            .any(|r| r.state.as_str() == "succeeded" && r.command == "kanban-off")
    })
    .await;
    eprintln!(
        "Run pressed -> /kanban-off succeeded: {:?}",
        pressed.elapsed()
    );
    assert_eq!(
        kanban_enabled(&env).await,
        0,
        "the run switched Kanban V2 off"
    );
    let runs = app.store.incident_runs(&incident.id).await.unwrap();
    assert_eq!(runs[0].requested_by.id, "U_ONCALL", "it ran as the presser");
    let commands = app.store.commands().await.unwrap();
    assert!(
        commands.iter().any(|(text, _, _)| text == &want),
        "the press was recorded as a command: {commands:?}"
    );

    // The alert clears: Alertmanager sends it resolved.
    let resolving = std::time::Instant::now();
    let ended = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    am.post(labels(), json!({"summary": SUMMARY}), Some(&ended))
        .await;
    until("the resolution to be offered", || {
        find(&fake, "resolved at")
            .is_some_and(|m| buttons(&m).iter().any(|(_, v)| v == "/incident resolve"))
    })
    .await;
    eprintln!(
        "alert resolved -> resolve offered: {:?}",
        resolving.elapsed()
    );
    let timeline = app.store.timeline(&incident.id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == "alert" && e.text.contains("resolved")),
        "the resolution is on the timeline"
    );
    let alerts = app.store.alerts().await.unwrap();
    assert_eq!(
        alerts.len(),
        1,
        "one alert, however often it was sent: {alerts:?}"
    );
    assert_eq!(alerts[0].2, "resolved");
    // Offered, not done: the incident stays open until someone resolves it.
    assert!(app.store.open_incident("C_INC").await.unwrap().is_some());
    let offer = find(&fake, "resolved at").unwrap();
    let (resolve, _) = buttons(&offer)
        .into_iter()
        .find(|(_, v)| v == "/incident resolve")
        .unwrap();
    press(&served, &fake, "U_IC", &offer, &resolve).await;
    eventually("the incident to be resolved", || async {
        app.store.open_incident("C_INC").await.unwrap().is_none()
    })
    .await;
    drop(am);
    served.stop().await;
}

#[tokio::test]
async fn an_unauthenticated_webhook_is_refused_counted_and_never_recorded() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (served, _env, _commands) = serve(&fake).await;
    let app = served.app("slack").clone();
    let body = json!({
        "version": "4", "groupKey": "{}:{alertname=\"KanbanV2Errors\"}", "status": "firing",
        "receiver": "warroom", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": labels(), "annotations": {"summary": SUMMARY},
                    "startsAt": "2026-12-03T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": "aaaa0000bbbb1111"}]
    });
    let http = reqwest::Client::new();
    let url = served.url("/hooks/alertmanager");
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some(&*format!("Bearer {TOKEN}x")),
        Some(&*format!("Basic {TOKEN}")),
    ] {
        let mut req = http.post(&url).json(&body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
    }
    assert!(
        app.store.alerts().await.unwrap().is_empty(),
        "nothing recorded"
    );
    assert!(app.store.open_incident("C_INC").await.unwrap().is_none());
    let metrics = http
        .get(served.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = metrics
        .lines()
        .find(|l| {
            l.starts_with("warroom_requests_refused_total{")
                && l.contains("source=\"alertmanager\"")
                && l.contains("reason=\"unauthenticated\"")
        })
        .unwrap_or_else(|| panic!("no refusal counted:\n{metrics}"));
    let n: f64 = refused.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 4.0, "{refused}");

    // The same delivery, authenticated, twice: recorded once, the repeat counted.
    for expect_dedup in [0, 1] {
        let r = http
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let done: Value = r.json().await.unwrap();
        assert_eq!(done["deduplicated"], expect_dedup, "{done}");
    }
    let alerts = app.store.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    let (received, _, incident) = app
        .store
        .alert_record("alertmanager", "aaaa0000bbbb1111")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, 2);
    assert!(incident.is_some());
    served.stop().await;
}

/// Two replicas (two apps, two pools, one state database) each receive a
/// different first alert of one group at the same moment: one incident opens,
/// and both alerts are on it.
async fn replicas_open_one_incident_per_group(db: StateDb) {
    use std::collections::BTreeMap;
    use warroom::model::alert::{Alert, AlertStatus};
    let (env, _commands) = team_env(db).await;
    let (a, _) = env.app_on("slack").await;
    let (b, _) = env.app_on("slack").await;
    let alert = |fp: &str| Alert {
        source: "alertmanager",
        fingerprint: fp.into(),
        group_key: "{}:{alertname=\"KanbanV2Errors\"}".into(),
        status: AlertStatus::Firing,
        labels: BTreeMap::from([("alertname".to_string(), "KanbanV2Errors".to_string())]),
        annotations: BTreeMap::new(),
        starts_at: chrono::Utc::now(),
        ends_at: None,
    };
    let (x, y) = (alert("pod-a"), alert("pod-b"));
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let (ra, rb) = {
        let (a, b) = (a.clone(), b.clone());
        let ta = tokio::spawn(async move { a.receive_alerts(&[x]).await.map(|r| r.opened) });
        let tb = tokio::spawn(async move { b.receive_alerts(&[y]).await.map(|r| r.opened) });
        (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap())
    };
    assert_eq!(ra.len() + rb.len(), 1, "one opened: {ra:?} {rb:?}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(a.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    let alerts = a.store.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts.iter().all(|r| r.3 == alerts[0].3 && r.3.is_some()),
        "{alerts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_open_one_incident_per_group_on_sqlite() {
    replicas_open_one_incident_per_group(StateDb::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_open_one_incident_per_group_on_postgres() {
    replicas_open_one_incident_per_group(StateDb::Postgres).await;
}
