//! The durable outbox: order, pacing, Retry-After, backoff, restarts and concurrent
//! deliverers, against a scripted platform. Time is passed in, never slept.

mod common;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::{fresh_postgres, say, Env, StateDb};
use warroom::chat::outbox::{deliver_due, useful_for, Delivered, OutboxChat};
use warroom::chat::{Chat, ChatError, MessageRef, Post, PostKind};
use warroom::store::Store;

const PACE: Duration = Duration::from_secs(1);

/// A platform that records what it receives and fails as scripted.
#[derive(Default)]
struct Platform {
    log: Mutex<Vec<String>>,
    failures: Mutex<VecDeque<ChatError>>,
    /// A channel every post into which is refused (Slack's `not_in_channel`).
    closed: Option<&'static str>,
}

impl Platform {
    fn failing(errors: Vec<ChatError>) -> Self {
        Platform {
            log: Mutex::default(),
            failures: Mutex::new(errors.into()),
            closed: None,
        }
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn next_failure(&self) -> Option<ChatError> {
        self.failures.lock().unwrap().pop_front()
    }
}

#[async_trait]
impl Chat for Platform {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        if self.closed == Some(post.channel.as_str()) {
            return Err(ChatError::shut_out("Slack refused it: not_in_channel"));
        }
        if let Some(e) = self.next_failure() {
            return Err(e);
        }
        let mut log = self.log.lock().unwrap();
        log.push(format!("post {} {}", post.channel, post.text));
        Ok(MessageRef {
            channel: post.channel.clone(),
            id: format!("ts.{}", log.len()),
        })
    }
    async fn update(&self, m: &MessageRef, post: &Post) -> Result<(), ChatError> {
        if let Some(e) = self.next_failure() {
            return Err(e);
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("edit {} {} {}", m.channel, m.id, post.text));
        Ok(())
    }
}

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (
        Store::connect(&dir.path().join("s.db").display().to_string())
            .await
            .unwrap(),
        dir,
    )
}

fn post(channel: &str, text: &str) -> Post {
    Post::new(channel, PostKind::Info, text)
}

fn at(t0: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    t0 + chrono::Duration::milliseconds(ms)
}

