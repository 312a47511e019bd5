//! The same incident on Slack and on Discord: one script, typed the way each
//! platform takes it, produces the same timeline and the same post-mortem; and one
//! `warroom serve` runs both platforms at once on one database.

mod common;

use std::collections::BTreeMap;

use common::fake_discord::{self, FakeDiscord, FakeMessage as DiscordMessage, CHANNEL_ID};
use common::fake_slack::{slash_command, FakeMessage as SlackMessage, FakeSlack};
use common::serve::{
    discord_ids, eventually, slack_team, team_env, until, with_discord, with_slack, Served,
};
use common::StateDb;
use serde_json::{json, Value};
use warroom::app::App;

/// What each step of the incident says, and who says it, by role.
const DECLARE: &str = "declare P1 \"Kanban drag and drop is slow\" impact=\"12 companies\"";
const ROLLBACK: &str = "reason=\"slow drag and drop\" top=3 settle=1s";
const NOTE: &str = "verified by hand in the Kanban UI";
const RESOLVE: &str = "resolve";

async fn incident_id(app: &App) -> String {
    let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM incidents ORDER BY declared_at")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    rows.last().cloned().expect("an incident")
}

/// Every command received so far has been handled (as a person would wait to see
/// the answer before typing the next one).
async fn settled(app: &App) -> bool {
    app.store
        .commands()
        .await
        .unwrap()
        .iter()
        .all(|(_, outcome, _)| outcome != "received")
}

async fn run_succeeded(app: &App) -> bool {
    app.store
        .run(1)
        .await
        .unwrap()
        .is_some_and(|r| r.state.as_str() == "succeeded")
}

async fn export(app: &App) -> Value {
    let id = incident_id(app).await;
    let json = warroom::export::export(&app.store, &id, warroom::export::Format::Json, |_| None)
        .await
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

/// Replaces what must differ between platforms (ids, clock times, durations) with
/// placeholders, leaving what must not.
fn normalize(v: &Value, ids: &BTreeMap<String, &str>) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (from, to) in ids {
                s = s.replace(from.as_str(), to);
            }
            let patterns = [
                (r"INC-\d{8}-\d{3}", "INC"),
                (r"\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\+?[\d:]*", "TIME"),
                (r"\b\d{2}:\d{2}\b", "HH:MM"),
                (r"\b\d+(\.\d+)? ?(ms|s|min)\b", "N"),
            ];
            for (re, to) in patterns {
                s = regex::Regex::new(re)
                    .unwrap()
                    .replace_all(&s, to)
                    .into_owned();
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, ids)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let timeless = [
                        "at",
                        "created_at",
                        "started_at",
                        "finished_at",
                        "duration_ms",
                    ];
                    let x = if timeless.contains(&k.as_str()) || k.ends_with("_at") {
                        Value::Null
                    } else {
                        normalize(x, ids)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Number(_) => Value::Null,
        other => other.clone(),
    }
}

async fn on_slack() -> Value {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), false);
    let served = Served::start(env.settings.clone()).await;
    fake.wait_for_live_connections(1).await;
    let app = served.app("slack").clone();
    let mut n = 0;
    let mut say = |user: &str, command: &str, text: &str| {
        n += 1;
        let payload = slash_command(user, "C_INC", command, text, &format!("t-{n}"));
        let (fake, app) = (fake.clone(), app.clone());
        async move {
            let ack = fake.send_envelope("slash_commands", payload).await;
            assert!(ack.to_string().contains("accepted"), "{ack}");
            eventually("the command to be handled", || settled(&app)).await;
        }
    };
    say("U_IC", "/incident", DECLARE).await;
    eventually("the incident", || async {
        app.store.open_incident("C_INC").await.unwrap().is_some()
    })
    .await;
    say("U_ONCALL", "/kanban-selective-off", ROLLBACK).await;
    let find = |needle: &str| -> Option<SlackMessage> {
        fake.messages("C_INC")
            .into_iter()
            .find(|m| m.text.contains(needle))
    };
    until("the approval request", || find("needs approval").is_some()).await;
    let request = find("needs approval").unwrap();
    let press = fake.button_press("U_LEAD", "C_INC", &request.ts, "warroom-0");
    fake.send_envelope("interactive", press).await;
    eventually("the run", || run_succeeded(&app)).await;
    eventually("the approval to be handled", || settled(&app)).await;
    say("U_IC", "/note", NOTE).await;
    say(
        "U_IC",
        "/action",
        "\"add kanban error alerting\" owner=@U_ONCALL due=2026-12-01",
    )
    .await;
    say("U_IC", "/incident", RESOLVE).await;
    eventually("the resolution", || async {
        app.store.open_incident("C_INC").await.unwrap().is_none()
    })
    .await;
    let doc = export(&app).await;
    served.stop().await;
    doc
}

