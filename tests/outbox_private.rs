//! Private replies (issue 18): one command's replies to one person keep their
//! order; one person's replies to different commands go side by side, so a busy
//! on-call engineer's replies do not queue behind one HTTP call at a time.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use warroom::chat::outbox::{deliver_due, Delivered, OutboxChat};
use warroom::chat::{Chat, ChatError, MessageRef, Post, PostKind};
use warroom::model::user::UserId;

/// A platform whose every call takes a while, counting how many are in flight.
#[derive(Default)]
struct Slow {
    log: Mutex<Vec<String>>,
    now: AtomicUsize,
    most: AtomicUsize,
}

#[async_trait]
impl Chat for Slow {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        let mut log = self.log.lock().unwrap();
        log.push(post.text.clone());
        Ok(MessageRef {
            channel: post.channel.clone(),
            id: format!("ts.{}", log.len()),
        })
    }
    async fn update(&self, _: &MessageRef, _: &Post) -> Result<(), ChatError> {
        Ok(())
    }
}

/// One delivery pass of the `test` outbox, a second from now, to a slow platform.
async fn one_pass(store: &warroom::store::Store) -> (Slow, Delivered) {
    let platform = Slow::default();
    let now = Utc::now() + chrono::Duration::seconds(1);
    let done = deliver_due(store, "test", &platform, now, Duration::from_secs(1))
        .await
        .unwrap();
    (platform, done)
}

#[tokio::test]
async fn one_persons_replies_to_different_commands_go_side_by_side_and_each_commands_in_order() {
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    let oncall = UserId::new("test", "U_ONCALL");
    // Eight commands from one person, three replies each, interleaved as a busy
    // channel would queue them.
    for part in 0..3 {
        for command in 0..8 {
            let text = format!("c{command} part {part}");
            let reply = Post::new("C1", PostKind::Info, text)
                .reply_to(&oncall, Some(&format!("trigger.{command}")));
            outbox.post(&reply).await.unwrap();
        }
    }
    let (platform, done) = one_pass(&store).await;
    assert_eq!(done.sent, 24);
    let log = platform.log.lock().unwrap().clone();
    for command in 0..8 {
        let mine: Vec<&String> = log
            .iter()
            .filter(|t| t.starts_with(&format!("c{command} ")))
            .collect();
        let want: Vec<String> = (0..3).map(|p| format!("c{command} part {p}")).collect();
        assert_eq!(mine, want.iter().collect::<Vec<_>>(), "c{command} in order");
    }
    // Before issue 18's change the person's 24 replies went one at a time.
    assert!(
        platform.most.load(Ordering::SeqCst) > 1,
        "replies to different commands were sent one after another"
    );
}

#[tokio::test]
async fn replies_that_answer_no_command_keep_the_readers_order() {
    let (store, _dir) = common::sqlite_store().await;
    let outbox = OutboxChat::new(store.clone(), "test");
    let oncall = UserId::new("test", "U_ONCALL");
    for n in 0..6 {
        let reply = Post::new("C1", PostKind::Info, format!("n{n}")).ephemeral(&oncall);
        outbox.post(&reply).await.unwrap();
    }
    let (platform, _) = one_pass(&store).await;
    let log = platform.log.lock().unwrap().clone();
    assert_eq!(log, (0..6).map(|n| format!("n{n}")).collect::<Vec<_>>());
    assert_eq!(platform.most.load(Ordering::SeqCst), 1);
}
