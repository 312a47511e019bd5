//! `/metrics` of `warroom serve`, scraped after real traffic (a signed Slack
//! command accepted, one refused, an alert, an acknowledgement) and parsed by a
//! strict reader of the Prometheus text format, version 0.0.4
//! (prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
//! `# HELP`/`# TYPE` lines, one TYPE per family before its samples, a family's
//! samples together, names and label names of the allowed characters, label
//! values quoted with only `\\`, `\"` and `\n` escaped, float values, and each
//! histogram's buckets cumulative up to `le="+Inf"`, which equals its `_count`.
//! Label values stay bounded: no user id or typed text becomes one.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::fake_slack::FakeSlack;
use common::serve::{eventually, slack_team, team_env, with_slack, Served, SLACK_SIGNING_SECRET};
use common::StateDb;
use secrecy::SecretString;
use serde_json::json;
use warroom::chat::slack::signature::sign;

/// A series' labels other than `le`.
type Series = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

fn value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        v => v.parse().map_err(|_| format!("`{v}` is not a float")),
    }
}

/// `{a="x",b="y"}` → labels, and the rest of the line.
fn labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut out = BTreeMap::new();
    let Some(mut rest) = s.strip_prefix('{') else {
        return Ok((out, s));
    };
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((out, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !is_name(name, false) {
            return Err(format!("bad label name `{name}`"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut v = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                    '\\' => v.push('\\'),
                    '"' => v.push('"'),
                    'n' => v.push('\n'),
                    c => return Err(format!("escape \\{c} is not in the format")),
                },
                (i, '"') => break i,
                (_, '\n') => return Err("raw line break in a label value".into()),
                (_, c) => v.push(c),
            }
        };
        if out.insert(name.to_string(), v).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// Parses the whole exposition or says which line breaks the format.
fn parse(text: &str) -> Result<(BTreeMap<String, String>, Vec<Sample>), String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let family_of = |name: &str, types: &BTreeMap<String, String>| -> String {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if matches!(
                    types.get(base).map(String::as_str),
                    Some("histogram" | "summary")
                ) {
                    return base.to_string();
                }
            }
        }
        name.to_string()
    };
    for (n, line) in text.lines().enumerate() {
        let err = |why: String| format!("line {}: {why}: {line}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["TYPE", name, kind] => {
                    if !is_name(name, true) {
                        return Err(err("bad metric name".into()));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                        return Err(err(format!("unknown type {kind}")));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(err("second TYPE for a family".into()));
                    }
                    if samples
                        .iter()
                        .any(|s: &Sample| family_of(&s.name, &types) == *name)
                    {
                        return Err(err("TYPE after the family's samples".into()));
                    }
                }
                ["HELP", name, ..] if is_name(name, true) => {}
                ["HELP", ..] => return Err(err("bad HELP".into())),
                _ => {} // other comments are allowed
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| err("no value".into()))?;
        let name = &line[..name_end];
        if !is_name(name, true) {
            return Err(err("bad metric name".into()));
        }
        let (labels, rest) = labels(&line[name_end..]).map_err(err)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if !rest.starts_with(' ') || fields.is_empty() || fields.len() > 2 {
            return Err(err("expected ` value [timestamp]`".into()));
        }
        let value = value(fields[0]).map_err(err)?;
        if let Some(ts) = fields.get(1) {
            ts.parse::<i64>().map_err(|_| err("bad timestamp".into()))?;
        }
        let family = family_of(name, &types);
        if current.as_deref() != Some(&family) {
            if finished.contains(&family) {
                return Err(err("a family's samples are not together".into()));
            }
            if let Some(c) = current.replace(family.clone()) {
                finished.insert(c);
            }
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    // Histograms: cumulative buckets ending at +Inf == _count, and a _sum.
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        let mut series: BTreeMap<Series, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le = value(
                s.labels
                    .get("le")
                    .ok_or(format!("{family} bucket without le"))?,
            )?;
            let key: Vec<(String, String)> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, s.value));
        }
        for (key, buckets) in series {
            let find = |suffix: &str| {
                samples.iter().find(|s| {
                    s.name == format!("{family}{suffix}")
                        && s.labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Vec<_>>()
                            == key
                })
            };
            let count = find("_count").ok_or(format!("{family} {key:?} has no _count"))?;
            find("_sum").ok_or(format!("{family} {key:?} has no _sum"))?;
            let mut last = (f64::NEG_INFINITY, 0.0);
            for &(le, n) in &buckets {
                if le <= last.0 || n < last.1 {
                    return Err(format!("{family} {key:?}: buckets not cumulative"));
                }
                last = (le, n);
            }
            if last.0 != f64::INFINITY || last.1 != count.value {
                return Err(format!("{family} {key:?}: +Inf bucket is not _count"));
            }
        }
    }
    Ok((types, samples))
}