/// One delivery pass of the `test` outbox, `ms` after `t0`.
async fn pass(store: &Store, platform: &dyn Chat, t0: DateTime<Utc>, ms: i64) -> Delivered {
    deliver_due(store, "test", platform, at(t0, ms), PACE)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_edit_waits_for_its_post_and_targets_the_platforms_id() {
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    let m = outbox.post(&post("C1", "⏳ running")).await.unwrap();
    assert!(m.id.starts_with("out:"));
    outbox.update(&m, &post("C1", "✅ done")).await.unwrap();
    let platform = Platform::default();
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    pass(&store, &platform, t0, 0).await;
    pass(&store, &platform, t0, 1000).await;
    assert_eq!(
        platform.log(),
        ["post C1 ⏳ running", "edit C1 ts.1 ✅ done"]
    );
}

#[tokio::test]
async fn one_message_per_second_per_channel() {
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    for text in ["a", "b", "c"] {
        outbox.post(&post("C1", text)).await.unwrap();
    }
    outbox.post(&post("C2", "other")).await.unwrap();
    let platform = Platform::default();
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    // Channels are delivered side by side (a hung call holds only its own), so
    // the order is promised within a channel, not across them.
    let sorted = |mut log: Vec<String>| {
        log.sort();
        log
    };
    let of = |channel: &str| -> Vec<String> {
        platform
            .log()
            .into_iter()
            .filter(|l| l.starts_with(&format!("post {channel} ")))
            .collect()
    };
    pass(&store, &platform, t0, 0).await;
    assert_eq!(
        sorted(platform.log()),
        ["post C1 a", "post C2 other"],
        "one per channel at once"
    );
    pass(&store, &platform, t0, 500).await;
    assert_eq!(platform.log().len(), 2, "not within the second");
    pass(&store, &platform, t0, 1000).await;
    pass(&store, &platform, t0, 2000).await;
    assert_eq!(of("C1"), ["post C1 a", "post C1 b", "post C1 c"]);
    assert_eq!(of("C2"), ["post C2 other"]);
    assert_eq!(platform.log().len(), 4);
}

#[tokio::test]
async fn a_429_waits_exactly_as_long_as_retry_after_asks() {
    let (store, _dir) = sqlite().await;
    OutboxChat::new(store.clone(), "test")
        .post(&post("C1", "hello"))
        .await
        .unwrap();
    let platform = Platform::failing(vec![ChatError::rate_limited(Duration::from_secs(5))]);
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    let first = pass(&store, &platform, t0, 0).await;
    assert_eq!(
        (first.rate_limited, first.retried),
        (1, 0),
        "a pace, not an attempt"
    );
    pass(&store, &platform, t0, 4_999).await;
    assert!(platform.log().is_empty());
    pass(&store, &platform, t0, 5_000).await;
    assert_eq!(platform.log(), ["post C1 hello"]);
}

#[tokio::test]
async fn server_errors_back_off_exponentially_and_permanent_ones_stop_at_once() {
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    outbox.post(&post("C1", "retry me")).await.unwrap();
    let platform = Platform::failing(vec![
        ChatError::transient("HTTP 500"),
        ChatError::transient("HTTP 502"),
    ]);
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    pass(&store, &platform, t0, 0).await; // fails, retry after 1 s
    pass(&store, &platform, t0, 1_000).await; // fails, retry after 2 s
    pass(&store, &platform, t0, 2_999).await;
    assert!(platform.log().is_empty(), "backing off");
    pass(&store, &platform, t0, 3_000).await;
    assert_eq!(platform.log(), ["post C1 retry me"]);

    outbox.post(&post("C9", "bad channel")).await.unwrap();
    let broken = Platform::failing(vec![ChatError::permanent("channel_not_found")]);
    let result = pass(&store, &broken, t0, 10_000).await;
    assert_eq!(result.failed, 1);
    assert_eq!(
        pass(&store, &broken, t0, 60_000).await.sent,
        0,
        "given up, not retried"
    );

    // Transient failures retry for as long as the post is useful, then it is given
    // up (and told): by age, not by a count of attempts.
    let flaky_post = post("C8", "flaky forever");
    outbox.post(&flaky_post).await.unwrap();
    let useful = chrono::Duration::from_std(useful_for("post", &flaky_post)).unwrap();
    let flaky = Platform::failing(
        (0..1000)
            .map(|_| ChatError::transient("HTTP 503"))
            .collect(),
    );
    let mut t = at(t0, 20_000);
    let mut failed = 0;
    while t < Utc::now() + useful - chrono::Duration::seconds(70) {
        failed += deliver_due(&store, "test", &flaky, t, PACE)
            .await
            .unwrap()
            .failed;
        t += chrono::Duration::seconds(65);
    }
    assert_eq!(failed, 0, "still useful: still retried, past 8 attempts");
    t = Utc::now() + useful + chrono::Duration::seconds(70);
    assert_eq!(
        deliver_due(&store, "test", &flaky, t, PACE)
            .await
            .unwrap()
            .failed,
        1,
        "given up past its age"
    );
    assert!(flaky.log().is_empty());
    assert_eq!(
        deliver_due(
            &store,
            "test",
            &Platform::default(),
            t + chrono::Duration::hours(1),
            PACE
        )
        .await
        .unwrap()
        .sent,
        0,
        "given up, not retried"
    );
}

#[tokio::test]
async fn nothing_is_lost_across_a_restart_and_nothing_is_sent_twice() {
    let url = fresh_postgres().await;
    {
        let before = Store::connect(&url).await.unwrap();
        let outbox = OutboxChat::new(before.clone(), "test");
        for i in 0..5 {
            outbox
                .post(&post(&format!("C{i}"), "queued before the crash"))
                .await
                .unwrap();
        }
        before.close().await;
    }
    let after = Store::connect(&url).await.unwrap();
    let platform = Platform::default();
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(pass(&after, &platform, t0, 0).await.sent, 5);
    assert_eq!(pass(&after, &platform, t0, 5_000).await.sent, 0);
    assert_eq!(platform.log().len(), 5);
}

#[tokio::test]
async fn two_deliverers_at_once_send_each_message_once() {
    let url = fresh_postgres().await;
    let (a, b) = (
        Store::connect(&url).await.unwrap(),
        Store::connect(&url).await.unwrap(),
    );
    let outbox = OutboxChat::new(a.clone(), "test");
    for i in 0..40 {
        outbox.post(&post(&format!("C{i}"), "once")).await.unwrap();
    }
    let platform = Platform::default();
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    let (x, y) = tokio::join!(
        deliver_due(&a, "test", &platform, t0, PACE),
        deliver_due(&b, "test", &platform, t0, PACE)
    );
    assert_eq!(x.unwrap().sent + y.unwrap().sent, 40);
    let mut log = platform.log();
    log.sort();
    log.dedup();
    assert_eq!(log.len(), 40, "no message twice");
}

#[tokio::test]
async fn a_whole_run_through_the_outbox_arrives_in_order_with_edits_in_place() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let store = Store::connect(secrecy::ExposeSecret::expose_secret(
        &env.settings.database_url,
    ))
    .await
    .unwrap();
    let app = warroom::app::App::build(
        env.settings.clone(),
        std::sync::Arc::new(OutboxChat::new(store.clone(), "test")),
    )
    .await
    .unwrap();
    assert_eq!(
        say(&app, "U_ONCALL", "/kanban-off reason=\"via the outbox\"").await,
        warroom::app::Outcome::Done
    );
    let platform = Platform::default();
    let mut t = Utc::now() + chrono::Duration::seconds(1);
    for _ in 0..40 {
        deliver_due(&store, "test", &platform, t, PACE)
            .await
            .unwrap();
        t += chrono::Duration::seconds(1);
    }
    let log = platform.log();
    let progress = log
        .iter()
        .position(|l| l.starts_with("post C_INC ⏳ **RUN-1**"))
        .expect("progress posted");
    let first_edit = log
        .iter()
        .position(|l| l.starts_with("edit C_INC ts."))
        .expect("edits delivered");
    assert!(progress < first_edit, "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("✅ **RUN-1** /kanban-off — succeeded")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("post C_INC 🚨 **P0: Kanban V2 disabled globally.")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("post C_STATUS INCIDENT ALERT")),
        "{log:#?}"
    );
}

