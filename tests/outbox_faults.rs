//! The outbox under injected platform faults (issue 14): a burst of 429s, minutes of
//! 500s, and two replicas on one PostgreSQL database. Time is simulated (each pass
//! is given its `now`), so minutes of faults take well under a second of wall time.
//!
//! Expectations come from the platforms' published rules:
//! - Slack, "Rate limits" (api.slack.com/docs/rate-limits): a rate-limited call
//!   answers HTTP 429 with a `Retry-After` header in seconds, and the app should
//!   wait that long before calling again; `chat.postMessage` allows about one
//!   message per second per channel.
//! - Discord, "Rate Limits" (discord.com/developers/docs/topics/rate-limits): a 429
//!   carries `retry_after` (and `X-RateLimit-Reset-After`) in seconds; requests in
//!   that bucket must wait for it.
//! - 5xx answers are the platform's trouble, not the request's (RFC 9110, 15.6), so
//!   the same request may succeed later.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::fresh_postgres;
use warroom::chat::outbox::{deliver_due, OutboxChat};
use warroom::chat::{Chat, ChatError, MessageRef, Post, PostKind};
use warroom::store::Store;

const PACE: Duration = Duration::from_secs(1);

/// What the fake platform answers at simulated time `ms` (call number `n`).
type Fault = fn(ms: i64, n: usize) -> Option<ChatError>;

/// A platform that answers by simulated time and records every call: who called
/// what into which channel when, and the 429s it gave.
struct Platform {
    clock: AtomicI64,
    fault: Fault,
    calls: Mutex<Vec<(i64, String)>>,
    /// channel → (time of the 429, until when it said to wait)
    holds: Mutex<Vec<(String, i64, i64)>>,
    delivered: Mutex<Vec<(String, String)>>,
    texts: Mutex<HashMap<String, String>>,
}

impl Platform {
    fn new(fault: Fault) -> Self {
        Platform {
            clock: AtomicI64::new(0),
            fault,
            calls: Mutex::default(),
            holds: Mutex::default(),
            delivered: Mutex::default(),
            texts: Mutex::default(),
        }
    }

    fn answer(&self, channel: &str) -> Result<(), ChatError> {
        let ms = self.clock.load(Ordering::SeqCst);
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((ms, channel.to_string()));
            calls.len()
        };
        match (self.fault)(ms, n) {
            Some(e) => {
                if let Some(ra) = e.retry_after {
                    let until = ms + ra.as_millis() as i64;
                    self.holds
                        .lock()
                        .unwrap()
                        .push((channel.to_string(), ms, until));
                }
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Calls into a channel while a 429 told that channel to wait.
    fn calls_during_a_wait(&self) -> Vec<String> {
        let holds = self.holds.lock().unwrap();
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(ms, ch)| {
                holds
                    .iter()
                    .any(|(hc, from, until)| hc == ch && ms > from && ms < until)
            })
            .map(|(ms, ch)| format!("{ch} at {ms} ms"))
            .collect()
    }
}

#[async_trait]
impl Chat for Platform {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        self.answer(&post.channel)?;
        let mut delivered = self.delivered.lock().unwrap();
        delivered.push((post.channel.clone(), post.text.clone()));
        let id = format!("ts.{}", delivered.len());
        self.texts
            .lock()
            .unwrap()
            .insert(id.clone(), post.text.clone());
        Ok(MessageRef {
            channel: post.channel.clone(),
            id,
        })
    }

    async fn update(&self, m: &MessageRef, post: &Post) -> Result<(), ChatError> {
        self.answer(&m.channel)?;
        self.texts
            .lock()
            .unwrap()
            .insert(m.id.clone(), post.text.clone());
        Ok(())
    }
}

const CHANNELS: [&str; 3] = ["C1", "C2", "C3"];
const POSTS: usize = 10;

/// Queues, per channel: a progress message, then posts interleaved with edits of it.
async fn queue(store: &Store) -> Vec<MessageRef> {
    let outbox = OutboxChat::new(store.clone(), "test");
    let mut progress = vec![];
    for ch in CHANNELS {
        let m = outbox
            .post(&Post::new(
                ch,
                PostKind::Progress,
                format!("{ch} progress 0"),
            ))
            .await
            .unwrap();
        progress.push(m);
    }
    for i in 1..=POSTS {
        for (ch, m) in CHANNELS.iter().zip(&progress) {
            outbox
                .post(&Post::new(ch, PostKind::Info, format!("{ch} post {i}")))
                .await
                .unwrap();
            let edit = Post::new(ch, PostKind::Progress, format!("{ch} progress {i}"));
            outbox.update(m, &edit).await.unwrap();
        }
    }
    progress
}

