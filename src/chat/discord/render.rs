//! A [`Post`] as a Discord message body: Markdown content (the core's dialect is
//! Discord's), buttons as components, and `allowed_mentions` that lets nothing ping
//! but the members a page names.
//!
//! Built as the JSON Discord receives. Discord's limits shape it: content 2000
//! characters (discord/discord-api-docs `developers/resources/message.mdx`), 5 rows of
//! 5 buttons, a `custom_id` of 100. A longer post goes out as several messages
//! ([`split`]), never as embeds: embeds need the *Embed Links* permission, which a
//! locked-down channel often denies (403, code 50013), and are cut at 6000.

use serde_json::{json, Value};

use crate::chat::Post;

pub const CONTENT_LIMIT: usize = 2000;
/// Discord's EPHEMERAL message flag.
pub const EPHEMERAL: u64 = 1 << 6;

/// Who a post may ping, as Discord ids.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mentions {
    pub users: Vec<String>,
    pub roles: Vec<String>,
}

/// Discord members among a post's mentions: `discord:ID` and plain numeric ids are
/// users, `discord-role:ID` guild roles. Other platforms' members are skipped.
pub fn discord_mentions(mentions: &[String]) -> Mentions {
    let snowflake =
        |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let mut out = Mentions::default();
    for m in mentions {
        match m.split_once(':') {
            Some(("discord", id)) if snowflake(id) => out.users.push(id.into()),
            Some(("discord-role", id)) if snowflake(id) => out.roles.push(id.into()),
            None if snowflake(m) => out.users.push(m.clone()),
            _ => {}
        }
    }
    for list in [&mut out.users, &mut out.roles] {
        list.sort();
        list.dedup();
    }
    out
}

/// The message body for `POST /channels/{id}/messages` (and edits, and follow-ups
/// with `flags` set by the caller).
pub fn message(post: &Post) -> Value {
    message_with(post, &discord_mentions(&post.mentions))
}

/// The same, pinging exactly `mentions` (a private reply that cannot be private
/// names its reader).
pub fn message_with(post: &Post, mentions: &Mentions) -> Value {
    let ping = ping_line(mentions);
    let mut body = json!({
        // Nothing in the text may ping; only the ids listed here.
        "allowed_mentions": {
            "parse": [],
            "users": mentions.users,
            "roles": mentions.roles,
        },
    });
    // [`split`] has made the text fit; a text that still does not is a bug here,
    // and Discord refuses it (50035) rather than it being cut unseen.
    body["content"] = format!("{ping}{}", post.text).into();
    body["embeds"] = json!([]);
    body["components"] = components(post).into();
    body
}

fn ping_line(mentions: &Mentions) -> String {
    let ping: Vec<String> = mentions
        .users
        .iter()
        .map(|u| format!("<@{u}>"))
        .chain(mentions.roles.iter().map(|r| format!("<@&{r}>")))
        .collect();
    if ping.is_empty() {
        String::new()
    } else {
        format!("📣 {}\n", ping.join(" "))
    }
}

/// Room kept for naming a reader when a private reply has to go to the channel.
const READER_ROOM: usize = 32;

/// Whether `post` goes out as one Discord message.
pub fn fits(post: &Post) -> bool {
    let ping = ping_line(&discord_mentions(&post.mentions));
    ping.chars().count() + post.text.chars().count() + READER_ROOM <= CONTENT_LIMIT
}

/// `post` as the Discord messages it goes out as, in order.
pub fn split(post: &Post) -> Vec<Post> {
    crate::chat::split::split_post(post, CONTENT_LIMIT - 200, fits)
}

fn components(post: &Post) -> Vec<Value> {
    post.buttons
        .chunks(5)
        .take(5)
        .map(|row| {
            let buttons: Vec<Value> = row
                .iter()
                .map(|b| {
                    json!({
                        "type": 2,
                        // 3 is green (success), 4 red (danger).
                        "style": if b.danger { 4 } else { 3 },
                        "label": b.label.chars().take(80).collect::<String>(),
                        "custom_id": b.command.chars().take(100).collect::<String>(),
                    })
                })
                .collect();
            json!({ "type": 1, "components": buttons })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Button, PostKind};

    #[test]
    fn short_text_is_content_and_nothing_can_ping() {
        let body = message(&Post::new(
            "1",
            PostKind::Info,
            "**RUN-1** @\u{200B}everyone",
        ));
        assert_eq!(body["content"], "**RUN-1** @\u{200B}everyone");
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(body["allowed_mentions"]["users"], json!([]));
    }

    #[test]
    fn a_page_pings_only_discord_members() {
        let mut post = Post::new("1", PostKind::Page, "escalated");
        post.mentions = vec![
            "U_LEAD".into(),
            "discord:1002".into(),
            "1003".into(),
            "discord-role:77".into(),
            "slack:U9".into(),
        ];
        let body = message(&post);
        assert_eq!(body["content"], "📣 <@1002> <@1003> <@&77>\nescalated");
        assert_eq!(body["allowed_mentions"]["users"], json!(["1002", "1003"]));
        assert_eq!(body["allowed_mentions"]["roles"], json!(["77"]));
    }

    /// Content is at most 2000 characters (discord/discord-api-docs
    /// `developers/resources/message.mdx`). Long text used to become embeds, refused
    /// without Embed Links and cut at 6000 with "(truncated...)".
    #[test]
    fn long_text_goes_out_as_several_plain_messages_never_as_embeds() {
        let text: String = (0..900).map(|i| format!("line {i:04}\n")).collect();
        let parts = split(&Post::new("1", PostKind::Template, text.clone()));
        assert!(parts.len() >= 5);
        let mut joined = String::new();
        for p in &parts {
            let body = message(p);
            assert_eq!(body["embeds"], json!([]));
            let content = body["content"].as_str().unwrap();
            assert!(content.chars().count() <= CONTENT_LIMIT);
            joined.push_str(content);
            joined.push('\n');
        }
        assert_eq!(joined.trim_end(), text.trim_end());
    }

    #[test]
    fn buttons_become_rows_of_at_most_five() {
        let buttons: Vec<Button> = (0..7)
            .map(|i| Button {
                label: format!("b{i}"),
                command: format!("/check x {i}"),
                danger: i == 6,
            })
            .collect();
        let body = message(&Post::new("1", PostKind::Info, "x").with_buttons(buttons));
        let rows = body["components"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["components"].as_array().unwrap().len(), 5);
        assert_eq!(rows[1]["components"][1]["style"], 4);
        assert_eq!(rows[0]["components"][0]["custom_id"], "/check x 0");
    }
}
