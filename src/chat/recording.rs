//! A chat that records everything, for tests: what was posted, where, and every edit.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{Chat, ChatError, MessageRef, Post};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub message: MessageRef,
    pub post: Post,
    /// Texts of later edits, oldest first.
    pub edits: Vec<String>,
}

impl Recorded {
    /// The text as it reads now.
    pub fn text(&self) -> &str {
        self.edits.last().unwrap_or(&self.post.text)
    }
}

#[derive(Default)]
pub struct RecordingChat {
    log: Mutex<Vec<Recorded>>,
}

impl RecordingChat {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn posts(&self) -> Vec<Recorded> {
        self.log.lock().expect("recording chat lock").clone()
    }

    /// Every text posted or edited, in order, joined: handy for `contains` checks.
    pub fn transcript(&self) -> String {
        self.posts()
            .iter()
            .map(|r| r.text().to_string())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    pub fn clear(&self) {
        self.log.lock().expect("recording chat lock").clear();
    }
}

#[async_trait]
impl Chat for RecordingChat {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        let mut log = self.log.lock().expect("recording chat lock");
        let message = MessageRef {
            channel: post.channel.clone(),
            id: (log.len() + 1).to_string(),
        };
        log.push(Recorded {
            message: message.clone(),
            post: post.clone(),
            edits: Vec::new(),
        });
        Ok(message)
    }

    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError> {
        let mut log = self.log.lock().expect("recording chat lock");
        let entry = log
            .iter_mut()
            .find(|r| &r.message == message)
            .ok_or_else(|| ChatError::permanent(format!("no message {}", message.encode())))?;
        entry.edits.push(post.text.clone());
        Ok(())
    }
}
