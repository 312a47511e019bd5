//! The other alert sources over `warroom serve`'s HTTP, with payloads copied from
//! their publishers' documentation:
//! - Grafana's webhook contact point, the "Webhook JSON payload" example of
//!   https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
//!   (its `message` shortened), with a Bearer token;
//! - PagerDuty v3, the `incident.priority_updated` and `service.updated` examples of
//!   https://developer.pagerduty.com/docs/webhooks/v3-overview/ (PagerDuty/developer-docs,
//!   docs/webhooks/01-Overview.md), signed as
//!   https://developer.pagerduty.com/docs/webhooks/webhook-signatures/ describes
//!   (`v1=` hex HMAC-SHA256 of the body, several comma-separated in a rotation);
//! - warroom's generic webhook (README, "Alerts"), HMAC-signed with a timestamp.

mod common;

use common::fake_slack::FakeSlack;
use common::serve::{slack_team, team_env, with_slack, Served};
use common::StateDb;
use secrecy::SecretString;
use serde_json::Value;
use warroom::serve::hooks::sources::{generic_signature, pagerduty_signature};

const GRAFANA: &str = r#"{
  "receiver": "My Super Webhook",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "High memory usage",
        "team": "blue",
        "zone": "us-1"
      },
      "annotations": {
        "description": "The system has high memory usage",
        "runbook_url": "https://myrunbook.com/runbook/1234",
        "summary": "This alert was triggered for zone us-1"
      },
      "startsAt": "2021-10-12T09:51:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {
        "B": 44.23943737541908,
        "C": 1
      }
    },
    {
      "status": "firing",
      "labels": {
        "alertname": "High CPU usage",
        "team": "blue",
        "zone": "eu-1"
      },
      "annotations": {
        "description": "The system has high CPU usage",
        "runbook_url": "https://myrunbook.com/runbook/1234",
        "summary": "This alert was triggered for zone eu-1"
      },
      "startsAt": "2021-10-12T09:56:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
      "fingerprint": "bc97ff14869b13e3",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {
        "B": 44.23943737541908,
        "C": 1
      }
    }
  ],
  "groupLabels": {},
  "commonLabels": {
    "team": "blue"
  },
  "commonAnnotations": {},
  "externalURL": "https://play.grafana.org/",
  "version": "1",
  "groupKey": "{}:{}",
  "truncatedAlerts": 0,
  "title": "[FIRING:2]  (blue)",
  "state": "alerting",
  "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n"
}"#;

const PAGERDUTY: &str = r#"{
  "event": {
    "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
    "event_type": "incident.priority_updated",
    "resource_type": "incident",
    "occurred_at": "2020-10-02T18:45:22.169Z",
    "agent": {
      "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
      "id": "PLH1HKV",
      "self": "https://api.pagerduty.com/users/PLH1HKV",
      "summary": "Tenex Engineer",
      "type": "user_reference"
    },
    "client": {
      "name": "PagerDuty"
    },
    "data": {
      "id": "PGR0VU2",
      "type": "incident",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "number": 2,
      "status": "triggered",
      "incident_key": "d3640fbd41094207a1c11e58e46b1662",
      "created_at": "2020-04-09T15:16:27Z",
      "title": "A little bump in the road",
      "service": {
        "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
        "id": "PF9KMXH",
        "self": "https://api.pagerduty.com/services/PF9KMXH",
        "summary": "API Service",
        "type": "service_reference"
      },
      "assignees": [
        {
          "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
          "id": "PTUXL6G",
          "self": "https://api.pagerduty.com/users/PTUXL6G",
          "summary": "User 123",
          "type": "user_reference"
        }
      ],
      "escalation_policy": {
        "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
        "id": "PUS0KTE",
        "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
        "summary": "Default",
        "type": "escalation_policy_reference"
      },
      "teams": [
        {
          "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
          "id": "PFCVPS0",
          "self": "https://api.pagerduty.com/teams/PFCVPS0",
          "summary": "Engineering",
          "type": "team_reference"
        }
      ],
      "priority": {
        "html_url": "https://acme.pagerduty.com/account/incident_priorities",
        "id": "PSO75BM",
        "self": "https://api.pagerduty.com/priorities/PSO75BM",
        "summary": "P1",
        "type": "priority_reference"
      },
      "urgency": "high",
      "conference_bridge": {
        "conference_number": "+1 1234123412,,987654321#",
        "conference_url": "https://example.com"
      },
      "resolve_reason": null
    }
  }
}"#;

