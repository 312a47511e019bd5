//! A [`Post`] as a Discord message body: Markdown content (the core's dialect is
//! Discord's), embeds when it is too long for content, buttons as components, and
//! `allowed_mentions` that lets nothing ping but the members a page names.
//!
//! Built as the JSON Discord receives. Discord's limits shape it: content 2000
//! characters, an embed description 4096, 6000 for all embeds, 10 embeds, 5 rows of
//! 5 buttons, a `custom_id` of 100.

use serde_json::{json, Value};

use crate::chat::{Post, PostKind};

pub const CONTENT_LIMIT: usize = 2000;
pub const EMBED_LIMIT: usize = 4096;
pub const EMBEDS_TOTAL: usize = 6000;
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

fn color(kind: PostKind) -> u32 {
    match kind {
        PostKind::Error | PostKind::Denied => 0xC0_39_2B,
        PostKind::Approval | PostKind::Checkpoint | PostKind::Page => 0xE6_7E_22,
        PostKind::Template | PostKind::Status => 0x27_80_B0,
        _ => 0x7F_8C_8D,
    }
}

/// The message body for `POST /channels/{id}/messages` (and edits, and follow-ups
/// with `flags` set by the caller).
pub fn message(post: &Post) -> Value {
    message_with(post, &discord_mentions(&post.mentions))
}

/// The same, pinging exactly `mentions` (a private reply that cannot be private
/// names its reader).
pub fn message_with(post: &Post, mentions: &Mentions) -> Value {
    let ping: Vec<String> = mentions
        .users
        .iter()
        .map(|u| format!("<@{u}>"))
        .chain(mentions.roles.iter().map(|r| format!("<@&{r}>")))
        .collect();
    let ping = if ping.is_empty() {
        String::new()
    } else {
        format!("📣 {}\n", ping.join(" "))
    };
    let mut body = json!({
        // Nothing in the text may ping; only the ids listed here.
        "allowed_mentions": {
            "parse": [],
            "users": mentions.users,
            "roles": mentions.roles,
        },
    });
    let len = |s: &str| s.chars().count();
    if len(&ping) + len(&post.text) <= CONTENT_LIMIT {
        body["content"] = format!("{ping}{}", post.text).into();
        body["embeds"] = json!([]);
    } else {
        body["content"] = ping.trim_end().to_string().into();
        body["embeds"] = embeds(&post.text, color(post.kind)).into();
    }
    body["components"] = components(post).into();
    body
}

/// Long text as embeds of at most 4096 characters each, 6000 in all (past that it
/// is cut, and says so).
fn embeds(text: &str, color: u32) -> Vec<Value> {
    const NOTE: &str = "\n… (truncated; the timeline has it all)";
    let chars: Vec<char> = text.chars().collect();
    let chars: Vec<char> = if chars.len() > EMBEDS_TOTAL {
        let keep = EMBEDS_TOTAL - NOTE.chars().count();
        chars[..keep].iter().copied().chain(NOTE.chars()).collect()
    } else {
        chars
    };
    let mut out = Vec::new();
    let mut rest = &chars[..];
    while !rest.is_empty() {
        let mut take = rest.len().min(EMBED_LIMIT);
        // Cut at a line end when there is one in the last quarter.
        if take < rest.len() {
            if let Some(nl) = rest[..take].iter().rposition(|&c| c == '\n') {
                if nl > take * 3 / 4 {
                    take = nl + 1;
                }
            }
        }
        let piece: String = rest[..take].iter().collect();
        out.push(json!({ "description": piece, "color": color }));
        rest = &rest[take..];
    }
    out
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
    use crate::chat::Button;

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

    #[test]
    fn long_text_goes_into_embeds_within_discords_limits() {
        let text: String = (0..900).map(|i| format!("line {i:04}\n")).collect();
        let body = message(&Post::new("1", PostKind::Template, text));
        let embeds = body["embeds"].as_array().unwrap();
        assert!(embeds.len() >= 2);
        let total: usize = embeds
            .iter()
            .map(|e| e["description"].as_str().unwrap().chars().count())
            .sum();
        assert!(total <= EMBEDS_TOTAL, "{total}");
        for e in embeds {
            assert!(e["description"].as_str().unwrap().chars().count() <= EMBED_LIMIT);
        }
        assert!(embeds.last().unwrap()["description"]
            .as_str()
            .unwrap()
            .ends_with("(truncated; the timeline has it all)"));
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