#[test]
fn the_strict_reader_refuses_what_the_format_does_not_allow() {
    let ok =
        "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3\n";
    assert_eq!(parse(ok).unwrap().1[0].labels["y"], "q\"\\\n");
    for bad in [
        "1abc 3\n",
        "a{x=1} 3\n",
        "a{x=\"1\"}3\n",
        "a{x=\"\\t\"} 3\n",
        "a three\n",
        "# TYPE a counter\n# TYPE a gauge\n",
        "a 1\nb 1\na 2\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

async fn slash(served: &Served, user: &str, command: &str, text: &str, trigger: &str) -> String {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("command", command)
        .append_pair("text", text)
        .append_pair("user_id", user)
        .append_pair("channel_id", "C_INC")
        .append_pair("trigger_id", trigger)
        .finish();
    let ts = chrono::Utc::now().timestamp().to_string();
    reqwest::Client::new()
        .post(served.url("/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            sign(SLACK_SIGNING_SECRET.as_bytes(), &ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_what_happened_with_bounded_labels() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    fake.invite("C_INC");
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    env.settings.hooks.alertmanager = Some(SecretString::from("t".to_string()));
    let served = Served::start(env.settings.clone()).await;
    let app = served.app("slack").clone();
    let http = reqwest::Client::new();
    let alert = json!({
        "version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing",
        "receiver": "warroom", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "X", "severity": "critical"},
                    "annotations": {"summary": "typed-words-never-labels"},
                    "startsAt": "2026-12-03T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "", "fingerprint": "f00d"}]
    });
    for _ in 0..2 {
        let r = http
            .post(served.url("/hooks/alertmanager"))
            .bearer_auth("t")
            .json(&alert)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let refused = slash(
        &served,
        "U_STRANGER",
        "/kanban-off",
        "reason=\"secret words here\"",
        "t1",
    )
    .await;
    assert!(refused.contains("not"), "{refused}");
    let accepted = slash(
        &served,
        "U_ONCALL",
        "/kanban-off",
        "reason=\"secret words here\"",
        "t2",
    )
    .await;
    assert!(accepted.contains("accepted"), "{accepted}");
    slash(&served, "U_IC", "/ack", "", "t3").await;
    eventually("every command to be handled", || async {
        app.store
            .commands()
            .await
            .unwrap()
            .iter()
            .all(|(_, o, _)| o != "received")
            && app
                .store
                .incident_runs(&app.store.open_incident("C_INC").await.unwrap().unwrap().id)
                .await
                .unwrap()
                .iter()
                .any(|r| !r.state.is_live())
    })
    .await;

    let r = http.get(served.url("/metrics")).send().await.unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let (types, samples) = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let get = |name: &str, want: &[(&str, &str)]| -> f64 {
        samples
            .iter()
            .filter(|s| {
                s.name == name
                    && want
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    };
    assert_eq!(
        get(
            "warroom_commands_total",
            &[("command", "kanban-off"), ("outcome", "denied")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_commands_total",
            &[("command", "kanban-off"), ("outcome", "done")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_commands_total",
            &[("command", "ack"), ("outcome", "done")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_acks_total",
            &[("platform", "slack"), ("answer", "refused")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_acks_total",
            &[("platform", "slack"), ("answer", "accepted")]
        ),
        2.0
    );
    assert_eq!(
        types.get("warroom_ack_seconds").map(String::as_str),
        Some("histogram")
    );
    assert_eq!(
        get("warroom_ack_seconds_count", &[("platform", "slack")]),
        3.0
    );
    assert_eq!(
        get(
            "warroom_alerts_received_total",
            &[("source", "alertmanager")]
        ),
        2.0
    );
    assert_eq!(
        get(
            "warroom_alerts_deduplicated_total",
            &[("source", "alertmanager")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_runs_total",
            &[("command", "kanban-off"), ("outcome", "succeeded")]
        ),
        1.0
    );
    assert!(get("warroom_steps_total", &[("command", "kanban-off")]) >= 2.0);
    assert!(
        get(
            "warroom_step_duration_seconds_count",
            &[("command", "kanban-off")]
        ) >= 1.0
    );
    assert_eq!(get("warroom_incidents_open", &[("severity", "P0")]), 1.0);
    assert_eq!(
        get(
            "warroom_time_to_acknowledge_seconds_count",
            &[("severity", "P0")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "warroom_time_to_mitigate_seconds_count",
            &[("severity", "P0")]
        ),
        1.0
    );
    assert!(types.contains_key("warroom_outbox_depth"), "{text}");
    for family in [
        "warroom_ack_seconds",
        "warroom_commands_total",
        "warroom_incidents_open",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} is not described"
        );
    }
    assert!(types.contains_key("warroom_outbox_oldest_age_seconds"));
    // Bounded labels: nothing typed or personal became a label value.
    for s in &samples {
        for v in s.labels.values() {
            for private in ["U_", "secret", "typed-words", "C_INC", "INC-"] {
                assert!(!v.contains(private), "{} has label value {v}", s.name);
            }
        }
    }
    served.stop().await;
}

/// Issue 14: `/healthz` answered `ok` with the state database down. It says what is
/// down (503), and `/readyz` tells a load balancer not to send commands here.
/// Status codes as Kubernetes' probes read them (any code from 200 to 399 passes:
/// https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/).
#[tokio::test]
async fn health_and_readiness_say_when_the_state_database_is_down() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    let served = Served::start(env.settings.clone()).await;
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let http = http.clone();
        let url = served.url(path);
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (code, body) = get("/healthz").await;
    assert!(
        code == 200 && body.starts_with("ok: the state database answers"),
        "{code} {body}"
    );
    let (code, body) = get("/readyz").await;
    assert_eq!((code, body.as_str()), (200, "ready\n"));

    // Slack refuses every post for over a minute (HTTP 500): /healthz says Slack
    // is down; /readyz does not (restarting warroom would not bring Slack back).
    for _ in 0..50 {
        fake.fail_next("chat.postMessage", common::fake_slack::Failure::ServerError);
    }
    let app = served.app("slack");
    app.send(&warroom::chat::Post::new(
        "C_STATUS",
        warroom::chat::PostKind::Info,
        "a post Slack will not take",
    ))
    .await;
    let store = app.store.clone();
    let mut failed = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(attempts), 0) FROM outbox WHERE state = 'pending'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if n > 0 {
            failed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(failed, "the post was tried and failed");
    // As if it had kept failing for two minutes.
    sqlx::query("UPDATE outbox SET created_at = created_at - 120000 WHERE state = 'pending'")
        .execute(store.pool())
        .await
        .unwrap();
    let (code, body) = get("/healthz").await;
    assert!(
        code == 503
            && body.starts_with("down: slack does not take warroom's posts")
            && body.contains("Slack answered HTTP 500"),
        "{code} {body}"
    );
    let (code, _) = get("/readyz").await;
    assert_eq!(code, 200);
    served.app("slack").store.close().await;
    let (code, body) = get("/healthz").await;
    assert!(
        code == 503 && body.starts_with("down: the state database does not answer"),
        "{code} {body}"
    );
    let (code, body) = get("/readyz").await;
    assert!(
        code == 503 && body.starts_with("not ready"),
        "{code} {body}"
    );
    served.stop().await;
}