const PAGERDUTY_SERVICE: &str = r#"{
  "event": {
    "id": "01BRB6ZP4M6T8ZG4X6BP63ZB9O",
    "event_type": "service.updated",
    "resource_type": "service",
    "occurred_at": "2021-03-02T13:35:11.682Z",
    "agent": null,
    "client": null,
    "data": {
      "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
      "id": "PF9KMXH",
      "self": "https://api.pagerduty.com/services/PF9KMXH",
      "summary": "testing service updates",
      "alert_creation": "create_alerts_and_incidents",
      "teams": [
        {
          "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
          "id": "PFCVPS0",
          "self": "https://api.pagerduty.com/teams/PFCVPS0",
          "summary": "Engineering",
          "type": "team_reference"
        }
      ],
      "type": "service"
    }
  }
}"#;

const GRAFANA_TOKEN: &str = "grafana-token-1";
const PD_SECRET: &str = "ChangeMe-pd-signing-secret";
const WEBHOOK_SECRET: &str = "generic-webhook-secret";

async fn serve() -> (Served, common::Env, tempfile::TempDir, FakeSlack) {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    fake.invite("C_INC");
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    let s = |v: &str| Some(SecretString::from(v.to_string()));
    env.settings.hooks.grafana = s(GRAFANA_TOKEN);
    env.settings.hooks.pagerduty = s(PD_SECRET);
    env.settings.hooks.generic = s(WEBHOOK_SECRET);
    let served = Served::start(env.settings.clone()).await;
    (served, env, commands, fake)
}

#[tokio::test]
async fn grafanas_documented_payload_opens_one_incident_for_its_group() {
    let (served, _env, _c, _fake) = serve().await;
    let app = served.app("slack").clone();
    let http = reqwest::Client::new();
    let url = served.url("/hooks/grafana");
    let post = |auth: Option<&'static str>| {
        let mut r = http
            .post(&url)
            .header("content-type", "application/json")
            .body(GRAFANA);
        if let Some(a) = auth {
            r = r.bearer_auth(a);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 401);
    assert!(app.store.alerts().await.unwrap().is_empty());
    let r = post(Some(GRAFANA_TOKEN)).await.unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["alerts"], 2);
    assert_eq!(done["opened"].as_array().unwrap().len(), 1, "{done}");
    let alerts = app.store.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(alerts
        .iter()
        .all(|a| a.0 == "grafana" && a.3.as_deref() == done["opened"][0].as_str()));
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap();
    assert_eq!(incident.title, "This alert was triggered for zone us-1");
    assert_eq!(incident.severity, "P2", "no severity label: the default");
    // A delivery in Alertmanager's version is not Grafana's.
    let v4 = GRAFANA.replace("\"version\": \"1\"", "\"version\": \"4\"");
    let r = http
        .post(&url)
        .bearer_auth(GRAFANA_TOKEN)
        .body(v4)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    served.stop().await;
}

