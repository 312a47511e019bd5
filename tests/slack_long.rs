//! Long content through `warroom serve` on Slack, against the fake Slack that refuses
//! a message whose blocks total more than 12,000 characters (`msg_blocks_too_long`,
//! the figure slackapi/node-slack-sdk publishes; see `common/fake_slack/methods.rs`).
//! Issue 11: a post-mortem of ~100 chat lines, a 30-column SQL table and a long
//! `INCIDENT RESOLVED` were each refused and given up with only a log line. Now each
//! arrives whole, in order, as several messages; and a post Slack refuses for good
//! is told to the person who asked and noted on the timeline.

mod common;

use common::fake_slack::{slash_command, Failure, FakeMessage, FakeSlack};
use common::serve::{eventually, slack_team, team_env, until, with_slack, Served};
use common::StateDb;

const INC: &str = "C_INC";

struct Slack {
    fake: FakeSlack,
    served: Served,
    trigger: std::sync::atomic::AtomicU64,
    _env: common::Env,
    _commands: tempfile::TempDir,
}

async fn start() -> Slack {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    std::fs::write(
        commands.path().join("wide-table.toml"),
        common::long::wide_table_runbook(),
    )
    .unwrap();
    with_slack(&mut env.settings, &fake.api_url(), false);
    let served = Served::start(env.settings.clone()).await;
    fake.wait_for_live_connections(1).await;
    Slack {
        fake,
        served,
        trigger: std::sync::atomic::AtomicU64::new(1),
        _env: env,
        _commands: commands,
    }
}

