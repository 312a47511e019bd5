//! Long content through `warroom serve` on Discord, against the fake Discord that
//! refuses content over 2,000 characters (discord/discord-api-docs
//! `developers/resources/message.mdx`: "Message contents (up to 2000 characters)")
//! and embeds from a bot without *Embed Links* (403, code 50013; see
//! `common/fake_discord.rs`). Issue 11: long posts went out as embeds, refused where
//! `@everyone` lacks Embed Links and cut at 6,000 with "(truncated...)". Now each
//! arrives whole, in order, as plain messages; a refused post reaches its requester.

mod common;

use common::fake_discord::{command_interaction, Failure, FakeDiscord, FakeMessage, CHANNEL_ID};
use common::serve::{discord_ids::*, eventually, team_env, until, with_discord, Served};
use common::StateDb;
use serde_json::{json, Value};

struct Discord {
    fake: FakeDiscord,
    served: Served,
    next: std::sync::atomic::AtomicU64,
    _commands: tempfile::TempDir,
    _env: common::Env,
}

async fn start() -> Discord {
    let fake = FakeDiscord::start().await;
    let (mut env, commands) = team_env(StateDb::Sqlite).await;
    std::fs::write(
        commands.path().join("wide-table.toml"),
        common::long::wide_table_runbook(),
    )
    .unwrap();
    with_discord(&mut env.settings, &fake, true);
    let served = Served::start(env.settings.clone()).await;
    Discord {
        fake,
        served,
        next: std::sync::atomic::AtomicU64::new(7000),
        _commands: commands,
        _env: env,
    }
}

impl Discord {
    /// A slash command over the signed HTTP endpoint; returns its token.
    async fn command(&self, user: u64, name: &str, text: Option<&str>) -> String {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!("tok-{id}");
        let options = match text {
            Some(t) => json!([{ "name": "text", "type": 3, "value": t }]),
            None => json!([]),
        };
        let payload = command_interaction(id, &token, user, CHANNEL_ID, &[], name, options);
        let (status, answer) = self
            .fake
            .post_interaction(&self.served.url("/discord/interactions"), &payload)
            .await;
        assert_eq!(status, 200, "{answer}");
        token
    }

