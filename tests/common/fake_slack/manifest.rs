//! What Slack checks in an app manifest before it creates the app
//! (`apps.manifest.validate`), built from Slack's published material, not from
//! warroom's code:
//!
//! - slackapi/node-slack-sdk `packages/web-api/src/types/request/manifest.ts`
//!   (`Manifest` and its parts): `display_information.name` required, ≤ 35;
//!   `description` ≤ 140; `background_color` `#rgb` or `#rrggbb`;
//!   `bot_user.display_name` ≤ 80 of `a-z 0-9 - _ .`; ≤ 50 `slash_commands`, each
//!   `command` ≤ 32 with its leading `/`, a `description` (≤ 2000), `usage_hint`
//!   ≤ 1000, `url` required without Socket Mode; bot scopes from its `BotScope`
//!   list; `bot_events` from its `ManifestEvent` list.
//! - slackapi/slack-api-specs `events-api/slack_events_api_async_v1.json`: the scope
//!   each event needs (`x-scopes-required`).
//! - Slack's built-in slash commands (Slack Help Center, "Use built-in slash
//!   commands"; listed in issue 11), which an app may not register.
//!
//! Answered as Slack answers: a list of `"<message> [json-pointer:/path]"` errors.

use serde_json::Value;

/// Slack's own commands.
const BUILT_INS: &[&str] = &[
    "active",
    "apps",
    "archive",
    "away",
    "call",
    "close",
    "collapse",
    "dm",
    "dnd",
    "expand",
    "feed",
    "feedback",
    "giphy",
    "invite",
    "join",
    "kick",
    "leave",
    "me",
    "msg",
    "mute",
    "open",
    "part",
    "prefs",
    "remind",
    "remove",
    "rename",
    "search",
    "shortcuts",
    "shrug",
    "status",
    "topic",
    "who",
];

/// manifest.ts `BotScope`, the scopes warroom could plausibly ask for (the whole
/// published list; a misspelt scope is refused).
const BOT_SCOPES: &[&str] = &[
    "app_mentions:read",
    "bookmarks:read",
    "bookmarks:write",
    "calls:read",
    "calls:write",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "channels:write.invites",
    "channels:write.topic",
    "chat:write",
    "chat:write.customize",
    "chat:write.public",
    "commands",
    "conversations.connect:manage",
    "conversations.connect:read",
    "conversations.connect:write",
    "datastore:read",
    "datastore:write",
    "dnd:read",
    "emoji:read",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "groups:write.invites",
    "groups:write.topic",
    "im:history",
    "im:read",
    "im:write",
    "incoming-webhook",
    "links.embed:write",
    "links:read",
    "links:write",
    "metadata.message:read",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "mpim:write.invites",
    "mpim:write.topic",
    "none",
    "pins:read",
    "pins:write",
    "reactions:read",
    "reactions:write",
    "reminders:read",
    "reminders:write",
    "remote_files:read",
    "remote_files:share",
    "remote_files:write",
    "team.billing:read",
    "team.preferences:read",
    "team:read",
    "tokens.basic",
    "triggers:read",
    "triggers:write",
    "usergroups:read",
    "usergroups:write",
    "users.profile:read",
    "users:read",
    "users:read.email",
    "users:write",
    "workflow.steps:execute",
];

/// Events and the scope each requires (`x-scopes-required` in the events spec).
const EVENT_SCOPES: &[(&str, &str)] = &[
    ("message.channels", "channels:history"),
    ("message.groups", "groups:history"),
    ("message.im", "im:history"),
    ("message.mpim", "mpim:history"),
    ("app_mention", "app_mentions:read"),
    ("member_joined_channel", "channels:read"),
];

