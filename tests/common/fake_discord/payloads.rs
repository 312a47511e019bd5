//! Discord's JSON shapes: users, members, the application, messages, commands, the
//! gateway's READY and GUILD_CREATE, and the builders tests use to make interactions
//! and events. Each shape carries every field serenity 0.12's models require (the
//! self-tests deserialize them), with ids as strings as Discord sends them.

use serde_json::{json, Value};

use super::{APP_ID, BOT_USERNAME, BOT_USER_ID, CHANNEL_ID, GUILD_ID};

/// The guild owner (a human, not the bot).
const OWNER_ID: u64 = 1_180_000_000_000_000_010;
/// GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE.
const APP_FLAGS: u64 = (1 << 19) | (1 << 23);
/// What the bot may do in the guild (send messages, embed links, ... no administrator).
const BOT_PERMISSIONS: &str = "2248473465835073";
/// A member's permissions in the channel (view, send, read history, use commands).
const MEMBER_PERMISSIONS: &str = "2147551296";
/// Discord's upload limit for a guild without boosts, sent with every interaction.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An id from JSON, whether Discord's string or a number.
pub(super) fn snowflake_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        other => other.as_u64(),
    }
}

pub(super) fn timestamp_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// A stable id for a global command name, so [`command_interaction`] payloads carry
/// the same `data.id` the fake gave the registered command.
pub fn command_id(name: &str) -> u64 {
    // FNV-1a: deterministic across runs, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    1_100_000_000_000_000_000 + hash % 100_000_000_000_000_000
}

/// A user object as Discord sends it; the bot user is `warroom` with `bot: true`.
pub fn user_json(id: u64) -> Value {
    let mut user = json!({
        "id": id.to_string(),
        "username": if id == BOT_USER_ID { BOT_USERNAME.to_string() } else { format!("user{id}") },
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    });
    if id == BOT_USER_ID {
        user["bot"] = true.into();
    }
    user
}

/// `GET /users/@me` for the bot.
pub(super) fn current_user_json() -> Value {
    let mut user = user_json(BOT_USER_ID);
    user["verified"] = true.into();
    user["mfa_enabled"] = false.into();
    user["email"] = Value::Null;
    user["locale"] = "en-US".into();
    user
}

/// `GET /oauth2/applications/@me`.
pub(super) fn application_json(verify_key: &str) -> Value {
    json!({
        "id": APP_ID.to_string(),
        "name": BOT_USERNAME,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "hook": true,
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": verify_key,
        "flags": APP_FLAGS,
        "owner": user_json(OWNER_ID),
        "team": null,
        "bot": user_json(BOT_USER_ID),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "approximate_guild_count": 1,
        "integration_types_config": {"0": {}},
    })
}

/// A guild member; `with_user` for the places Discord nests the user in it.
fn member_json(user_id: u64, roles: &[u64], with_user: bool) -> Value {
    let mut member = json!({
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": "2024-01-15T09:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "nick": null,
        "avatar": null,
        "banner": null,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
    });
    if with_user {
        member["user"] = user_json(user_id);
    }
    member
}

fn text_channel_json(channel_id: u64, position: usize) -> Value {
    json!({
        "id": channel_id.to_string(),
        "type": 0,
        "guild_id": GUILD_ID.to_string(),
        "name": if channel_id == CHANNEL_ID { "incident".to_string() } else { format!("channel-{position}") },
        "position": position,
        "permission_overwrites": [],
        "parent_id": null,
        "topic": null,
        "nsfw": false,
        "rate_limit_per_user": 0,
        "last_message_id": null,
        "flags": 0,
    })
}

/// The fields every guild interaction from a member carries.
fn guild_interaction(
    kind: u64,
    id: u64,
    token: &str,
    user_id: u64,
    channel_id: u64,
    roles: &[u64],
) -> Value {
    let mut member = member_json(user_id, roles, true);
    member["permissions"] = MEMBER_PERMISSIONS.into();
    let mut channel = text_channel_json(channel_id, 0);
    channel["permissions"] = MEMBER_PERMISSIONS.into();
    json!({
        "id": id.to_string(),
        "application_id": APP_ID.to_string(),
        "type": kind,
        "guild_id": GUILD_ID.to_string(),
        "guild": {"id": GUILD_ID.to_string(), "locale": "en-US", "features": []},
        "channel_id": channel_id.to_string(),
        "channel": channel,
        "member": member,
        "token": token,
        "version": 1,
        "app_permissions": BOT_PERMISSIONS,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    })
}

/// An APPLICATION_COMMAND interaction (type 2) for the global chat-input command
/// `name`, run by a member with `roles` in a guild channel. `options` is Discord's
/// list, e.g. `[{"name": "env", "type": 3, "value": "prod"}]` (or `Null`).
pub fn command_interaction(
    id: u64,
    token: &str,
    user_id: u64,
    channel_id: u64,
    roles: &[u64],
    name: &str,
    options: Value,
) -> Value {
    let mut interaction = guild_interaction(2, id, token, user_id, channel_id, roles);
    let mut data = json!({"id": command_id(name).to_string(), "name": name, "type": 1});
    if options.as_array().is_some_and(|o| !o.is_empty()) {
        data["options"] = options;
    }
    interaction["data"] = data;
    interaction
}

/// A MESSAGE_COMPONENT interaction (type 3): a member pressed the button `custom_id`
/// on `message` (a Message object, e.g. [`FakeMessage::json`]).
pub fn button_interaction(
    id: u64,
    token: &str,
    user_id: u64,
    channel_id: u64,
    roles: &[u64],
    custom_id: &str,
    message: Value,
) -> Value {
    let mut interaction = guild_interaction(3, id, token, user_id, channel_id, roles);
    interaction["data"] = json!({"custom_id": custom_id, "component_type": 2});
    interaction["message"] = message;
    interaction
}

