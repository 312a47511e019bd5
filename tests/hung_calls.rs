//! A platform request that never answers (issue 14: one unanswered Slack request
//! stalled every post on the platform for 100 s, and a request slower than the
//! outbox's 30 s lease was sent again by another replica). Each adapter call has a
//! timeout shorter than the lease; a timed-out post is transient and retried; and
//! one channel's hung call does not hold another channel's posts.
//!
//! Expectations: Slack's Web API docs ("Rate limits" and "Handling errors",
//! api.slack.com) treat a call without an answer as one to retry later, and
//! Discord's API reference says the same of 5xx/timeouts ("Rate Limits",
//! discord.com/developers/docs). The waits below are bounds on a test that would
//! otherwise hang forever, not speed assertions.

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

/// Far above the test's own call timeout, far below a test harness's patience.
const BOUND: Duration = Duration::from_secs(20);
const CALL: Duration = Duration::from_millis(300);

#[tokio::test]
async fn a_slack_request_that_never_answers_times_out_and_does_not_stall_another_channel() {
    let fake = FakeSlack::start().await;
    fake.invite("C1");
    fake.invite("C2");
    let slack = SlackWeb::new(
        client(&fake.api_url()).unwrap(),
        &SecretString::from(BOT_TOKEN.to_string()),
    )
    .with_timeout(CALL);
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "slack");
    outbox
        .post(&Post::new("C1", PostKind::Info, "first channel"))
        .await
        .unwrap();
    outbox
        .post(&Post::new("C2", PostKind::Info, "second channel"))
        .await
        .unwrap();
    // Whichever channel's call reaches Slack first is never answered.
    fake.fail_next("chat.postMessage", Failure::NeverAnswers);
    let now = Utc::now();
    let pass = tokio::time::timeout(
        BOUND,
        deliver_due(&store, "slack", &slack, now, Duration::from_secs(1)),
    )
    .await
    .expect("a hung request must not hold the deliverer")
    .unwrap();
    assert_eq!(
        (pass.sent, pass.retried, pass.failed),
        (1, 1, 0),
        "{pass:?}"
    );
    let delivered = fake.messages("C1").len() + fake.messages("C2").len();
    assert_eq!(delivered, 1, "the other channel's post went out meanwhile");
    let error: String = sqlx::query_scalar("SELECT last_error FROM outbox WHERE state = 'pending'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(error.contains("did not answer chat.postMessage"), "{error}");

    // Transient: retried after its backoff, and then delivered once.
    let later = now + chrono::Duration::seconds(2);
    let retry = tokio::time::timeout(
        BOUND,
        deliver_due(&store, "slack", &slack, later, Duration::from_secs(1)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(retry.sent, 1, "{retry:?}");
    assert_eq!(fake.messages("C1").len(), 1);
    assert_eq!(fake.messages("C2").len(), 1);
}

#[tokio::test]
async fn a_discord_request_that_never_answers_times_out_as_transient() {
    let fake = FakeDiscord::start().await;
    fake.add_channel(fake_discord::CHANNEL_ID);
    let (store, _dir) = common::sqlite_store().await;
    let discord = DiscordWeb::new(Arc::new(fake.http()), store).with_timeout(CALL);
    let channel = fake_discord::CHANNEL_ID.to_string();
    fake.fail_next("/messages", fake_discord::Failure::NeverAnswers);
    let hung = tokio::time::timeout(
        BOUND,
        discord.post(&Post::new(&channel, PostKind::Info, "hello")),
    )
    .await
    .expect("the adapter gives up on the call itself")
    .unwrap_err();
    assert!(!hung.permanent && hung.retry_after.is_none(), "{hung:?}");
    assert!(hung.message.contains("did not answer"), "{hung:?}");
    discord
        .post(&Post::new(&channel, PostKind::Info, "hello"))
        .await
        .expect("the next call goes through");
    assert_eq!(fake.channel_messages(fake_discord::CHANNEL_ID).len(), 1);
}
