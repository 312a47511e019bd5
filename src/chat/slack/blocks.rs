//! A [`Post`] as a Slack message: Block Kit sections of `mrkdwn`, an actions block
//! for its buttons, and the plain `text` Slack shows in notifications.
//!
//! Built as the JSON Slack receives, so tests read what goes on the wire. Slack's
//! limits shape it: a section holds at most 3000 characters, a message 50 blocks and
//! about 12,000 characters of block text in all (more is `msg_blocks_too_long`), a
//! button value 2000 characters. A post longer than one message is split first
//! ([`split`]), so every piece is delivered.

use serde_json::{json, Value};

use super::mrkdwn;
use crate::chat::Post;

/// Characters in one section's text (Slack rejects more).
pub const SECTION_LIMIT: usize = 3000;
/// Blocks in one message.
pub const BLOCK_LIMIT: usize = 50;
/// Characters of block text Slack takes in one message (`msg_blocks_too_long`
/// past it; the same figure as a `markdown` block's limit in slackapi/node-slack-sdk
/// `packages/types/src/block-kit/blocks.ts`).
pub const MESSAGE_LIMIT: usize = 12_000;
/// What a piece of a split post aims at, in the core's Markdown, before rendering
/// (entities and mention lines make it grow).
const PIECE: usize = 10_000;

/// Characters of text in `blocks` (sections' texts, buttons' labels and values),
/// as Slack counts them against [`MESSAGE_LIMIT`].
pub fn text_chars(blocks: &[Value]) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("text" | "value", Value::String(s)) => s.chars().count(),
                    _ => walk(v),
                })
                .sum(),
            Value::Array(list) => list.iter().map(walk).sum(),
            _ => 0,
        }
    }
    blocks.iter().map(walk).sum()
}

/// Whether `post` goes out as one Slack message, whole.
pub fn fits(post: &Post) -> bool {
    let m = render(post);
    let sections = m.blocks.iter().filter(|b| b["type"] == "section").count();
    sections + usize::from(!post.buttons.is_empty()) < BLOCK_LIMIT
        && text_chars(&m.blocks) <= MESSAGE_LIMIT
        && !m.truncated
}