/// Every rule `manifest` breaks; empty if Slack would accept it.
pub fn validate_manifest(manifest: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut err = |path: &str, message: String| {
        errors.push(format!("{message} [json-pointer:{path}]"));
    };
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());

    let info = &manifest["display_information"];
    match info["name"].as_str() {
        None | Some("") => err("/display_information/name", "is required".into()),
        Some(_) if len(&info["name"]) > 35 => err(
            "/display_information/name",
            "must be at most 35 characters".into(),
        ),
        _ => {}
    }
    if len(&info["description"]) > 140 {
        err(
            "/display_information/description",
            "must be at most 140 characters".into(),
        );
    }
    if let Some(color) = info["background_color"].as_str() {
        let hex = color.strip_prefix('#').unwrap_or("");
        if !(matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())) {
            err(
                "/display_information/background_color",
                "must be a hex color like #8b1a1a".into(),
            );
        }
    }

    let features = &manifest["features"];
    if let Some(bot) = features.get("bot_user") {
        let name = bot["display_name"].as_str().unwrap_or("");
        let allowed = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_' | '.');
        if name.is_empty() || name.chars().count() > 80 || !name.chars().all(allowed) {
            err(
                "/features/bot_user/display_name",
                format!(
                    "`{name}` must be 1 to 80 characters of a-z, 0-9, -, _ and . (no spaces \
                     or capitals)"
                ),
            );
        }
    }
    let socket_mode = manifest["settings"]["socket_mode_enabled"] == true;
    let commands = features["slash_commands"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if commands.len() > 50 {
        err(
            "/features/slash_commands",
            format!("has {} commands; at most 50", commands.len()),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in commands.iter().enumerate() {
        let at = |field: &str| format!("/features/slash_commands/{i}/{field}");
        let command = c["command"].as_str().unwrap_or("");
        let bare = command.strip_prefix('/').unwrap_or("");
        if bare.is_empty() || command.chars().count() > 32 {
            err(
                &at("command"),
                format!("`{command}` must start with / and be at most 32 characters"),
            );
        } else if !bare
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
        {
            err(
                &at("command"),
                format!("`{command}` must be lowercase letters, digits, - and _"),
            );
        }
        if BUILT_INS.contains(&bare) {
            err(
                &at("command"),
                format!("`{command}` is a Slack built-in command and cannot be registered"),
            );
        }
        if !seen.insert(command.to_string()) {
            err(&at("command"), format!("`{command}` is listed twice"));
        }
        match c["description"].as_str() {
            None | Some("") => err(&at("description"), "is required".into()),
            Some(_) if len(&c["description"]) > 2000 => {
                err(&at("description"), "must be at most 2000 characters".into())
            }
            _ => {}
        }
        if len(&c["usage_hint"]) > 1000 {
            err(&at("usage_hint"), "must be at most 1000 characters".into());
        }
        if !socket_mode && c["url"].as_str().is_none_or(|u| !u.starts_with("https://")) {
            err(
                &at("url"),
                "an https URL is required without Socket Mode".into(),
            );
        }
    }

    let scopes: Vec<&str> = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (i, scope) in scopes.iter().enumerate() {
        if !BOT_SCOPES.contains(scope) {
            err(
                &format!("/oauth_config/scopes/bot/{i}"),
                format!("`{scope}` is not a bot scope"),
            );
        }
    }
    if !commands.is_empty() && !scopes.contains(&"commands") {
        err(
            "/oauth_config/scopes/bot",
            "slash commands need the `commands` scope".into(),
        );
    }
    let events = manifest["settings"]["event_subscriptions"]["bot_events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, event) in events.iter().enumerate() {
        let event = event.as_str().unwrap_or("");
        match EVENT_SCOPES.iter().find(|(e, _)| *e == event) {
            None => err(
                &format!("/settings/event_subscriptions/bot_events/{i}"),
                format!("`{event}` is not an event this fake knows"),
            ),
            Some((_, scope)) if !scopes.contains(scope) => err(
                &format!("/settings/event_subscriptions/bot_events/{i}"),
                format!("`{event}` needs the `{scope}` scope"),
            ),
            _ => {}
        }
    }
    if !socket_mode && !events.is_empty() {
        let url = manifest["settings"]["event_subscriptions"]["request_url"].as_str();
        if url.is_none_or(|u| !u.starts_with("https://")) {
            err(
                "/settings/event_subscriptions/request_url",
                "an https URL is required without Socket Mode".into(),
            );
        }
    }
    errors
}
