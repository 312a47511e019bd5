//! `warroom serve` on Slack, against the local fake Slack (Web API and Socket Mode):
//! slash command → ack → approval buttons → block_actions → progress edited in
//! place → template, with Block Kit that Slack accepts, refusals that stay private,
//! user text that cannot mention, an outbox that rides out 429s and 500s, and the
//! channel history recorded live and backfilled.

mod common;

use common::fake_slack::{message_event, slash_command, Failure, FakeMessage, FakeSlack};
use common::serve::{
    eventually, slack_team, team_env, until, with_slack, Served, SLACK_SIGNING_SECRET,
};
use common::StateDb;
use serde_json::{json, Value};

const INC: &str = "C_INC";

struct Slack {
    fake: FakeSlack,
    served: Served,
    trigger: std::sync::atomic::AtomicU64,
    env: common::Env,
    _commands: tempfile::TempDir,
}

async fn start(http_mode: bool) -> Slack {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), http_mode);
    let served = Served::start(env.settings.clone()).await;
    if !http_mode {
        fake.wait_for_live_connections(1).await;
    }
    Slack {
        fake,
        served,
        trigger: std::sync::atomic::AtomicU64::new(1),
        env,
        _commands: commands,
    }
}

impl Slack {
    /// A slash command over Socket Mode; returns the ack's text.
    async fn command(&self, user: &str, command: &str, text: &str) -> String {
        let n = self
            .trigger
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ack = self
            .fake
            .send_envelope(
                "slash_commands",
                slash_command(user, INC, command, text, &format!("trigger-{n}")),
            )
            .await;
        assert_eq!(ack["payload"]["response_type"], "ephemeral", "{ack}");
        ack["payload"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn press(&self, user: &str, message: &FakeMessage, label: &str) {
        let action_id = action_of(message, label);
        let payload = self.fake.button_press(user, INC, &message.ts, &action_id);
        self.fake.send_envelope("interactive", payload).await;
    }

    fn find(&self, channel: &str, needle: &str) -> Option<FakeMessage> {
        self.fake
            .messages(channel)
            .into_iter()
            .find(|m| text_of(m).contains(needle))
    }

    fn ephemeral_to(&self, user: &str) -> String {
        self.fake
            .ephemerals()
            .iter()
            .filter(|e| e.user == user)
            .map(|e| e.text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A message as it reads now: its sections' mrkdwn (after edits).
fn text_of(m: &FakeMessage) -> String {
    let blocks = m.edits.last().map_or(&m.blocks, |e| &e["blocks"]);
    let sections: Vec<&str> = blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    if sections.is_empty() {
        m.text.clone()
    } else {
        sections.join("\n")
    }
}

fn buttons(m: &FakeMessage) -> Vec<Value> {
    let blocks = m.edits.last().map_or(&m.blocks, |e| &e["blocks"]);
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn action_of(m: &FakeMessage, label: &str) -> String {
    buttons(m)
        .iter()
        .find(|b| b["text"]["text"] == label)
        .and_then(|b| b["action_id"].as_str())
        .unwrap_or_else(|| panic!("no {label} button on {}", text_of(m)))
        .to_string()
}

#[tokio::test]
async fn socket_mode_runs_a_p1_rollback_with_approval_buttons_progress_and_its_template() {
    let s = start(false).await;
    // A refusal elsewhere does not bring warroom into that channel.
    let refused = s
        .fake
        .send_envelope(
            "slash_commands",
            slash_command(
                "U_STRANGER",
                "C_ELSEWHERE",
                "/kanban-off",
                "reason=\"socket down\"",
                "t-0",
            ),
        )
        .await;
    assert!(
        refused["payload"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("not allowed")),
        "{refused}"
    );
    // A mistake is the ack itself; nothing is posted for it.
    let ack = s
        .command("U_ONCALL", "/kanban-selective-off", "reason=x")
        .await;
    assert!(ack.contains("reason"), "{ack}");

    let ack = s
        .command(
            "U_ONCALL",
            "/kanban-selective-off",
            "reason=\"slow drag and drop\" top=3 settle=1s",
        )
        .await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the approval request", || {
        s.find(INC, "needs approval").is_some()
    })
    .await;
    let request = s.find(INC, "needs approval").unwrap();
    let text = text_of(&request);
    // mrkdwn, not Markdown: bold is one asterisk; the lead is paged by id.
    assert!(text.contains("*RUN-1*") && !text.contains("**"), "{text}");
    assert!(text.starts_with("📣 <@U_LEAD>"), "{text}");
    let values: Vec<String> = buttons(&request)
        .iter()
        .map(|b| b["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["/approve RUN-1", "/deny RUN-1"]);

    // Not an approver, and the requester: each refused privately; nothing changes.
    s.press("U_STRANGER", &request, "Approve").await;
    until("the stranger's refusal", || {
        s.ephemeral_to("U_STRANGER").contains("only")
    })
    .await;
    s.press("U_ONCALL", &request, "Approve").await;
    until("the requester's refusal", || {
        s.ephemeral_to("U_ONCALL").contains("you requested it")
    })
    .await;
    assert!(s.fake.message(INC, &request.ts).edits.is_empty());

    // The lead approves: the request becomes the progress message, then the template.
    s.press("U_LEAD", &request, "Approve").await;
    until("the run to succeed", || {
        text_of(&s.fake.message(INC, &request.ts)).contains("succeeded")
    })
    .await;
    let progress = s.fake.message(INC, &request.ts);
    assert!(
        text_of(&progress).contains("Disable Kanban V2 for those companies"),
        "{}",
        text_of(&progress)
    );
    assert!(buttons(&progress).is_empty(), "no buttons once it ran");
    until("the template", || {
        s.find(INC, "Performance degradation in Kanban V2")
            .is_some()
    })
    .await;
    until("the stakeholder update", || {
        !s.fake.messages("C_STATUS").is_empty()
    })
    .await;
    assert!(s.fake.rejections().is_empty(), "{:#?}", s.fake.rejections());
    // The first accepted command in the channel made warroom join it (it records it
    // too); the refusal in C_ELSEWHERE did not.
    assert_eq!(s.fake.joined(), [INC]);

    // What people say in the channel is recorded live, once per ts.
    let said = message_event("U_IC", INC, "dashboards green again", "1763900001.000200");
    s.fake.send_envelope("events_api", said.clone()).await;
    s.fake.send_envelope("events_api", said).await;
    let app = s.served.app("slack").clone();
    eventually("the recorded message", || {
        let app = app.clone();
        async move {
            let t = warroom::chat::slack::ingress::ts_time("1763900001.000200");
            app.store.messages(INC, t, t).await.unwrap().len() == 1
        }
    })
    .await;

    // The post-mortem names who took part, as Slack knows them.
    let incident = app.store.open_incident(INC).await.unwrap().unwrap();
    let report = warroom::export::export(
        &app.store,
        &incident.id,
        warroom::export::Format::Markdown,
        |_| None,
    )
    .await
    .unwrap();
    assert!(report.contains("- U_LEAD: Lea Dupont"), "{report}");
    assert_eq!(
        s.fake
            .calls_to("users.info")
            .iter()
            .filter(|c| c.params["user"] == "U_LEAD")
            .count(),
        1
    );
    s.served.stop().await;
}

#[tokio::test]
async fn a_checkpoints_done_button_is_for_its_roles_and_closes_once_pressed() {
    let s = start(false).await;
    // Verification re-checks the flag /kanban-off turned off.
    s.command("U_ONCALL", "/kanban-off", "reason=\"socket down\"")
        .await;
    until("kanban-off", || {
        s.find(INC, "Kanban V2 disabled globally").is_some()
    })
    .await;
    let ack = s.command("U_ONCALL", "/kanban-verify", "").await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the checkpoint", || s.find(INC, "press Done").is_some()).await;
    let checkpoint = s.find(INC, "press Done").unwrap();
    assert_eq!(action_of(&checkpoint, "Done"), "warroom-0");

    s.press("U_STRANGER", &checkpoint, "Done").await;
    until("the refusal", || {
        s.ephemeral_to("U_STRANGER").contains("not allowed")
    })
    .await;
    assert!(s.fake.message(INC, &checkpoint.ts).edits.is_empty());

    s.press("U_LEAD", &checkpoint, "Done").await;
    until("the checkpoint to close", || {
        text_of(&s.fake.message(INC, &checkpoint.ts)).contains("confirmed by U_LEAD")
    })
    .await;
    assert!(
        buttons(&s.fake.message(INC, &checkpoint.ts)).is_empty(),
        "no stale button"
    );
    let app = s.served.app("slack").clone();
    eventually("the run to finish", || {
        let app = app.clone();
        async move {
            app.store
                .run(2)
                .await
                .unwrap()
                .is_some_and(|r| r.state.as_str() == "succeeded")
        }
    })
    .await;
    s.served.stop().await;
}

#[tokio::test]
async fn user_text_posted_to_slack_can_neither_mention_nor_break_formatting() {
    let s = start(false).await;
    let ack = s
        .command(
            "U_ONCALL",
            "/incident",
            "declare P1 \"<!channel> checkout *down* <@U_LEAD>\" impact=\"@here EU & US\"",
        )
        .await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the stakeholder alert", || {
        !s.fake.messages("C_STATUS").is_empty()
    })
    .await;
    let everything: Vec<FakeMessage> = s
        .fake
        .messages(INC)
        .into_iter()
        .chain(s.fake.messages("C_STATUS"))
        .collect();
    for m in &everything {
        let text = text_of(m);
        for forbidden in ["<!channel>", "<!here", "<@U_LEAD>", "*down*"] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
        for block in m.blocks.as_array().unwrap() {
            if block["type"] == "section" {
                assert_eq!(block["text"]["verbatim"], true, "{block}");
            }
        }
    }
    let alert = s
        .find("C_STATUS", "checkout")
        .expect("alert names the incident");
    assert!(text_of(&alert).contains("&lt;"), "{}", text_of(&alert));
    s.served.stop().await;
}

#[tokio::test]
async fn the_outbox_rides_out_slack_429s_and_500s_and_posts_once() {
    let s = start(false).await;
    s.fake.fail_next(
        "chat.postMessage",
        Failure::RateLimited {
            retry_after_secs: 1,
        },
    );
    s.fake.fail_next("chat.postMessage", Failure::ServerError);
    let ack = s
        .command("U_ONCALL", "/incident", "declare P2 \"Search is slow\"")
        .await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the declaration to arrive", || {
        s.find(INC, "declared").is_some()
    })
    .await;
    let calls = s.fake.calls_to("chat.postMessage");
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(&statuses[..2], [429, 500], "{statuses:?}");
    let declared: Vec<_> = s
        .fake
        .messages(INC)
        .into_iter()
        .filter(|m| text_of(m).contains("declared"))
        .collect();
    assert_eq!(declared.len(), 1, "posted once");
    // Whichever post the 429 hit, it was sent in the end, a second later or more
    // (its Retry-After), and nothing was sent twice.
    let app = s.served.app("slack").clone();
    let store = app.store.clone();
    eventually("every queued post to go out", || {
        let store = store.clone();
        async move {
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE platform = 'slack' AND state <> 'sent'",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            pending == 0
        }
    })
    .await;
    let delivered = s
        .fake
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.ok)
        .count();
    let posted = s.fake.messages(INC).len() + s.fake.messages("C_STATUS").len();
    assert_eq!(delivered, posted, "each post delivered once");
    let waited: i64 =
        sqlx::query_scalar("SELECT MAX(sent_at - created_at) FROM outbox WHERE platform = 'slack'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(waited >= 1000, "{waited} ms");
    s.served.stop().await;
}

#[tokio::test]
async fn http_mode_serves_signed_slash_commands_and_posts_through_the_web_api() {
    let s = start(true).await;
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("command", "/kanban-off")
        .append_pair("text", "reason=\"Socket.IO down\"")
        .append_pair("user_id", "U_ONCALL")
        .append_pair("channel_id", INC)
        .append_pair("trigger_id", "t-http-1")
        .finish();
    let ts = chrono::Utc::now().timestamp().to_string();
    let signature = warroom::chat::slack::signature::sign(
        SLACK_SIGNING_SECRET.as_bytes(),
        &ts,
        body.as_bytes(),
    );
    let resp = reqwest::Client::new()
        .post(s.served.url("/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ack: Value = resp.json().await.unwrap();
    assert!(ack["text"].as_str().unwrap().contains("accepted"), "{ack}");
    // Seed 001 scenario 1: the mitigation's message (issue 12).
    until("Kanban V2 disabled globally", || {
        s.find(INC, "Kanban V2 disabled globally").is_some()
    })
    .await;
    assert_eq!(common::kanban_enabled(&s.env).await, 0);
    // Bad signatures never reach the pipeline.
    let forged = reqwest::Client::new()
        .post(s.served.url("/slack/commands"))
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", "v0=deadbeef")
        .body("command=%2Fkanban-off")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(s.fake.rejections().is_empty(), "{:#?}", s.fake.rejections());
    s.served.stop().await;
}

#[tokio::test]
async fn history_said_while_warroom_was_away_is_backfilled_page_by_page_once() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), false);
    env.settings.file.slack.history_page = 2;
    let served = Served::start(env.settings.clone()).await;
    fake.wait_for_live_connections(1).await;
    let ack = fake
        .send_envelope(
            "slash_commands",
            slash_command(
                "U_IC",
                INC,
                "/incident",
                "declare P1 \"Checkout down\"",
                "t-1",
            ),
        )
        .await;
    assert!(ack.to_string().contains("accepted"), "{ack}");
    let app = served.app("slack").clone();
    eventually("the incident", || {
        let app = app.clone();
        async move { !app.store.open_incidents("slack").await.unwrap().is_empty() }
    })
    .await;
    served.stop().await;

    // While warroom is down, five messages are said in the channel.
    let base = chrono::Utc::now().timestamp() + 1;
    let said: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "type": "message", "user": "U_DBA", "text": format!("while away {i}"),
                "ts": format!("{}.{:06}", base + i, 100),
            })
        })
        .collect();
    fake.set_history(INC, said);
    let served = Served::start(env.settings.clone()).await;
    let app = served.app("slack").clone();
    eventually("the backfilled messages", || {
        let app = app.clone();
        async move {
            let from = chrono::Utc::now() - chrono::Duration::hours(1);
            let to = chrono::Utc::now() + chrono::Duration::hours(1);
            app.store.messages(INC, from, to).await.unwrap().len() == 5
        }
    })
    .await;
    let pages = fake.calls_to("conversations.history");
    assert!(pages.len() >= 3, "paginated by 2: {} calls", pages.len());
    assert!(
        pages.iter().all(|c| c.params["limit"] == "2"),
        "{:?}",
        pages[0].params
    );
    served.stop().await;
}

