//! Stored messages: creating, applying create and edit bodies, rendering them as
//! Discord's Message object, and working out whom they ping.

use serde_json::{json, Value};

use super::payloads::{snowflake_of, timestamp_now, user_json};
use super::{FakeMessage, APP_ID, BOT_USER_ID};

pub(super) fn new_message(id: u64, channel_id: u64, author_id: u64, content: &str) -> FakeMessage {
    FakeMessage {
        id,
        channel_id,
        author_id,
        kind: 0,
        content: content.to_string(),
        embeds: Vec::new(),
        components: Vec::new(),
        allowed_mentions: None,
        flags: 0,
        edits: Vec::new(),
        deleted: false,
        interaction_token: None,
        timestamp: timestamp_now(),
        edited_timestamp: None,
        nonce: None,
    }
}

/// A message the fake did not store (e.g. inside a component interaction a test
/// built), so it can be edited through the interaction.
pub(super) fn message_from_json(value: &Value) -> Option<FakeMessage> {
    let mut message = new_message(
        snowflake_of(&value["id"])?,
        snowflake_of(&value["channel_id"])?,
        snowflake_of(&value["author"]["id"]).unwrap_or(BOT_USER_ID),
        value["content"].as_str().unwrap_or_default(),
    );
    message.kind = value["type"].as_u64().unwrap_or(0);
    message.embeds = value["embeds"].as_array().cloned().unwrap_or_default();
    message.components = value["components"].as_array().cloned().unwrap_or_default();
    message.flags = value["flags"].as_u64().unwrap_or(0);
    if let Some(timestamp) = value["timestamp"].as_str() {
        message.timestamp = timestamp.to_string();
    }
    Some(message)
}

pub(super) fn message_json(message: &FakeMessage) -> Value {
    let mentions = mentions(&message.content, message.allowed_mentions.as_ref());
    let mut json = json!({
        "id": message.id.to_string(),
        "type": message.kind,
        "content": message.content,
        "channel_id": message.channel_id.to_string(),
        "author": user_json(message.author_id),
        "attachments": [],
        "embeds": message.embeds,
        "mentions": mentions.users.iter().map(|u| user_json(*u)).collect::<Vec<_>>(),
        "mention_roles": mentions.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "pinned": false,
        "mention_everyone": mentions.everyone,
        "tts": false,
        "timestamp": message.timestamp,
        "edited_timestamp": message.edited_timestamp,
        "flags": message.flags,
        "components": message.components,
    });
    if message.interaction_token.is_some() {
        // Interaction replies are sent by the application's webhook.
        json["webhook_id"] = APP_ID.to_string().into();
        json["application_id"] = APP_ID.to_string().into();
    }
    json
}

/// Applies the message fields a body carries; absent fields stay, null clears.
pub(super) fn apply_fields(message: &mut FakeMessage, body: &Value, settable_flags: u64) {
    let Some(fields) = body.as_object() else {
        return;
    };
    if let Some(content) = fields.get("content") {
        message.content = content.as_str().unwrap_or_default().to_string();
    }
    if let Some(embeds) = fields.get("embeds") {
        message.embeds = embeds
            .as_array()
            .map(|e| e.iter().map(normalize_embed).collect())
            .unwrap_or_default();
    }
    if let Some(components) = fields.get("components") {
        message.components = components.as_array().cloned().unwrap_or_default();
    }
    if let Some(allowed) = fields.get("allowed_mentions") {
        message.allowed_mentions = (!allowed.is_null()).then(|| allowed.clone());
    }
    if let Some(flags) = fields.get("flags").and_then(Value::as_u64) {
        message.flags = (message.flags & !settable_flags) | (flags & settable_flags);
    }
}

/// Discord fills in an embed's `type` and each field's `inline`.
fn normalize_embed(embed: &Value) -> Value {
    let mut embed = embed.clone();
    // `get_mut`, not `embed["fields"]`: indexing mutably would insert a null.
    if let Some(fields) = embed.get_mut("fields").and_then(Value::as_array_mut) {
        for field in fields {
            if field["inline"].is_null() {
                field["inline"] = false.into();
            }
        }
    }
    if embed["type"].is_null() {
        embed["type"] = "rich".into();
    }
    embed
}

/// Nothing a member would see.
pub(super) fn is_empty(message: &FakeMessage) -> bool {
    message.content.trim().is_empty() && message.embeds.is_empty() && message.components.is_empty()
}

pub(super) fn custom_ids(components: &[Value]) -> Vec<String> {
    components
        .iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_string))
        .collect()
}

pub(super) struct Mentions {
    pub users: Vec<u64>,
    pub roles: Vec<u64>,
    pub everyone: bool,
}

/// Who a message pings: mentions in the content that `allowed_mentions` lets through
/// (everything when it is absent, as Discord does).
pub(super) fn mentions(content: &str, allowed: Option<&Value>) -> Mentions {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(r"<@(!|&)?(\d+)>|@(everyone|here)").expect("mention pattern compiles")
    });
    let parses = |kind: &str| {
        allowed.is_none_or(|a| {
            a["parse"]
                .as_array()
                .is_some_and(|p| p.iter().any(|v| v == kind))
        })
    };
    let listed = |kind: &str, id: u64| {
        allowed.is_some_and(|a| {
            a[kind]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|v| snowflake_of(v) == Some(id)))
        })
    };
    let mut found = Mentions {
        users: Vec::new(),
        roles: Vec::new(),
        everyone: false,
    };
    for capture in pattern.captures_iter(content) {
        if capture.get(3).is_some() {
            found.everyone |= parses("everyone");
            continue;
        }
        let id: u64 = capture[2].parse().unwrap_or(0);
        let (kind, into) = match capture.get(1).map(|m| m.as_str()) {
            Some("&") => ("roles", &mut found.roles),
            _ => ("users", &mut found.users),
        };
        if (parses(kind) || listed(kind, id)) && !into.contains(&id) {
            into.push(id);
        }
    }
    found
}