/// A PING (type 1), as Discord sends to check an interactions endpoint URL.
pub fn ping_interaction() -> Value {
    json!({
        "id": "1180000000000000100",
        "application_id": APP_ID.to_string(),
        "type": 1,
        "token": format!("ping-{}", uuid::Uuid::new_v4().simple()),
        "version": 1,
        "user": null,
    })
}

/// A MESSAGE_CREATE dispatch: a member of the guild said `content` in a channel.
pub fn message_create(id: u64, channel_id: u64, author_id: u64, content: &str) -> Value {
    let mentions = super::messages::mentions(content, None);
    json!({
        "id": id.to_string(),
        "type": 0,
        "channel_id": channel_id.to_string(),
        "guild_id": GUILD_ID.to_string(),
        "author": user_json(author_id),
        "member": member_json(author_id, &[], false),
        "content": content,
        "timestamp": timestamp_now(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": mentions.everyone,
        "mentions": mentions.users.iter().map(|u| user_json(*u)).collect::<Vec<_>>(),
        "mention_roles": mentions.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "flags": 0,
        "nonce": null,
    })
}

/// The GUILD_CREATE Discord sends after READY: the guild with its text channels and
/// the bot as its one cached member.
pub fn guild_create(channel_ids: &[u64]) -> Value {
    // Two halves: one `json!` this large exceeds the macro recursion limit.
    let mut guild = json!({
        "id": GUILD_ID.to_string(),
        "name": "warroom-test",
        "icon": null, "icon_hash": null, "splash": null, "discovery_splash": null,
        "owner_id": OWNER_ID.to_string(),
        "afk_channel_id": null, "afk_timeout": 300,
        "widget_enabled": false, "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [{
            "id": GUILD_ID.to_string(),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false, "managed": false, "mentionable": false,
            "permissions": MEMBER_PERMISSIONS,
            "position": 0, "icon": null, "unicode_emoji": null, "flags": 0,
        }],
        "emojis": [], "stickers": [], "features": [],
        "mfa_level": 0, "application_id": null,
        "system_channel_id": null, "system_channel_flags": 0, "rules_channel_id": null,
    });
    let rest = json!({
        "max_presences": null, "max_members": 500_000,
        "vanity_url_code": null, "description": null, "banner": null,
        "premium_tier": 0, "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null, "safety_alerts_channel_id": null,
        "max_video_channel_users": 25, "max_stage_video_channel_users": 50,
        "nsfw_level": 0, "nsfw": false,
        "premium_progress_bar_enabled": false,
        "incidents_data": null,
        "joined_at": "2024-01-15T09:00:00.000000+00:00",
        "large": false, "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [member_json(BOT_USER_ID, &[], true)],
        "channels": channel_ids.iter().enumerate()
            .map(|(i, id)| text_channel_json(*id, i)).collect::<Vec<_>>(),
        "threads": [], "presences": [], "stage_instances": [],
        "guild_scheduled_events": [], "soundboard_sounds": [],
        "lazy": true,
    });
    for (key, value) in rest.as_object().expect("an object").clone() {
        guild[key] = value;
    }
    guild
}

/// READY's `d`.
pub(super) fn ready_json(session_id: &str, resume_url: &str, shard: Value) -> Value {
    json!({
        "v": 10,
        "user": current_user_json(),
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "shard": shard,
        "application": {"id": APP_ID.to_string(), "flags": APP_FLAGS},
        "private_channels": [], "relationships": [], "presences": [],
        "guild_join_requests": [], "user_settings": {},
        "geo_ordered_rtc_regions": ["fake"],
        "_trace": ["[\"fake-discord-gateway\"]"],
    })
}

// ---- commands ----

/// A command as Discord returns it after registration.
pub(super) fn command_json(command: &Value, id: u64, version: u64, guild: Option<u64>) -> Value {
    let kind = command["type"].as_u64().unwrap_or(1);
    let mut json = json!({
        "id": id.to_string(),
        "application_id": APP_ID.to_string(),
        "version": version.to_string(),
        "default_member_permissions": command["default_member_permissions"],
        "type": kind,
        "name": command["name"],
        "description": command["description"].as_str().unwrap_or_default(),
        "nsfw": command["nsfw"].as_bool().unwrap_or(false),
    });
    match guild {
        Some(guild) => json["guild_id"] = guild.to_string().into(),
        None => {
            json["dm_permission"] = command["dm_permission"].as_bool().unwrap_or(true).into();
            json["contexts"] = command["contexts"].clone();
            json["integration_types"] = match &command["integration_types"] {
                Value::Null => json!([0]),
                given => given.clone(),
            };
        }
    }
    if let Some(options) = command["options"].as_array().filter(|o| !o.is_empty()) {
        json["options"] = Value::Array(options.iter().map(normalize_option).collect());
    }
    json
}

/// Drops what Discord leaves out of a stored option: nulls, empty lists, false flags.
fn normalize_option(option: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in option.as_object().into_iter().flatten() {
        let keep = match value {
            Value::Null | Value::Bool(false) => false,
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
            _ => true,
        };
        if !keep {
            continue;
        }
        let value = if key == "options" {
            Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(normalize_option)
                    .collect(),
            )
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// Whether a stored command is unchanged by a new registration (ignoring version).
pub(super) fn same_command(stored: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["version"] = Value::Null;
        v
    };
    strip(stored) == strip(new)
}