async fn on_discord() -> Value {
    use discord_ids::*;
    let fake = FakeDiscord::start().await;
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_discord(&mut env.settings, &fake, true);
    let served = Served::start(env.settings.clone()).await;
    let url = served.url("/discord/interactions");
    let mut n = 5000;
    let mut next = || {
        n += 1;
        n
    };
    let app = served.app("discord").clone();
    let say = |id: u64, user: u64, name: &str, options: Value| {
        let payload = fake_discord::command_interaction(
            id,
            &format!("tok-{id}"),
            user,
            CHANNEL_ID,
            &[],
            name,
            options,
        );
        let (fake, url, app) = (fake.clone(), url.clone(), app.clone());
        async move {
            let (status, answer) = fake.post_interaction(&url, &payload).await;
            assert_eq!(status, 200);
            assert!(answer.to_string().contains("accepted"), "{answer}");
            eventually("the command to be handled", || settled(&app)).await;
        }
    };
    let text = |t: &str| json!([{ "name": "text", "type": 3, "value": t }]);
    let channel = CHANNEL_ID.to_string();
    say(next(), IC, "incident", text(DECLARE)).await;
    eventually("the incident", || async {
        app.store.open_incident(&channel).await.unwrap().is_some()
    })
    .await;
    let options = json!([
        { "name": "reason", "type": 3, "value": "slow drag and drop" },
        { "name": "top", "type": 4, "value": 3 },
        { "name": "settle", "type": 3, "value": "1s" },
    ]);
    say(next(), ONCALL, "kanban-selective-off", options).await;
    let find = |needle: &str| -> Option<DiscordMessage> {
        fake.channel_messages(CHANNEL_ID)
            .into_iter()
            .find(|m| m.content.contains(needle))
    };
    until("the approval request", || find("needs approval").is_some()).await;
    let request = find("needs approval").unwrap();
    let id = next();
    let press = fake_discord::button_interaction(
        id,
        &format!("tok-{id}"),
        LEAD,
        CHANNEL_ID,
        &[],
        "/approve RUN-1",
        request.json(),
    );
    let (status, _) = fake.post_interaction(&url, &press).await;
    assert_eq!(status, 200);
    eventually("the run", || run_succeeded(&app)).await;
    eventually("the approval to be handled", || settled(&app)).await;
    say(next(), IC, "note", text(NOTE)).await;
    let action = format!("\"add kanban error alerting\" owner=@{ONCALL} due=2026-12-01");
    say(next(), IC, "action", text(&action)).await;
    say(next(), IC, "incident", text(RESOLVE)).await;
    eventually("the resolution", || async {
        app.store.open_incident(&channel).await.unwrap().is_none()
    })
    .await;
    let doc = export(&app).await;
    served.stop().await;
    doc
}

#[tokio::test]
async fn one_incident_typed_on_slack_and_on_discord_gives_the_same_timeline_and_export() {
    let slack = on_slack().await;
    let discord = on_discord().await;
    use discord_ids::*;
    let ids: BTreeMap<String, &str> = [
        (CHANNEL_ID.to_string(), "C_INC"),
        (STATUS_CHANNEL.to_string(), "C_STATUS"),
        (ONCALL.to_string(), "U_ONCALL"),
        (LEAD.to_string(), "U_LEAD"),
        (IC.to_string(), "U_IC"),
    ]
    .into_iter()
    .collect();
    let none = BTreeMap::new();
    let (mut slack, mut discord) = (normalize(&slack, &none), normalize(&discord, &ids));
    // The same people take part; each platform knows them by its own names.
    let people = |doc: &mut Value| -> Vec<Value> {
        let list = doc["people"].take();
        let mut ids: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].clone())
            .collect();
        ids.sort_by_key(|v| v.to_string());
        ids
    };
    assert_eq!(people(&mut slack), people(&mut discord));
    let kinds = |doc: &Value| -> Vec<String> {
        doc["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} | {} | {}", e["kind"], e["actor"], e["text"]))
            .collect()
    };
    assert_eq!(kinds(&slack), kinds(&discord));
    assert!(kinds(&slack).len() >= 10, "{:#?}", kinds(&slack));
    assert_eq!(slack, discord);
}