#[tokio::test]
async fn a_channel_closed_to_warroom_is_said_once_in_the_stakeholder_channel() {
    use warroom::chat::outbox::{deliver_due_noting, Notices};
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    outbox.post(&post("G_PRIVATE", "progress")).await.unwrap();
    outbox.post(&post("G_PRIVATE", "result")).await.unwrap();
    // Refused by channel, not by turn: channels are delivered side by side.
    let platform = Platform {
        closed: Some("G_PRIVATE"),
        ..Platform::default()
    };
    let mut notices = Notices::to("C_STATUS");
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    for ms in [0, 1000, 2000, 3000] {
        deliver_due_noting(&store, "test", &platform, at(t0, ms), PACE, &mut notices)
            .await
            .unwrap();
    }
    let log = platform.log();
    assert_eq!(log.len(), 1, "one notice for two refused posts: {log:?}");
    assert!(
        log[0].starts_with("post C_STATUS ⚠️ warroom cannot post in channel G_PRIVATE.")
            && log[0].contains("not_in_channel"),
        "{log:?}"
    );
    // Other permanent failures are only logged, as before.
    outbox.post(&post("C1", "bad blocks")).await.unwrap();
    let platform = Platform::failing(vec![ChatError::permanent("invalid_blocks")]);
    deliver_due_noting(&store, "test", &platform, at(t0, 5000), PACE, &mut notices)
        .await
        .unwrap();
    assert!(platform.log().is_empty(), "{:?}", platform.log());
}

/// A platform that takes at most one line a message (as Slack takes ~12,000
/// characters and Discord 2,000), and fails its `fail_on`th post once.
struct Narrow {
    inner: Platform,
    calls: Mutex<usize>,
    fail_on: usize,
}

#[async_trait]
impl Chat for Narrow {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if n == self.fail_on {
            return Err(ChatError::transient("502 on the second piece"));
        }
        self.inner.post(post).await
    }
    async fn update(&self, m: &MessageRef, post: &Post) -> Result<(), ChatError> {
        self.inner.update(m, post).await
    }
    fn split(&self, post: &Post) -> Vec<Post> {
        post.text
            .lines()
            .map(|l| Post::new(&post.channel, post.kind, l))
            .collect()
    }
}

/// Issue 11: a post longer than one message goes out as several, in order, before
/// the channel's next post; a failure on a later piece resumes there, so no piece is
/// sent twice; the post's id is its first message (edits go there).
#[tokio::test]
async fn a_post_too_long_for_one_message_goes_out_in_pieces_and_resumes_after_a_failure() {
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    let m = outbox
        .post(&post("C1", "part one\npart two\npart three"))
        .await
        .unwrap();
    outbox.post(&post("C1", "next")).await.unwrap();
    let platform = Narrow {
        inner: Platform::default(),
        calls: Mutex::new(0),
        fail_on: 2,
    };
    let t0 = Utc::now() + chrono::Duration::seconds(1);
    for s in 0..10 {
        deliver_due(&store, "test", &platform, at(t0, s * 1000), PACE)
            .await
            .unwrap();
    }
    outbox.update(&m, &post("C1", "edited")).await.unwrap();
    for s in 10..14 {
        deliver_due(&store, "test", &platform, at(t0, s * 1000), PACE)
            .await
            .unwrap();
    }
    assert_eq!(
        platform.inner.log(),
        [
            "post C1 part one",
            "post C1 part two",
            "post C1 part three",
            "post C1 next",
            "edit C1 ts.1 edited"
        ]
    );
}

/// Issue 14: on SIGTERM only 4 of 13 finished results were posted before exit; the
/// rest waited for a restart. A stopping deliverer drains what is queued (bounded
/// by `outbox::DRAIN`), keeping each channel's pace.
#[tokio::test]
async fn a_stopping_deliverer_sends_what_is_queued_first() {
    let (store, _dir) = sqlite().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    for text in ["a", "b", "c", "d", "e"] {
        outbox.post(&post("C1", text)).await.unwrap();
    }
    let platform = std::sync::Arc::new(Platform::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Asked to stop before its first pass is over.
    stop.send(true).unwrap();
    warroom::chat::outbox::run(
        store.clone(),
        "test".into(),
        platform.clone(),
        Duration::from_millis(50),
        Duration::from_millis(20),
        Default::default(),
        stopped,
    )
    .await;
    assert_eq!(
        platform.log(),
        [
            "post C1 a",
            "post C1 b",
            "post C1 c",
            "post C1 d",
            "post C1 e"
        ]
    );
    assert_eq!(store.outbox_pending("test").await.unwrap(), 0);
}