#[tokio::test]
async fn pagerduty_v3_is_verified_by_its_signature_and_its_incident_becomes_an_alert() {
    let (served, _env, _c, _fake) = serve().await;
    let app = served.app("slack").clone();
    let http = reqwest::Client::new();
    let url = served.url("/hooks/pagerduty");
    let secret = SecretString::from(PD_SECRET.to_string());
    let signed = pagerduty_signature(&secret, PAGERDUTY.as_bytes());
    let send = |body: String, sig: Option<String>| {
        let mut r = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-pagerduty-signature", s);
        }
        r.send()
    };
    for bad in [
        None,
        Some("v1=00".to_string()),
        Some(signed.replace("v1=", "v0=")),
        Some(pagerduty_signature(
            &SecretString::from("other".to_string()),
            PAGERDUTY.as_bytes(),
        )),
    ] {
        assert_eq!(
            send(PAGERDUTY.into(), bad.clone()).await.unwrap().status(),
            401,
            "{bad:?}"
        );
    }
    // The body changed after signing: refused.
    let tampered = PAGERDUTY.replace("A little bump", "A big bump");
    assert_eq!(
        send(tampered, Some(signed.clone())).await.unwrap().status(),
        401
    );
    assert!(app.store.alerts().await.unwrap().is_empty());
    // A rotation: an old secret's signature first, the current one second.
    let rotation = format!(
        "{},{signed}",
        pagerduty_signature(&SecretString::from("old".to_string()), PAGERDUTY.as_bytes())
    );
    let r = send(PAGERDUTY.into(), Some(rotation)).await.unwrap();
    assert_eq!(r.status(), 200);
    let incident = app
        .store
        .open_incident("C_INC")
        .await
        .unwrap()
        .expect("opened");
    assert_eq!(incident.title, "A little bump in the road");
    assert_eq!(incident.severity, "P1", "urgency high maps to P1");
    // A service event is answered and not recorded.
    let sig = pagerduty_signature(&secret, PAGERDUTY_SERVICE.as_bytes());
    let r = send(PAGERDUTY_SERVICE.into(), Some(sig)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.store.alerts().await.unwrap().len(), 1);
    // The incident resolved in PagerDuty: the alert resolves and resolve is offered.
    let resolved = PAGERDUTY
        .replace("incident.priority_updated", "incident.resolved")
        .replace("\"status\": \"triggered\"", "\"status\": \"resolved\"");
    let sig = pagerduty_signature(&secret, resolved.as_bytes());
    assert_eq!(send(resolved, Some(sig)).await.unwrap().status(), 200);
    let (_, status, _) = app
        .store
        .alert_record("pagerduty", "PGR0VU2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "resolved");
    let timeline = app.store.timeline(&incident.id).await.unwrap();
    assert!(timeline
        .iter()
        .any(|e| e.kind == "alert" && e.text.contains("resolved")));
    served.stop().await;
}

#[tokio::test]
async fn the_generic_webhook_takes_signed_fresh_deliveries_only() {
    let (served, _env, _c, _fake) = serve().await;
    let app = served.app("slack").clone();
    let http = reqwest::Client::new();
    let url = served.url("/hooks/generic");
    let secret = SecretString::from(WEBHOOK_SECRET.to_string());
    let body = r#"{"alerts": [{"id": "db-disk-91", "status": "firing", "group": "db",
        "labels": {"alertname": "DiskFull", "severity": "high", "component": "database"},
        "annotations": {"summary": "Database disk 91% full"},
        "starts_at": "2026-12-03T01:00:00Z"}]}"#;
    let send = |ts: i64, sig: String| {
        http.post(&url)
            .header("x-warroom-timestamp", ts.to_string())
            .header("x-warroom-signature", sig)
            .body(body)
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let stale = now - 600;
    for (ts, sig) in [
        (now, "v1=abcd".to_string()),
        (
            stale,
            generic_signature(&secret, &stale.to_string(), body.as_bytes()),
        ),
        (
            now,
            generic_signature(&secret, &(now + 1).to_string(), body.as_bytes()),
        ),
    ] {
        assert_eq!(send(ts, sig).await.unwrap().status(), 401);
    }
    assert!(app.store.alerts().await.unwrap().is_empty());
    let r = send(
        now,
        generic_signature(&secret, &now.to_string(), body.as_bytes()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let incident = app
        .store
        .open_incident("C_INC")
        .await
        .unwrap()
        .expect("opened");
    assert_eq!(incident.severity, "P1");
    assert_eq!(
        incident.component.as_deref(),
        Some("database"),
        "seed 004's component"
    );
    served.stop().await;
}