#[tokio::test]
async fn a_message_warroom_could_not_record_stays_unacked_so_slack_delivers_it_again() {
    let s = start(false).await;
    let app = s.served.app("slack").clone();
    // The state database refuses the write (as when a table is being migrated).
    let state = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        secrecy::ExposeSecret::expose_secret(&s.env.settings.database_url)
    ))
    .await
    .unwrap();
    sqlx::query("ALTER TABLE messages RENAME TO messages_away")
        .execute(&state)
        .await
        .unwrap();
    let said = message_event("U_IC", INC, "rolling back now", "1763900002.000300");
    let envelope = s.fake.push_envelope("events_api", said.clone()).await;
    // The failed attempt is quick; give it ample time to (wrongly) ack.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        s.fake.acks_of(&envelope).is_empty(),
        "an unrecorded message was acked: {:?}",
        s.fake.acks_of(&envelope)
    );
    sqlx::query("ALTER TABLE messages_away RENAME TO messages")
        .execute(&state)
        .await
        .unwrap();
    // Slack's redelivery is recorded and acked.
    s.fake.send_retry("events_api", said, &envelope, 1).await;
    let t = warroom::chat::slack::ingress::ts_time("1763900002.000300");
    assert_eq!(app.store.messages(INC, t, t).await.unwrap().len(), 1);
    s.served.stop().await;
}
