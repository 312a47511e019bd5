//! A platform that carries out a post and whose answer is lost (issue 14: when Slack
//! stored a message and the connection dropped, 19 of 33 posts were sent twice, and
//! the extra copy of a progress message stayed at "running" forever). The outbox
//! looks before it sends again, so each message exists once and its edits reach it.
//!
//! Expectations: Slack's message metadata (docs.slack.dev "Using message metadata":
//! `chat.postMessage` takes `metadata` {event_type, event_payload};
//! `conversations.history` returns it with `include_all_metadata`), and Discord's
//! "Create Message" (`nonce` up to 25 characters; with `enforce_nonce`, "if another
//! message was created by the same author with the same nonce, that message will be
//! returned and no new message will be created").

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::fake_discord::{self, FakeDiscord};
use common::fake_slack::{Failure, FakeSlack, BOT_TOKEN};
use secrecy::SecretString;
use warroom::chat::discord::web::DiscordWeb;
use warroom::chat::outbox::{deliver_due, OutboxChat};
use warroom::chat::slack::web::{client, SlackWeb};
use warroom::chat::{Chat, Post, PostKind};
use warroom::store::Store;

const CALL: Duration = Duration::from_millis(300);
const PACE: Duration = Duration::from_secs(1);

/// warroom's Slack adapter on `fake`, with a short call timeout.
fn slack_on(fake: &FakeSlack) -> SlackWeb {
    SlackWeb::new(
        client(&fake.api_url()).unwrap(),
        &SecretString::from(BOT_TOKEN.to_string()),
    )
    .with_timeout(CALL)
}

/// Delivers at `now + secs`, as the deliverer's passes would.
async fn pass(store: &Store, platform: &str, chat: &dyn Chat, secs: i64) {
    let at = Utc::now() + chrono::Duration::seconds(secs);
    tokio::time::timeout(
        Duration::from_secs(20),
        deliver_due(store, platform, chat, at, PACE),
    )
    .await
    .expect("a lost answer must not hold the deliverer")
    .unwrap();
}

#[tokio::test]
async fn a_slack_post_whose_answer_is_lost_is_found_not_sent_again_and_its_edit_reaches_it() {
    let fake = FakeSlack::start().await;
    fake.invite("C1");
    let slack = slack_on(&fake);
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "slack");
    let progress = outbox
        .post(&Post::new("C1", PostKind::Progress, "RUN-1 ⏳ running"))
        .await
        .unwrap();
    fake.fail_next("chat.postMessage", Failure::DoneButNeverAnswers);
    pass(&store, "slack", &slack, 0).await;
    assert_eq!(
        fake.messages("C1").len(),
        1,
        "Slack stored it; warroom never heard"
    );

    // The retry looks first, finds its message by the delivery id, sends nothing.
    pass(&store, "slack", &slack, 3).await;
    let messages = fake.messages("C1");
    assert_eq!(messages.len(), 1, "sent twice: {messages:?}");
    let looked = fake.calls_to("conversations.history");
    assert_eq!(looked.len(), 1, "{looked:?}");
    assert_eq!(looked[0].params["include_all_metadata"], "true");
    let state: (String, Option<String>) =
        sqlx::query_as("SELECT state, platform_ref FROM outbox WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(state, ("sent".into(), Some(messages[0].ts.clone())));

    // The progress edit goes to the one message there is.
    outbox
        .update(
            &progress,
            &Post::new("C1", PostKind::Progress, "RUN-1 ✅ done"),
        )
        .await
        .unwrap();
    pass(&store, "slack", &slack, 5).await;
    let messages = fake.messages("C1");
    assert_eq!(messages.len(), 1);
    assert!(messages[0].text.contains("done"), "{messages:?}");
    assert!(fake.rejections().is_empty(), "{:?}", fake.rejections());
}

#[tokio::test]
async fn a_slack_post_that_never_reached_slack_is_sent_on_the_retry() {
    let fake = FakeSlack::start().await;
    fake.invite("C1");
    let slack = slack_on(&fake);
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "slack");
    // Another message of warroom's with metadata in the channel must not be taken
    // for this one.
    outbox
        .post(&Post::new("C1", PostKind::Info, "an earlier post"))
        .await
        .unwrap();
    pass(&store, "slack", &slack, 0).await;
    outbox
        .post(&Post::new("C1", PostKind::Info, "the post"))
        .await
        .unwrap();
    fake.fail_next("chat.postMessage", Failure::NeverAnswers);
    pass(&store, "slack", &slack, 2).await;
    assert_eq!(fake.messages("C1").len(), 1);
    pass(&store, "slack", &slack, 5).await;
    let texts: Vec<String> = fake.messages("C1").into_iter().map(|m| m.text).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].contains("the post"), "{texts:?}");
}

#[tokio::test]
async fn a_discord_post_whose_answer_is_lost_is_deduped_by_its_nonce() {
    let fake = FakeDiscord::start().await;
    fake.add_channel(fake_discord::CHANNEL_ID);
    let (store, _dir) = common::sqlite_store().await;
    let discord = DiscordWeb::new(Arc::new(fake.http()), store.clone()).with_timeout(CALL);
    let channel = fake_discord::CHANNEL_ID.to_string();
    let outbox = OutboxChat::new(store.clone(), "discord");
    outbox
        .post(&Post::new(&channel, PostKind::Info, "hello"))
        .await
        .unwrap();
    fake.fail_next("/messages", fake_discord::Failure::DoneButNeverAnswers);
    pass(&store, "discord", &discord, 0).await;
    assert_eq!(fake.channel_messages(fake_discord::CHANNEL_ID).len(), 1);
    pass(&store, "discord", &discord, 3).await;
    let messages = fake.channel_messages(fake_discord::CHANNEL_ID);
    assert_eq!(messages.len(), 1, "sent twice: {messages:?}");
    let sent: Option<String> = sqlx::query_scalar("SELECT platform_ref FROM outbox WHERE id = 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sent, Some(messages[0].id.to_string()));
}