impl Slack {
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
        ack["payload"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every message of `channel`, in post order, as one text.
    fn transcript(&self, channel: &str) -> String {
        self.fake
            .messages(channel)
            .iter()
            .map(text_of)
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn all_delivered(&self) {
        let store = self.served.app("slack").store.clone();
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
    }
}

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

/// Each needle appears, after the previous one.
fn assert_in_order(haystack: &str, needles: &[String]) {
    let mut at = 0;
    for n in needles {
        match haystack[at..].find(n.as_str()) {
            Some(i) => at += i + n.len(),
            None => panic!("{n:?} missing or out of order"),
        }
    }
}

/// The longest message's block text, and how many messages `channel` has.
fn sizes(fake: &FakeSlack, channel: &str) -> (usize, usize) {
    let messages = fake.messages(channel);
    for m in &messages {
        // A code block cut in two is closed and reopened: each message reads alone.
        let text = text_of(m);
        assert_eq!(text.matches("```").count() % 2, 0, "{text}");
    }
    let longest = messages
        .iter()
        .map(|m| text_of(m).chars().count())
        .max()
        .unwrap_or(0);
    (longest, messages.len())
}

#[tokio::test]
async fn a_postmortem_of_150_chat_lines_arrives_whole_and_in_order() {
    let s = start().await;
    let ack = s
        .command("U_IC", "/incident", "declare P2 \"Search is slow\"")
        .await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the declaration", || s.transcript(INC).contains("declared")).await;
    let store = s.served.app("slack").store.clone();
    let lines: Vec<String> = (1..=150)
        .map(|i| format!("chat line {i:03} from the war room: checking the search p99 and the index queue depth"))
        .collect();
    // Said over the last few seconds (not in the future of the export's "now").
    let t0 = chrono::Utc::now() - chrono::Duration::seconds(5);
    for (i, line) in lines.iter().enumerate() {
        let at = t0 + chrono::Duration::milliseconds(i as i64);
        let ts = format!("{}.{:06}", at.timestamp(), at.timestamp_subsec_micros());
        store
            .record_message("slack", INC, "U_ONCALL", line, at, Some(&ts))
            .await
            .unwrap();
    }
    let ack = s.command("U_IC", "/postmortem", "").await;
    assert!(ack.contains("accepted"), "{ack}");
    s.all_delivered().await;
    assert!(s.transcript(INC).contains("chat line 150"));
    s.all_delivered().await;
    assert!(s.fake.rejections().is_empty(), "{:#?}", s.fake.rejections());
    assert_in_order(&s.transcript(INC), &lines);
    let (longest, count) = sizes(&s.fake, INC);
    eprintln!("post-mortem on Slack: {count} messages in the channel, longest {longest} chars");
    assert!(longest <= 12_000);
    s.served.stop().await;
}

#[tokio::test]
async fn a_30_column_sql_table_and_a_15000_character_resolution_arrive_whole() {
    let s = start().await;
    s.command("U_IC", "/incident", "declare P2 \"Search is slow\"")
        .await;
    until("the declaration", || s.transcript(INC).contains("declared")).await;
    let ack = s.command("U_ONCALL", "/wide-table", "").await;
    assert!(ack.contains("accepted"), "{ack}");
    until("the table's last row", || {
        s.transcript(INC).contains("r20-c30")
    })
    .await;
    let rows: Vec<String> = (1..=20).map(|r| format!("r{r:02}-c01")).collect();
    assert_in_order(&s.transcript(INC), &rows);
    sizes(&s.fake, INC);
    let table: Vec<String> = s
        .fake
        .messages(INC)
        .iter()
        .map(text_of)
        .filter(|t| t.contains("-c01-") || t.contains("col_01"))
        .collect();
    eprintln!(
        "30-column table on Slack: {} chars in {} messages",
        table.iter().map(|t| t.chars().count()).sum::<usize>(),
        table.len()
    );
    assert!(s.transcript(INC).contains("col_30"));

    // Eight long updates make the INCIDENT RESOLVED timeline ~15,000 characters.
    let updates: Vec<String> = (1..=8)
        .map(|u| {
            format!(
                "update {u} {}",
                "mitigation proceeding on every shard ".repeat(50)
            )
        })
        .collect();
    for u in &updates {
        s.command("U_IC", "/incident", &format!("update \"{u}\""))
            .await;
    }
    // Commands run concurrently: resolve once all eight updates are on the timeline.
    let app = s.served.app("slack").clone();
    eventually("the eight updates on the timeline", || {
        let app = app.clone();
        async move {
            let Some(i) = app.store.open_incident(INC).await.unwrap() else {
                return false;
            };
            let timeline = app.store.timeline(&i.id).await.unwrap();
            timeline
                .iter()
                .filter(|e| e.text.contains("mitigation proceeding"))
                .count()
                == 8
        }
    })
    .await;
    s.command("U_IC", "/incident", "resolve").await;
    until("INCIDENT RESOLVED", || {
        s.transcript("C_STATUS").contains("INCIDENT RESOLVED")
    })
    .await;
    s.all_delivered().await;
    let status = s.transcript("C_STATUS");
    let resolved = &status[status.find("INCIDENT RESOLVED").unwrap()..];
    // In the timeline's order (the updates ran concurrently).
    let heads = update_order(&app, INC).await;
    assert_in_order(resolved, &heads);
    // Its footer ("Affected Users" is left out when nobody typed it: issue 12).
    assert!(
        resolved.contains("times in UTC"),
        "the template's end arrived"
    );
    assert!(
        resolved.chars().count() > 15_000,
        "{}",
        resolved.chars().count()
    );
    assert!(s.fake.rejections().is_empty(), "{:#?}", s.fake.rejections());
    let (longest, count) = sizes(&s.fake, "C_STATUS");
    eprintln!(
        "INCIDENT RESOLVED on Slack: {} chars; C_STATUS {count} messages, longest {longest}",
        resolved.chars().count()
    );
    s.served.stop().await;
}

/// Issue 11: a refused post was "given up" in the log and nobody was told. Now the
/// requester reads why, privately, and the timeline has it.
#[tokio::test]
async fn a_post_slack_refuses_for_good_is_told_to_the_requester_and_the_timeline() {
    let s = start().await;
    s.command("U_IC", "/incident", "declare P2 \"Search is slow\"")
        .await;
    until("the declaration", || s.transcript(INC).contains("declared")).await;
    s.all_delivered().await;
    s.fake
        .fail_next("chat.postMessage", Failure::Api("invalid_blocks".into()));
    // The draft is the one post /postmortem makes.
    s.command("U_ONCALL", "/postmortem", "").await;
    until("the private report", || {
        s.fake
            .ephemerals()
            .iter()
            .any(|e| e.user == "U_ONCALL" && text_of_ephemeral(e).contains("could not deliver"))
    })
    .await;
    let report = s
        .fake
        .ephemerals()
        .into_iter()
        .find(|e| e.user == "U_ONCALL" && text_of_ephemeral(e).contains("could not deliver"))
        .unwrap();
    let text = text_of_ephemeral(&report);
    assert!(text.contains("invalid_blocks"), "{text}");
    assert!(text.contains("warroom export INC-"), "what to do: {text}");
    let app = s.served.app("slack").clone();
    let incident = app.store.open_incident(INC).await.unwrap().unwrap();
    let timeline = app.store.timeline(&incident.id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.text.contains("Not delivered") && e.text.contains("invalid_blocks")),
        "{timeline:#?}"
    );
    s.served.stop().await;
}

fn text_of_ephemeral(e: &common::fake_slack::Ephemeral) -> String {
    let sections: Vec<&str> = e
        .blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    if sections.is_empty() {
        e.text.clone()
    } else {
        sections.join("\n")
    }
}

/// "update N mitigation" as the timeline has them, in its order.
async fn update_order(app: &warroom::app::App, channel: &str) -> Vec<String> {
    let id = sqlx::query_scalar::<_, String>(
        "SELECT id FROM incidents WHERE channel = $1 ORDER BY declared_at DESC LIMIT 1",
    )
    .bind(channel)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let heads: Vec<String> = app
        .store
        .timeline(&id)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| {
            let at = e.text.find("update ")?;
            let head: String = e.text[at..]
                .split(' ')
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            head.ends_with("mitigation").then_some(head)
        })
        .collect();
    assert_eq!(heads.len(), 8, "{heads:?}");
    heads
}