/// Passes every `step` ms of simulated time, every replica's at once,
/// until nothing is due or `limit` ms; returns (given up, simulated ms it took).
async fn drive(
    stores: &[Store],
    platform: &Platform,
    t0: DateTime<Utc>,
    step: i64,
    limit: i64,
) -> (usize, i64) {
    let mut failed = 0;
    let mut ms = 0;
    let wanted = CHANNELS.len() * (POSTS + 1);
    while ms <= limit {
        platform.clock.store(ms, Ordering::SeqCst);
        let now = t0 + chrono::Duration::milliseconds(ms);
        let passes = stores
            .iter()
            .map(|store| deliver_due(store, "test", platform, now, PACE));
        for pass in futures_util::future::join_all(passes).await {
            failed += pass.unwrap().failed;
        }
        if platform.delivered.lock().unwrap().len() >= wanted && ms % 5_000 == 0 {
            break;
        }
        ms += step;
    }
    (failed, ms)
}

/// Every post once, in order per channel, and each progress message at its last text.
fn assert_all_delivered_once_in_order(platform: &Platform) {
    let delivered = platform.delivered.lock().unwrap().clone();
    for ch in CHANNELS {
        let got: Vec<&str> = delivered
            .iter()
            .filter(|(c, _)| c == ch)
            .map(|(_, t)| t.as_str())
            .collect();
        let mut want = vec![format!("{ch} progress 0")];
        want.extend((1..=POSTS).map(|i| format!("{ch} post {i}")));
        assert_eq!(got, want, "{ch}: every post once, in order");
    }
    let texts = platform.texts.lock().unwrap();
    for ch in CHANNELS {
        assert!(
            texts
                .values()
                .any(|t| t == &format!("{ch} progress {POSTS}")),
            "{ch}'s progress message ends at its last edit: {texts:?}"
        );
    }
}

/// 429 for the first 12 s of every call, Retry-After 1 or 2 s, then OK.
fn burst_of_429s(ms: i64, n: usize) -> Option<ChatError> {
    (ms < 12_000).then(|| ChatError::rate_limited(Duration::from_secs(1 + (n % 2) as u64)))
}

#[tokio::test]
async fn a_burst_of_429s_delays_posts_but_loses_none_and_keeps_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    queue(&store).await;
    let platform = Platform::new(burst_of_429s);
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    let (failed, took) = drive(&[store], &platform, t0, 250, 120_000).await;
    assert_eq!(failed, 0, "none given up");
    assert_all_delivered_once_in_order(&platform);
    assert_eq!(platform.calls_during_a_wait(), Vec::<String>::new());
    let calls = platform.calls.lock().unwrap().len();
    let limited = platform.holds.lock().unwrap().len();
    println!("429 burst: {calls} calls, {limited} answered 429, delivered by {took} ms");
}

/// HTTP 500 for the first 3 minutes, then OK.
fn three_minutes_of_500s(ms: i64, _: usize) -> Option<ChatError> {
    (ms < 180_000).then(|| ChatError::transient("Slack answered HTTP 500"))
}

#[tokio::test]
async fn three_minutes_of_server_errors_delay_posts_but_lose_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    queue(&store).await;
    let platform = Platform::new(three_minutes_of_500s);
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    let (failed, took) = drive(&[store], &platform, t0, 1_000, 600_000).await;
    assert_eq!(failed, 0, "none given up");
    assert_all_delivered_once_in_order(&platform);
    let calls = platform.calls.lock().unwrap().len();
    println!("3 min of 500s: {calls} calls, delivered by {took} ms");
}

#[tokio::test]
async fn two_replicas_never_call_during_each_others_retry_after() {
    let url = fresh_postgres().await;
    let (a, b) = (
        Store::connect(&url).await.unwrap(),
        Store::connect(&url).await.unwrap(),
    );
    queue(&a).await;
    let platform = Platform::new(burst_of_429s);
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    // Both replicas pass at once every 250 ms: each sees the other's 429s and
    // deliveries only through the database.
    let (failed, took) = drive(&[a.clone(), b], &platform, t0, 250, 120_000).await;
    assert_eq!(failed, 0, "none given up");
    assert_all_delivered_once_in_order(&platform);
    assert_eq!(platform.calls_during_a_wait(), Vec::<String>::new());
    println!("2 replicas, 429 burst: delivered by {took} ms");
}