#[tokio::test]
async fn one_serve_runs_slack_and_discord_at_once_on_one_database() {
    let slack = FakeSlack::start().await;
    slack_team(&slack);
    let discord = FakeDiscord::start().await;
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &slack.api_url(), false);
    with_discord(&mut env.settings, &discord, true);
    let served = Served::start(env.settings.clone()).await;
    slack.wait_for_live_connections(1).await;
    // One incident on each platform.
    let ack = slack
        .send_envelope(
            "slash_commands",
            slash_command(
                "U_IC",
                "C_INC",
                "/incident",
                "declare P2 \"Search slow\"",
                "t-1",
            ),
        )
        .await;
    assert!(ack.to_string().contains("accepted"), "{ack}");
    let payload = fake_discord::command_interaction(
        7001,
        "tok-7001",
        discord_ids::IC,
        CHANNEL_ID,
        &[],
        "incident",
        json!([{ "name": "text", "type": 3, "value": "declare P2 \"Login slow\"" }]),
    );
    let (status, _) = discord
        .post_interaction(&served.url("/discord/interactions"), &payload)
        .await;
    assert_eq!(status, 200);
    // Each platform's posts reach its own chat, and only its own.
    until("the Slack declaration", || {
        slack
            .messages("C_INC")
            .iter()
            .any(|m| m.text.contains("Search slow"))
    })
    .await;
    until("the Discord declaration", || {
        discord
            .channel_messages(CHANNEL_ID)
            .iter()
            .any(|m| m.content.contains("Login slow"))
    })
    .await;
    assert!(!slack
        .messages("C_INC")
        .iter()
        .any(|m| m.text.contains("Login slow")));
    assert!(slack.rejections().is_empty(), "{:#?}", slack.rejections());
    assert!(
        discord.rejections().is_empty(),
        "{:#?}",
        discord.rejections()
    );
    // One database holds both, each incident on its platform.
    let app = served.app("slack");
    let platforms: Vec<(String, String)> =
        sqlx::query_as("SELECT title, platform FROM incidents ORDER BY title")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        platforms,
        [
            ("Login slow".to_string(), "discord".to_string()),
            ("Search slow".to_string(), "slack".to_string())
        ]
    );
    served.stop().await;
}

#[tokio::test]
async fn serve_will_not_start_on_a_wrong_token_or_with_nothing_to_serve_and_says_why() {
    use secrecy::SecretString;
    use warroom::serve::Server;
    let (env, _commands) = team_env(StateDb::Sqlite).await;

    let nothing = Server::build(env.settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(nothing.to_string().contains("SLACK_BOT_TOKEN"), "{nothing}");

    let slack = FakeSlack::start().await;
    let mut settings = env.settings.clone();
    with_slack(&mut settings, &slack.api_url(), false);
    if let Some(s) = settings.slack.as_mut() {
        s.bot_token = SecretString::from("xoxb-not-the-token".to_string());
    }
    let wrong = Server::build(settings).await.err().expect("refused");
    let wrong = wrong.to_string();
    assert!(
        wrong.contains("SLACK_BOT_TOKEN") && wrong.contains("invalid_auth"),
        "{wrong}"
    );
    assert!(
        !wrong.contains("xoxb-not-the-token"),
        "secrets are never printed"
    );

    let discord = FakeDiscord::start().await;
    let mut settings = env.settings.clone();
    with_discord(&mut settings, &discord, true);
    if let Some(d) = settings.discord.as_mut() {
        d.token = SecretString::from("not-the-token".to_string());
    }
    let wrong = Server::build(settings)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(wrong.contains("DISCORD_TOKEN"), "{wrong}");
    assert!(
        !wrong.contains("not-the-token"),
        "secrets are never printed"
    );
}
