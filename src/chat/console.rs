//! The console adapter: posts go to stdout, as text or as one JSON object per post.
//!
//! Progress edits print only the lines that changed, so a terminal shows each step
//! ticking over instead of the whole message again.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Chat, ChatError, MessageRef, Post};

mod terminal;

pub struct ConsoleChat {
    json: bool,
    /// Bold as ANSI bold: only when stdout is a terminal.
    ansi: bool,
    home: String,
    next: AtomicU64,
    last: Mutex<HashMap<String, String>>,
    /// A heading printed once, before the next post (see [`ConsoleChat::section`]).
    heading: Mutex<Option<String>>,
    /// The last text printed and its channel.
    printed: Mutex<Option<(String, String)>>,
}

impl ConsoleChat {
    /// `home` is the channel the user types in; posts elsewhere are labelled.
    pub fn new(home: &str, json: bool) -> Self {
        use std::io::IsTerminal;
        ConsoleChat {
            json,
            ansi: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            home: home.into(),
            next: AtomicU64::new(1),
            last: Mutex::new(HashMap::new()),
            heading: Mutex::new(None),
            printed: Mutex::new(None),
        }
    }

    /// Posts from here on are set apart under `title`, printed before the first of
    /// them (and not at all if none comes): clocks that fire after `warroom run`'s
    /// command are not read as part of its answer.
    pub fn section(&self, title: &str) {
        if let Ok(mut h) = self.heading.lock() {
            *h = Some(title.to_string());
        }
    }

    fn emit(&self, post: &Post, edit_of: Option<&str>, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.json {
            let mut obj = serde_json::json!({
                "channel": post.channel,
                "text": text,
                "ephemeral": post.ephemeral_to.is_some(),
                "kind": post.kind.as_str(),
            });
            if let Some(id) = edit_of {
                obj["edit_of"] = id.into();
            }
            if !post.mentions.is_empty() {
                obj["mentions"] = post.mentions.clone().into();
            }
            if !post.buttons.is_empty() {
                obj["buttons"] = serde_json::to_value(&post.buttons).unwrap_or_default();
            }
            let _ = writeln!(out, "{obj}");
        } else {
            // A decision edits its request and announces itself with the same words
            // (on a platform, one is an edit in place, the other the notification); a
            // terminal shows them once (issue 12: deny and cancel notices printed
            // twice).
            if let Ok(mut last) = self.printed.lock() {
                let this = (post.channel.clone(), text.to_string());
                if last.as_ref() == Some(&this) {
                    return;
                }
                *last = Some(this);
            }
            if let Some(title) = self.heading.lock().ok().and_then(|mut h| h.take()) {
                let _ = writeln!(out, "── {title} ──");
            }
            if post.channel != self.home {
                let _ = writeln!(out, "── to {} ──", post.channel);
            }
            if post.ephemeral_to.is_some() {
                let _ = writeln!(out, "(only you can see this)");
            }
            if !post.mentions.is_empty() {
                let _ = writeln!(out, "(paging {})", post.mentions.join(", "));
            }
            let _ = writeln!(out, "{}", terminal::render(text, self.ansi));
            if !post.buttons.is_empty() {
                let labels: Vec<String> = post
                    .buttons
                    .iter()
                    .map(|b| format!("[{}: {}]", b.label, b.command))
                    .collect();
                let _ = writeln!(out, "{}", labels.join("  "));
            }
            let _ = writeln!(out);
        }
        let _ = out.flush();
    }
}

#[async_trait]
impl Chat for ConsoleChat {
    async fn post(&self, post: &Post) -> Result<MessageRef, ChatError> {
        // Ids must not collide with those of another `warroom run` process, whose
        // messages this one may edit (an approval request becoming progress).
        let id = format!(
            "{}.{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        self.emit(post, None, &post.text);
        self.last
            .lock()
            .map_err(|_| ChatError::permanent("console state poisoned"))?
            .insert(id.clone(), post.text.clone());
        Ok(MessageRef {
            channel: post.channel.clone(),
            id,
        })
    }

    async fn update(&self, message: &MessageRef, post: &Post) -> Result<(), ChatError> {
        let previous = self
            .last
            .lock()
            .map_err(|_| ChatError::permanent("console state poisoned"))?
            .insert(message.id.clone(), post.text.clone());
        if self.json {
            self.emit(post, Some(&message.id), &post.text);
            return Ok(());
        }
        let old: Vec<&str> = previous.as_deref().unwrap_or("").lines().collect();
        let changed: Vec<&str> = post.text.lines().filter(|l| !old.contains(l)).collect();
        if !changed.is_empty() {
            self.emit(post, Some(&message.id), &changed.join("\n"));
        }
        Ok(())
    }
}
