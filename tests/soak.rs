//! The soak of issue 14, run by hand (it is a measurement, not a timed test; a
//! 20-second version runs with the suite):
//!
//! ```text
//! WARROOM_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture
//! ```
//!
//! Three replicas share one PostgreSQL state database, each with its own outbox
//! deliverer calling one fake Slack (the real Web API wire format, `tests/common`),
//! while all three queue posts and edits into four channels and the fake is made to
//! misbehave every few seconds: 429 with `Retry-After: 1`, HTTP 500, a request
//! never answered, and a request carried out whose answer is lost. At the end it
//! prints what was queued, sent, duplicated, reordered and given up, and fails on
//! any duplicate, order break, loss or give-up.
//!
//! Expectations: Slack "Rate limits" (a 429's `Retry-After`, about one message per
//! second per channel) and message metadata (docs.slack.dev "Using message
//! metadata"), as in `tests/outbox_faults.rs` and `tests/lost_answers.rs`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_slack::{Failure, FakeSlack, BOT_TOKEN};
use secrecy::SecretString;
use warroom::chat::outbox::{self, OutboxChat};
use warroom::chat::slack::web::{client, SlackWeb};
use warroom::chat::{Chat, MessageRef, Post, PostKind};
use warroom::store::Store;

const REPLICAS: usize = 3;
const CHANNELS: [&str; 4] = ["C_SOAK1", "C_SOAK2", "C_SOAK3", "C_SOAK4"];
/// Each replica queues one post every this long (so 3 × 4 channels' worth of
/// posts arrive at about the channels' pace of one a second each).
const EVERY: Duration = Duration::from_millis(1500);
/// How often the next call of a method is made to misbehave.
const FAULT_EVERY: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 10-minute soak: run by hand, see the file's header"]
async fn three_replicas_under_injected_faults_deliver_every_post_once_and_in_order() {
    let secs: u64 = std::env::var("WARROOM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    soak(secs).await;
}

/// The same, for 20 s, in every run of the suite: three replicas, each fault kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_under_a_few_injected_faults_deliver_every_post_once_and_in_order() {
    soak(20).await;
}

