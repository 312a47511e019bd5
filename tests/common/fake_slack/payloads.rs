//! What Slack pushes over Socket Mode and serves from `users.info`, in Slack's
//! shapes: slash commands, button presses, message events, users.

use serde_json::{json, Value};

use super::methods::{shape, ts_micros};
use super::{FakeSlack, APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID};

/// The deprecated verification token Slack still puts in every payload.
const VERIFICATION_TOKEN: &str = "fakeVerificationToken0000";

/// A `slash_commands` payload: the fields of Slack's slash command request, all
/// strings (`is_enterprise_install` too), as Socket Mode delivers them.
pub fn slash_command(
    user_id: &str,
    channel_id: &str,
    command: &str,
    text: &str,
    trigger_id: &str,
) -> Value {
    json!({
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name(channel_id),
        "user_id": user_id,
        "user_name": user_name(user_id),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": format!("https://hooks.slack.com/commands/{TEAM_ID}/{}/{}", digits(13), token(24)),
        "trigger_id": trigger_id
    })
}

/// An `interactive` `block_actions` payload: `user_id` pressed button `action_id`
/// (carrying `value`) on the bot's message `message_ts`. The message is made up
/// around the button; [`FakeSlack::button_press`] uses the real one instead.
pub fn block_actions(
    user_id: &str,
    channel_id: &str,
    message_ts: &str,
    action_id: &str,
    value: &str,
) -> Value {
    let block_id = "warroom_actions";
    let button = json!({
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": true},
        "value": value
    });
    let message = json!({
        "user": BOT_USER_ID,
        "type": "message",
        "ts": message_ts,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": "",
        "team": TEAM_ID,
        "blocks": [{"type": "actions", "block_id": block_id, "elements": [button.clone()]}]
    });
    press(user_id, channel_id, message, block_id, &button)
}

impl FakeSlack {
    /// The `block_actions` payload Slack sends when `user_id` presses the button
    /// `action_id` on the bot's message `ts`: button, block and message are the ones
    /// the bot posted. Panics if that message has no such button.
    pub fn button_press(
        &self,
        user_id: &str,
        channel_id: &str,
        ts: &str,
        action_id: &str,
    ) -> Value {
        let message = self.message(channel_id, ts);
        let blocks = message.blocks.as_array().cloned().unwrap_or_default();
        for (i, block) in blocks.iter().enumerate() {
            let elements = block["elements"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .chain(block.get("accessory").cloned());
            for element in elements {
                if element["type"] == "button" && element["action_id"] == action_id {
                    // Slack gives a block without an id a generated one.
                    let block_id = block["block_id"]
                        .as_str()
                        .map_or_else(|| format!("blk{i}"), str::to_string);
                    let mut shaped = shape(&message);
                    if let Some(list) = shaped["blocks"].as_array_mut() {
                        list[i]["block_id"] = json!(block_id);
                    }
                    return press(user_id, channel_id, shaped, &block_id, &element);
                }
            }
        }
        panic!(
            "the bot's message {ts} in {channel_id} has no button {action_id:?}; its blocks: {}",
            message.blocks
        )
    }
}

fn press(user_id: &str, channel_id: &str, message: Value, block_id: &str, button: &Value) -> Value {
    let mut action = json!({
        "action_id": button["action_id"],
        "block_id": block_id,
        "text": button["text"],
        "type": "button",
        "action_ts": now_ts()
    });
    if let Some(value) = button.get("value") {
        action["value"] = value.clone();
    }
    if let Some(style) = button.get("style") {
        action["style"] = style.clone();
    }
    json!({
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_name(user_id),
            "name": user_name(user_id),
            "team_id": TEAM_ID
        },
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": false
        },
        "trigger_id": format!("{}.{}.{}", digits(13), digits(13), token(32)),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": channel_id, "name": channel_name(channel_id)},
        "message": message,
        "state": {"values": {}},
        "response_url": format!("https://hooks.slack.com/actions/{TEAM_ID}/{}/{}", digits(13), token(24)),
        "actions": [action]
    })
}

/// An `events_api` payload: `user_id` wrote `text` in `channel_id` at `ts`, inside
/// Slack's `event_callback` wrapper.
pub fn message_event(user_id: &str, channel_id: &str, text: &str, ts: &str) -> Value {
    let event_time =
        ts_micros(ts).unwrap_or_else(|| panic!("{ts:?} is not a Slack ts")) / 1_000_000;
    json!({
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": null,
        "api_app_id": APP_ID,
        "event": {
            "user": user_id,
            "type": "message",
            "ts": ts,
            "client_msg_id": uuid::Uuid::new_v4().to_string(),
            "text": text,
            "team": TEAM_ID,
            "blocks": [{
                "type": "rich_text",
                "block_id": token(5),
                "elements": [{
                    "type": "rich_text_section",
                    "elements": [{"type": "text", "text": text}]
                }]
            }],
            "channel": channel_id,
            "event_ts": ts,
            "channel_type": "channel"
        },
        "type": "event_callback",
        "event_id": format!("Ev{}", token(9).to_uppercase()),
        "event_time": event_time,
        "authorizations": [{
            "enterprise_id": null,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "is_bot": true,
            "is_enterprise_install": false
        }],
        "is_ext_shared_channel": false,
        "event_context": format!("4-{}", token(40))
    })
}

/// A user as `users.info` returns one, for [`FakeSlack::add_user`].
pub fn user(id: &str, name: &str, real_name: &str) -> Value {
    let (first, last) = real_name.split_once(' ').unwrap_or((real_name, ""));
    let image = |size: u32| format!("https://secure.gravatar.com/avatar/0000.jpg?s={size}");
    json!({
        "id": id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": false,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": "Europe/Paris",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "fields": null,
            "status_text": "",
            "status_emoji": "",
            "status_expiration": 0,
            "avatar_hash": "g0000000000a",
            "email": format!("{name}@example.com"),
            "first_name": first,
            "last_name": last,
            "image_24": image(24),
            "image_32": image(32),
            "image_48": image(48),
            "image_72": image(72),
            "image_192": image(192),
            "image_512": image(512),
            "team": TEAM_ID
        },
        "is_admin": false,
        "is_owner": false,
        "is_primary_owner": false,
        "is_restricted": false,
        "is_ultra_restricted": false,
        "is_bot": false,
        "is_app_user": false,
        "updated": 1_763_800_000,
        "is_email_confirmed": true,
        "who_can_share_contact_card": "EVERYONE"
    })
}

fn channel_name(channel_id: &str) -> String {
    channel_id.to_lowercase().replace('_', "-")
}

fn user_name(user_id: &str) -> String {
    user_id.to_lowercase()
}

/// Now as a Slack `ts`.
fn now_ts() -> String {
    let now = chrono::Utc::now();
    format!("{}.{:06}", now.timestamp(), now.timestamp_subsec_micros())
}

fn token(len: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..len.min(32)].to_string()
}

fn digits(len: usize) -> String {
    uuid::Uuid::new_v4()
        .as_u128()
        .to_string()
        .chars()
        .take(len)
        .collect()
}