/// `post` as the Slack messages it goes out as, in order.
pub fn split(post: &Post) -> Vec<Post> {
    crate::chat::split::split_post(post, PIECE, fits)
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlackMessage {
    /// The notification and accessibility fallback.
    pub text: String,
    pub blocks: Vec<Value>,
    /// Some text did not fit in 50 blocks ([`split`] avoids this).
    pub truncated: bool,
}

/// Slack user ids among a post's mentions: plain matrix members (`U123`) and
/// `slack:U123`; other platforms' members are not Slack's to ping.
pub fn slack_mentions(mentions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = mentions
        .iter()
        .filter_map(|m| match m.split_once(':') {
            None => Some(m.as_str()),
            Some(("slack", id)) => Some(id),
            Some(_) => None,
        })
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn render(post: &Post) -> SlackMessage {
    let mut body = mrkdwn::from_markdown(&post.text);
    let mentions = slack_mentions(&post.mentions);
    if !mentions.is_empty() {
        let line: Vec<String> = mentions.iter().map(|id| format!("<@{id}>")).collect();
        body = format!("📣 {}\n{body}", line.join(" "));
    }
    let button_blocks = usize::from(!post.buttons.is_empty());
    let chunks = chunks(&body, SECTION_LIMIT);
    let room = BLOCK_LIMIT - button_blocks;
    let mut blocks: Vec<Value> = Vec::with_capacity(chunks.len().min(room) + button_blocks);
    let total = chunks.len();
    let truncated = total > room;
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i + 1 == room && truncated {
            let note = format!("… {} more part(s) not shown; see the timeline.", total - i);
            blocks.push(section(&note));
            break;
        }
        blocks.push(section(&chunk));
    }
    if !post.buttons.is_empty() {
        let elements: Vec<Value> = post
            .buttons
            .iter()
            .enumerate()
            .map(|(i, b)| {
                json!({
                    "type": "button",
                    "action_id": format!("warroom-{i}"),
                    "text": { "type": "plain_text", "text": clip(&b.label, 75), "emoji": true },
                    "value": clip(&b.command, 2000),
                    "style": if b.danger { "danger" } else { "primary" },
                })
            })
            .take(25)
            .collect();
        blocks.push(
            json!({ "type": "actions", "block_id": "warroom-actions", "elements": elements }),
        );
    }
    SlackMessage {
        text: clip(&body, SECTION_LIMIT),
        blocks,
        truncated,
    }
}

/// A section of `mrkdwn` taken verbatim: Slack then links and mentions only what
/// is written as an entity, never bare names or URLs.
fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text, "verbatim": true } })
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Splits at line ends into pieces of at most `max` characters. A code block cut in
/// two is closed at the end of one piece and reopened at the start of the next.
fn chunks(text: &str, max: usize) -> Vec<String> {
    const FENCE: &str = "```";
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    let len = |s: &str| s.chars().count();
    for line in text.split('\n') {
        // A single line longer than a section is cut into pieces of its own.
        let pieces: Vec<String> = if len(line) + len(FENCE) * 2 + 2 > max {
            line.chars()
                .collect::<Vec<_>>()
                .chunks(max - len(FENCE) * 2 - 2)
                .map(|c| c.iter().collect())
                .collect()
        } else {
            vec![line.to_string()]
        };
        for piece in pieces {
            let extra = usize::from(!current.is_empty()) + len(&piece);
            let closing = if in_code { len(FENCE) + 1 } else { 0 };
            if !current.is_empty() && len(&current) + extra + closing > max {
                if in_code {
                    current.push('\n');
                    current.push_str(FENCE);
                }
                out.push(std::mem::take(&mut current));
                if in_code {
                    current.push_str(FENCE);
                }
            }
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&piece);
        }
        if line.trim_start().starts_with(FENCE) {
            in_code = !in_code;
        }
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Button, PostKind};

    #[test]
    fn a_post_becomes_sections_and_buttons() {
        let post =
            Post::new("C1", PostKind::Approval, "🔐 **RUN-2** needs approval").with_buttons(vec![
                Button {
                    label: "Approve".into(),
                    command: "/approve RUN-2".into(),
                    danger: false,
                },
                Button {
                    label: "Deny".into(),
                    command: "/deny RUN-2".into(),
                    danger: true,
                },
            ]);
        let m = render(&post);
        assert_eq!(m.text, "🔐 *RUN-2* needs approval");
        assert_eq!(m.blocks[0]["text"]["text"], "🔐 *RUN-2* needs approval");
        assert_eq!(m.blocks[0]["text"]["verbatim"], true);
        let buttons = &m.blocks[1]["elements"];
        assert_eq!(buttons[0]["value"], "/approve RUN-2");
        assert_eq!(buttons[0]["style"], "primary");
        assert_eq!(buttons[1]["style"], "danger");
        assert_ne!(buttons[0]["action_id"], buttons[1]["action_id"]);
    }

    #[test]
    fn only_slack_members_are_mentioned() {
        let mut post = Post::new("C1", PostKind::Page, "escalated");
        post.mentions = vec![
            "U_LEAD".into(),
            "slack:U9".into(),
            "discord:123".into(),
            "discord-role:7".into(),
        ];
        let m = render(&post);
        assert!(m.text.starts_with("📣 <@U9> <@U_LEAD>\n"), "{}", m.text);
        assert!(!m.text.contains("123"));
    }

    #[test]
    fn long_text_is_split_under_the_section_limit_keeping_code_blocks_closed() {
        let rows: Vec<String> = (0..400).map(|i| format!("row {i:04} | value")).collect();
        let text = format!("**Result**\n```\n{}\n```\nend", rows.join("\n"));
        let m = render(&Post::new("C1", PostKind::Info, text));
        assert!(m.blocks.len() > 2);
        for b in &m.blocks {
            let t = b["text"]["text"].as_str().unwrap();
            assert!(t.chars().count() <= SECTION_LIMIT);
            assert_eq!(
                t.matches("```").count() % 2,
                0,
                "unbalanced fence in {t:.60}"
            );
        }
        let joined: String = m
            .blocks
            .iter()
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect();
        assert!(
            joined.contains("row 0000") && joined.contains("row 0399") && joined.ends_with("end")
        );
    }

    #[test]
    fn a_huge_message_stays_within_fifty_blocks() {
        let text = "x".repeat(SECTION_LIMIT * 80);
        let post = Post::new("C1", PostKind::Info, text).with_buttons(vec![Button {
            label: "Done".into(),
            command: "/confirm RUN-1".into(),
            danger: false,
        }]);
        let m = render(&post);
        assert_eq!(m.blocks.len(), BLOCK_LIMIT);
        assert_eq!(m.blocks.last().unwrap()["type"], "actions");
        assert!(m.text.chars().count() <= SECTION_LIMIT);
    }

    /// The 12,000-character total is Slack's `msg_blocks_too_long` (see
    /// [`MESSAGE_LIMIT`]): a 15,000-character post used to be one refused message.
    #[test]
    fn a_post_longer_than_one_slack_message_is_split_into_messages_that_each_fit() {
        let lines: Vec<String> = (0..600)
            .map(|i| format!("{i:04} & <b> said: *bold* `code`"))
            .collect();
        let text = format!("**INCIDENT RESOLVED**\n```\n{}\n```", lines.join("\n"));
        let post = Post::new("C1", PostKind::Template, text);
        assert!(!fits(&post), "{} chars", post.text.len());
        let parts = split(&post);
        assert!(parts.len() >= 2);
        for p in &parts {
            let m = render(p);
            assert!(text_chars(&m.blocks) <= MESSAGE_LIMIT);
            assert!(!m.truncated);
        }
        let joined: String = parts.iter().map(|p| p.text.clone()).collect();
        for l in &lines {
            assert!(joined.contains(l.as_str()), "{l} lost");
        }
    }
}
