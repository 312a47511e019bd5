use super::*;

/// The shape prometheus.io/docs/alerting/latest/configuration/#webhook_config
/// documents for version 4, filled the way Alertmanager fills it (`endsAt` of a
/// firing alert is Go's zero time).
const DOCUMENTED: &str = r#"{
  "version": "4",
  "groupKey": "{}/{service=\"kanban\"}:{alertname=\"KanbanV2Errors\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "warroom",
  "groupLabels": {"alertname": "KanbanV2Errors"},
  "commonLabels": {"alertname": "KanbanV2Errors", "severity": "critical"},
  "commonAnnotations": {"summary": "Kanban V2 error rate 12%"},
  "externalURL": "http://alertmanager:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "KanbanV2Errors", "severity": "critical"},
      "annotations": {"summary": "Kanban V2 error rate 12%"},
      "startsAt": "2026-12-03T01:02:03.123Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
      "fingerprint": "c9ab3f1e2d4b5a60"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "KanbanV2Errors", "severity": "critical", "pod": "b"},
      "annotations": {},
      "startsAt": "2026-12-03T01:00:00Z",
      "endsAt": "2026-12-03T01:05:00Z",
      "generatorURL": "",
      "fingerprint": "0000000000000002"
    }
  ]
}"#;

#[test]
fn the_documented_version_4_payload_reads_as_its_alerts() {
    let alerts = parse_alertmanager(DOCUMENTED.as_bytes(), "4", "alertmanager").expect("parses");
    assert_eq!(alerts.len(), 2);
    let a = &alerts[0];
    assert_eq!(a.fingerprint, "c9ab3f1e2d4b5a60");
    assert_eq!(
        a.group_key,
        "{}/{service=\"kanban\"}:{alertname=\"KanbanV2Errors\"}"
    );
    assert_eq!(a.status, AlertStatus::Firing);
    assert_eq!(a.name(), "KanbanV2Errors");
    assert_eq!(a.summary(), "Kanban V2 error rate 12%");
    assert_eq!(a.ends_at, None, "Go's zero time is not an end");
    assert_eq!(alerts[1].status, AlertStatus::Resolved);
    assert_eq!(
        alerts[1].ends_at.map(|t| t.to_rfc3339()),
        Some("2026-12-03T01:05:00+00:00".into())
    );
}

#[test]
fn other_versions_and_shapes_are_refused_with_the_reason() {
    let v3 = DOCUMENTED.replace("\"version\": \"4\"", "\"version\": \"3\"");
    assert!(parse_alertmanager(v3.as_bytes(), "4", "alertmanager")
        .unwrap_err()
        .contains("version 3"));
    let bad = DOCUMENTED.replace("\"status\": \"resolved\"", "\"status\": \"gone\"");
    assert!(parse_alertmanager(bad.as_bytes(), "4", "alertmanager")
        .unwrap_err()
        .contains("gone"));
    for junk in ["", "[]", "{}", "null", "{\"version\":4}"] {
        assert!(
            parse_alertmanager(junk.as_bytes(), "4", "alertmanager").is_err(),
            "{junk}"
        );
    }
}

#[test]
fn only_the_exact_bearer_token_passes() {
    let secret = SecretString::from("s3cret-token".to_string());
    let with = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
        h
    };
    assert!(bearer_matches(&with("Bearer s3cret-token"), Some(&secret)));
    for wrong in [
        "Bearer s3cret-toke",
        "Bearer s3cret-token2",
        "Basic s3cret-token",
        "Bearer ",
        "s3cret-token",
    ] {
        assert!(!bearer_matches(&with(wrong), Some(&secret)), "{wrong}");
    }
    assert!(!bearer_matches(&HeaderMap::new(), Some(&secret)));
    // No token configured: nothing passes, not even an empty one.
    assert!(!bearer_matches(&with("Bearer "), None));
}