    fn transcript(&self, channel: u64) -> String {
        self.fake
            .channel_messages(channel)
            .iter()
            .map(|m| m.content.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn all_delivered(&self) {
        let store = self.served.app("discord").store.clone();
        eventually("every queued post to go out", || {
            let store = store.clone();
            async move {
                let pending: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM outbox WHERE platform = 'discord' AND state <> 'sent'",
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

fn assert_in_order(haystack: &str, needles: &[String]) {
    let mut at = 0;
    for n in needles {
        match haystack[at..].find(n.as_str()) {
            Some(i) => at += i + n.len(),
            None => panic!("{n:?} missing or out of order"),
        }
    }
}

/// Nothing went out as an embed, nothing over 2,000 characters, no code block
/// left open.
fn plain_and_within_limits(messages: &[FakeMessage]) -> usize {
    for m in messages {
        assert!(m.embeds.is_empty(), "an embed: {:?}", m.embeds);
        assert!(m.content.chars().count() <= 2000);
        assert!(!m.content.contains("truncated"), "{}", m.content);
        // A code block cut in two is closed and reopened: each message reads alone.
        assert_eq!(m.content.matches("```").count() % 2, 0, "{}", m.content);
    }
    messages
        .iter()
        .map(|m| m.content.chars().count())
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_postmortem_of_150_chat_lines_arrives_whole_and_in_order_without_embeds() {
    let d = start().await;
    d.command(IC, "incident", Some("declare P2 \"Search is slow\""))
        .await;
    until("the declaration", || {
        d.transcript(CHANNEL_ID).contains("declared")
    })
    .await;
    let store = d.served.app("discord").store.clone();
    let lines: Vec<String> = (1..=150)
        .map(|i| format!("chat line {i:03} from the war room: checking the search p99 and the index queue depth"))
        .collect();
    let t0 = chrono::Utc::now() - chrono::Duration::seconds(5);
    for (i, line) in lines.iter().enumerate() {
        let at = t0 + chrono::Duration::milliseconds(i as i64);
        store
            .record_message(
                "discord",
                &CHANNEL_ID.to_string(),
                &ONCALL.to_string(),
                line,
                at,
                Some(&format!("m{i}")),
            )
            .await
            .unwrap();
    }
    d.command(IC, "postmortem", None).await;
    until("the draft's last chat line", || {
        d.transcript(CHANNEL_ID).contains("chat line 150")
    })
    .await;
    d.all_delivered().await;
    assert_in_order(&d.transcript(CHANNEL_ID), &lines);
    let messages = d.fake.channel_messages(CHANNEL_ID);
    let longest = plain_and_within_limits(&messages);
    eprintln!(
        "post-mortem on Discord: {} messages in the channel, longest {longest} chars",
        messages.len()
    );
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    d.served.stop().await;
}

#[tokio::test]
async fn a_30_column_sql_table_and_a_15000_character_resolution_arrive_whole() {
    let d = start().await;
    d.command(IC, "incident", Some("declare P2 \"Search is slow\""))
        .await;
    until("the declaration", || {
        d.transcript(CHANNEL_ID).contains("declared")
    })
    .await;
    d.command(ONCALL, "wide-table", None).await;
    until("the table's last row", || {
        d.transcript(CHANNEL_ID).contains("r20-c30")
    })
    .await;
    let rows: Vec<String> = (1..=20).map(|r| format!("r{r:02}-c01")).collect();
    assert_in_order(&d.transcript(CHANNEL_ID), &rows);
    let table: Vec<String> = d
        .fake
        .channel_messages(CHANNEL_ID)
        .iter()
        .map(|m| m.content.clone())
        .filter(|t| t.contains("-c01-") || t.contains("col_01"))
        .collect();
    eprintln!(
        "30-column table on Discord: {} chars in {} messages",
        table.iter().map(|t| t.chars().count()).sum::<usize>(),
        table.len()
    );
    let updates: Vec<String> = (1..=8)
        .map(|u| {
            format!(
                "update {u} {}",
                "mitigation proceeding on every shard ".repeat(50)
            )
        })
        .collect();
    for u in &updates {
        d.command(IC, "incident", Some(&format!("update \"{u}\"")))
            .await;
    }
    // Commands run concurrently: resolve once all eight updates are on the timeline.
    let app = d.served.app("discord").clone();
    eventually("the eight updates on the timeline", || {
        let app = app.clone();
        async move {
            let Some(i) = app
                .store
                .open_incident(&CHANNEL_ID.to_string())
                .await
                .unwrap()
            else {
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
    d.command(IC, "incident", Some("resolve")).await;
    until("INCIDENT RESOLVED", || {
        d.transcript(STATUS_CHANNEL).contains("INCIDENT RESOLVED")
    })
    .await;
    d.all_delivered().await;
    let status = d.transcript(STATUS_CHANNEL);
    let resolved = &status[status.find("INCIDENT RESOLVED").unwrap()..];
    // In the timeline's order (the updates ran concurrently).
    let heads = update_order(&app, &CHANNEL_ID.to_string()).await;
    assert_in_order(resolved, &heads);
    // The end of the post arrived (its footer; "Affected Users" is left out when
    // nobody typed it: issue 12).
    assert!(resolved.contains("times in UTC"), "{resolved}");
    assert!(
        resolved.chars().count() > 15_000,
        "{}",
        resolved.chars().count()
    );
    let mut all = d.fake.channel_messages(CHANNEL_ID);
    all.extend(d.fake.channel_messages(STATUS_CHANNEL));
    let longest = plain_and_within_limits(&all);
    eprintln!(
        "INCIDENT RESOLVED on Discord: {} chars; longest message {longest}",
        resolved.chars().count()
    );
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    d.served.stop().await;
}

/// A 403 Missing Permissions (50013) on the channel post: the requester reads it in
/// a private follow-up of their interaction, and the timeline has it.
#[tokio::test]
async fn a_post_discord_refuses_for_good_is_told_to_the_requester_and_the_timeline() {
    let d = start().await;
    d.command(IC, "incident", Some("declare P2 \"Search is slow\""))
        .await;
    until("the declaration", || {
        d.transcript(CHANNEL_ID).contains("declared")
    })
    .await;
    d.all_delivered().await;
    d.fake.fail_next(
        &format!("/channels/{CHANNEL_ID}/messages"),
        Failure::Status(
            403,
            json!({"message": "Missing Permissions", "code": 50013}),
        ),
    );
    let token = d.command(ONCALL, "postmortem", None).await;
    until("the private report", || {
        d.fake
            .followups(&token)
            .iter()
            .any(|m| m.content.contains("could not deliver"))
    })
    .await;
    let report: Vec<Value> = d
        .fake
        .followups(&token)
        .iter()
        .map(|m| json!(m.content))
        .collect();
    let text = report
        .iter()
        .filter_map(Value::as_str)
        .find(|t| t.contains("could not deliver"))
        .unwrap();
    assert!(
        text.contains("50013") && text.contains("Send Messages"),
        "{text}"
    );
    let app = d.served.app("discord").clone();
    let incident = app
        .store
        .open_incident(&CHANNEL_ID.to_string())
        .await
        .unwrap()
        .unwrap();
    let timeline = app.store.timeline(&incident.id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.text.contains("Not delivered") && e.text.contains("50013")),
        "{timeline:#?}"
    );
    d.served.stop().await;
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

/// Issue 11: `/help` was cut at 6,000 characters with "(truncated; the timeline has
/// it all)", which it did not. Now every pack's commands arrive, privately, in
/// follow-ups of at most 2,000 characters. (`/help all` is the long one: every
/// command of every pack; plain `/help` is short, issue 12.)
#[tokio::test]
async fn help_arrives_whole_in_private_follow_ups() {
    let d = start().await;
    let token = d.command(ONCALL, "help", Some("all")).await;
    until("the help's last pack", || {
        d.fake
            .followups(&token)
            .iter()
            .any(|m| m.content.contains("processpilot"))
    })
    .await;
    d.all_delivered().await;
    let followups = d.fake.followups(&token);
    let longest = plain_and_within_limits(&followups);
    let total: usize = followups.iter().map(|m| m.content.chars().count()).sum();
    eprintln!(
        "/help on Discord: {total} chars in {} follow-ups, longest {longest}",
        followups.len()
    );
    let text: String = followups.iter().map(|m| m.content.clone()).collect();
    for pack in ["chatia", "legalflow", "pfa", "webapp", "processpilot"] {
        assert!(text.contains(pack), "{pack} missing from /help");
    }
    assert!(d.fake.rejections().is_empty(), "{:#?}", d.fake.rejections());
    d.served.stop().await;
}