/// Slack limits each Web API method per workspace ("Rate limits": tiers apply per
/// method per workspace per app), so a 429 on `chat.update` in one channel holds
/// the edits of every channel for its `Retry-After`; posts, another method, go on.
#[tokio::test]
async fn a_slack_429_on_one_channels_edit_holds_every_channels_edits_not_their_posts() {
    use common::fake_slack::{Failure, FakeSlack, BOT_TOKEN};
    use warroom::chat::slack::web::{client, SlackWeb};
    let fake = FakeSlack::start().await;
    fake.invite("C_A");
    fake.invite("C_B");
    fake.invite("C_C");
    let slack = SlackWeb::new(
        client(&fake.api_url()).unwrap(),
        &secrecy::SecretString::from(BOT_TOKEN.to_string()),
    );
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "slack");
    let a = outbox
        .post(&Post::new("C_A", PostKind::Progress, "A running"))
        .await
        .unwrap();
    let b = outbox
        .post(&Post::new("C_B", PostKind::Progress, "B running"))
        .await
        .unwrap();
    let t0 = Utc::now();
    let at = |ms: i64| t0 + chrono::Duration::milliseconds(ms);
    deliver_due(&store, "slack", &slack, at(0), PACE)
        .await
        .unwrap();
    assert_eq!(fake.calls_to("chat.postMessage").len(), 2);

    // A's edit is refused with Retry-After: 2.
    outbox
        .update(&a, &Post::new("C_A", PostKind::Progress, "A done"))
        .await
        .unwrap();
    fake.fail_next(
        "chat.update",
        Failure::RateLimited {
            retry_after_secs: 2,
        },
    );
    let held = deliver_due(&store, "slack", &slack, at(1_100), PACE)
        .await
        .unwrap();
    assert_eq!(held.rate_limited, 1, "{held:?}");
    // B's edit, and a post in C, come while the hold lasts.
    outbox
        .update(&b, &Post::new("C_B", PostKind::Progress, "B done"))
        .await
        .unwrap();
    outbox
        .post(&Post::new("C_C", PostKind::Info, "C news"))
        .await
        .unwrap();
    let during = deliver_due(&store, "slack", &slack, at(2_200), PACE)
        .await
        .unwrap();
    assert_eq!(
        fake.calls_to("chat.update").len(),
        1,
        "no edit is sent while chat.update is held: {during:?}"
    );
    assert_eq!(fake.messages("C_C").len(), 1, "posts are another method");
    // After the hold: both edits go.
    for ms in [3_200, 4_300, 5_400] {
        deliver_due(&store, "slack", &slack, at(ms), PACE)
            .await
            .unwrap();
    }
    let updates = fake.calls_to("chat.update");
    assert_eq!(updates.len(), 3, "{updates:?}");
    assert!(updates[1..].iter().all(|c| c.status == 200));
    assert!(fake.messages("C_A")[0].text.contains("A done"));
    assert!(fake.messages("C_B")[0].text.contains("B done"));
}

/// An edit that keeps failing (Slack answering 500, RFC 9110 15.6: the server's
/// trouble) does not hold the channel's later posts: it changes a message already
/// there. The issue 14 soak saw a channel wait minutes behind a failing edit.
#[tokio::test]
async fn a_failing_edit_does_not_hold_the_later_posts_of_its_channel() {
    use common::fake_slack::{Failure, FakeSlack, BOT_TOKEN};
    use warroom::chat::slack::web::{client, SlackWeb};
    let fake = FakeSlack::start().await;
    fake.invite("C_A");
    let slack = SlackWeb::new(
        client(&fake.api_url()).unwrap(),
        &secrecy::SecretString::from(BOT_TOKEN.to_string()),
    );
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "slack");
    let progress = outbox
        .post(&Post::new("C_A", PostKind::Progress, "RUN-1 running"))
        .await
        .unwrap();
    let t0 = Utc::now();
    let at = |ms: i64| t0 + chrono::Duration::milliseconds(ms);
    deliver_due(&store, "slack", &slack, at(0), PACE)
        .await
        .unwrap();
    outbox
        .update(
            &progress,
            &Post::new("C_A", PostKind::Progress, "RUN-1 step 2"),
        )
        .await
        .unwrap();
    for _ in 0..5 {
        fake.fail_next("chat.update", Failure::ServerError);
    }
    let failed = deliver_due(&store, "slack", &slack, at(1_100), PACE)
        .await
        .unwrap();
    assert_eq!(failed.retried, 1, "{failed:?}");
    outbox
        .post(&Post::new("C_A", PostKind::Info, "the next post"))
        .await
        .unwrap();
    // At 2.2 s the edit's retry takes the channel's slot (and fails again); at
    // 3.3 s the edit is backing off (to 4.2 s), and the post goes.
    for ms in [2_200, 3_300] {
        deliver_due(&store, "slack", &slack, at(ms), PACE)
            .await
            .unwrap();
    }
    let texts: Vec<String> = fake.messages("C_A").into_iter().map(|m| m.text).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].contains("the next post"), "{texts:?}");
}