async fn soak(secs: u64) {
    let url = common::fresh_postgres().await;
    let fake = FakeSlack::start().await;
    for c in CHANNELS {
        fake.invite(c);
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut stores = Vec::new();
    let mut deliverers = Vec::new();
    for _ in 0..REPLICAS {
        let store = Store::connect(&url).await.unwrap();
        let slack: Arc<dyn Chat> = Arc::new(
            SlackWeb::new(
                client(&fake.api_url()).unwrap(),
                &SecretString::from(BOT_TOKEN.to_string()),
            )
            .with_timeout(Duration::from_secs(2)),
        );
        deliverers.push(tokio::spawn(outbox::run(
            store.clone(),
            "slack".into(),
            slack,
            Duration::from_secs(1),
            Duration::from_millis(100),
            outbox::Notices::default(),
            stopped.clone(),
        )));
        stores.push(store);
    }

    // Every few seconds, the next call of one method misbehaves.
    let faults = {
        let fake = fake.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let kinds = [
                Failure::RateLimited {
                    retry_after_secs: 1,
                },
                Failure::ServerError,
                Failure::NeverAnswers,
                Failure::DoneButNeverAnswers,
            ];
            let mut n = 0usize;
            let mut injected: HashMap<String, usize> = HashMap::new();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(FAULT_EVERY) => {}
                    _ = stopped.changed() => return injected,
                }
                let method = if n % 3 == 2 {
                    "chat.update"
                } else {
                    "chat.postMessage"
                };
                n += 1;
                // One fault at a time: "the next call fails", not a backlog of
                // failures waiting for calls.
                if fake.failures_waiting(method) > 0 {
                    continue;
                }
                // 3 method slots and 4 kinds are coprime: every pairing comes up.
                let kind = kinds[n % kinds.len()].clone();
                *injected.entry(format!("{method} {kind:?}")).or_default() += 1;
                fake.fail_next(method, kind);
            }
        })
    };

    // Producers: per channel, a lock makes the sequence number and the outbox row
    // one step, so row order is sequence order across replicas.
    let locks: Arc<Vec<tokio::sync::Mutex<u64>>> = Arc::new(
        CHANNELS
            .iter()
            .map(|_| tokio::sync::Mutex::new(0))
            .collect(),
    );
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut producers = Vec::new();
    for (r, store) in stores.iter().enumerate() {
        let (store, locks) = (store.clone(), locks.clone());
        producers.push(tokio::spawn(async move {
            let chat = OutboxChat::new(store, "slack");
            let mut edits: Vec<(MessageRef, String)> = Vec::new();
            let mut i = 0usize;
            while Instant::now() < until {
                let c = (i + r) % CHANNELS.len();
                let channel = CHANNELS[c];
                let text = {
                    let mut seq = locks[c].lock().await;
                    *seq += 1;
                    let text = format!("soak {channel} #{:06} from replica {r}", *seq);
                    let m = chat
                        .post(&Post::new(channel, PostKind::Progress, &text))
                        .await
                        .expect("queued");
                    if *seq % 5 == 0 {
                        edits.push((m, text.clone()));
                    }
                    text
                };
                let _ = text;
                // Edit some earlier post of this replica's, as a run's progress is.
                if let Some((m, text)) = edits.pop() {
                    chat.update(
                        &m,
                        &Post::new(&m.channel, PostKind::Progress, format!("{text} (edited)")),
                    )
                    .await
                    .expect("queued");
                }
                i += 1;
                tokio::time::sleep(EVERY).await;
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    // Let the outboxes finish what is queued.
    let drain = Instant::now();
    while stores[0].outbox_pending("slack").await.unwrap() > 0
        && drain.elapsed() < Duration::from_secs(180)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = stop.send(true);
    for d in deliverers {
        let _ = d.await;
    }
    let injected = faults.await.unwrap();

    let (queued, edits_queued): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE op = 'post'), COUNT(*) FILTER (WHERE op = 'update') FROM outbox",
    )
    .fetch_one(stores[0].pool())
    .await
    .unwrap();
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    let (mut sent, mut duplicates, mut order_breaks, mut stale_edits) = (0, 0, 0, 0);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for channel in CHANNELS {
        let mut last = 0u64;
        for m in fake.messages(channel) {
            sent += 1;
            let seq: u64 = m
                .text
                .split('#')
                .nth(1)
                .and_then(|s| s.get(..6))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if seq <= last {
                order_breaks += 1;
            }
            last = last.max(seq);
            let key = format!("{channel}#{seq}");
            *seen.entry(key).or_default() += 1;
            if seq % 5 == 0 && !m.text.contains("(edited)") {
                stale_edits += 1;
            }
        }
    }
    for n in seen.values() {
        if *n > 1 {
            duplicates += n - 1;
        }
    }
    let lost = queued as usize - seen.len();
    let looked = fake.calls_to("conversations.history").len();
    println!(
        "soak: {secs} s, {REPLICAS} replicas on one PostgreSQL, {} channels\n\
         queued: {queued} posts, {edits_queued} edits\n\
         faults injected: {injected:?}\n\
         outbox rows by state: {states:?}\n\
         sent: {sent} messages; duplicates: {duplicates}; order breaks: {order_breaks}; \
         lost: {lost}; edits not applied: {stale_edits}; lookups before resending: {looked}\n\
         drained {:.1} s after the producers stopped",
        CHANNELS.len(),
        drain.elapsed().as_secs_f64()
    );
    assert_eq!(duplicates, 0);
    assert_eq!(order_breaks, 0);
    assert_eq!(lost, 0);
    assert_eq!(stale_edits, 0);
    assert!(
        states.iter().all(|(s, _)| s == "sent"),
        "given up or left: {states:?}"
    );
}
