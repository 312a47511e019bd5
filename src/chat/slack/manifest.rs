//! `warroom manifest slack`: a ready-to-paste Slack app manifest (JSON, which is also
//! valid YAML) with every command of the catalog, the scopes warroom needs and no
//! more, interactivity, the message events it records, and Socket Mode on.
//!
//! Slack rejects a whole manifest for one bad field, so the rules it applies live
//! here too ([`refused_command`], [`display_name`]) and `warroom check` reports a
//! command Slack would refuse before anyone pastes the manifest.
//!
//! Sources of the rules (copied facts only):
//! - `slackapi/node-slack-sdk`, `packages/web-api/src/types/request/manifest.ts`:
//!   app name ≤ 35, description ≤ 140, `bot_user.display_name` ≤ 80 of `a-z 0-9 - _ .`,
//!   ≤ 50 slash commands, `command` ≤ 32 with its `/`, `description` ≤ 2000,
//!   `usage_hint` ≤ 1000.
//! - Slack's built-in commands (Slack Help Center, "Use built-in slash commands",
//!   as listed in issue 11): an app may not register them.
//! - `slackapi/slack-api-specs`, `web-api/slack_web_openapi_v2.json`: the scopes of
//!   each Web API method warroom calls ([`METHODS`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::app::handlers;
use crate::command::catalog::{find_line, Catalog, Problem};

/// Slack allows at most this many slash commands per app.
pub const SLACK_COMMAND_LIMIT: usize = 50;

/// Slack's own slash commands: a manifest registering one is refused whole.
pub const SLACK_BUILT_INS: &[&str] = &[
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

/// Core commands whose name is a Slack built-in, and the name Slack knows them by.
/// `/warroom status` keeps working everywhere, and the console keeps `/status`.
pub const SLACK_RENAMES: &[(&str, &str)] = &[("status", "incident-status")];

/// The core command a Slack slash name stands for (`/incident-status` → `/status`).
pub fn core_name(slash: &str) -> String {
    let bare = slash.trim_start_matches('/');
    SLACK_RENAMES
        .iter()
        .find(|(_, slack)| *slack == bare)
        .map_or_else(|| slash.to_string(), |(core, _)| format!("/{core}"))
}

fn slack_name(core: &str) -> &str {
    SLACK_RENAMES
        .iter()
        .find(|(c, _)| *c == core)
        .map_or(core, |(_, slack)| slack)
}

/// Why Slack would refuse `name` (without its `/`) as a slash command, if it would.
/// Pure, for `warroom check` and the manifest alike.
pub fn refused_command(name: &str) -> Option<String> {
    if SLACK_BUILT_INS.contains(&name) {
        return Some(format!(
            "`/{name}` is one of Slack's built-in commands; Slack refuses a manifest that \
             registers it (rename the command; it stays reachable as `/warroom {name}`)"
        ));
    }
    // 32 characters including the leading `/` (manifest.ts, ManifestSlashCommand).
    if name.chars().count() + 1 > 32 {
        return Some(format!(
            "`/{name}` is longer than Slack's 32 characters for a slash command"
        ));
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(ok) {
        return Some(format!(
            "`/{name}` cannot be a Slack slash command (lowercase letters, digits, - and _)"
        ));
    }
    None
}

/// Every runbook command Slack would refuse, at its `file:line`.
pub fn check_names(catalog: &Catalog) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    for spec in catalog.specs() {
        let name = &spec.file.command.name;
        let Some(rule) = refused_command(name) else {
            continue;
        };
        if out.iter().any(|p| p.file == spec.path) {
            continue;
        }
        let source = catalog.sources.get(&spec.path).map_or("", String::as_str);
        out.push(Problem {
            file: spec.path.clone(),
            line: find_line(source, &format!("\"{name}\"")),
            message: rule,
        });
    }
    out
}

/// Slack's rule for `bot_user.display_name` (manifest.ts, ManifestBotUser): at most
/// 80 of `a-z`, `0-9`, `-`, `_` and `.`. Spaces become `-`, the rest is dropped.
pub fn display_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' | '-' | '_' | '.' => out.push(c),
            c if c.is_whitespace() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let out: String = out.trim_matches('-').chars().take(80).collect();
    if out.is_empty() {
        "warroom".into()
    } else {
        out
    }
}

/// Whether `name` follows Slack's display-name rule.
pub fn valid_display_name(name: &str) -> bool {
    (1..=80).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_' | '.'))
}

/// Each Web API method warroom calls: slack-morphism's function, the method, and
/// the bot scopes `slack_web_openapi_v2.json` names for it (its legacy
/// `chat:write:bot` is today's `chat:write`; its `channels:write` for
/// `conversations.join` is `channels:join` for a bot token). Socket Mode's
/// `apps.connections.open` takes the app-level token (`connections:write`), not a
/// bot scope.
pub const METHODS: &[(&str, &str, &[&str])] = &[
    ("auth_test", "auth.test", &[]),
    ("chat_post_message", "chat.postMessage", &["chat:write"]),
    ("chat_post_ephemeral", "chat.postEphemeral", &["chat:write"]),
    ("chat_update", "chat.update", &["chat:write"]),
    (
        "conversations_history",
        "conversations.history",
        &["channels:history", "groups:history"],
    ),
    (
        "conversations_join",
        "conversations.join",
        &["channels:join"],
    ),
    (
        "conversations_info",
        "conversations.info",
        &["channels:read", "groups:read"],
    ),
    ("users_info", "users.info", &["users:read"]),
    (
        "usergroups_users_list",
        "usergroups.users.list",
        &["usergroups:read"],
    ),
];

/// Bot scopes, each for one thing warroom does.
pub const SCOPES: &[(&str, &str)] = &[
    ("commands", "slash commands"),
    (
        "chat:write",
        "post and update messages (progress, templates, approvals)",
    ),
    (
        "channels:history",
        "record the incident channel's messages for the post-mortem",
    ),
    ("groups:history", "the same in private incident channels"),
    (
        "channels:join",
        "join a public incident channel on its first accepted command, to post and record there",
    ),
    (
        "channels:read",
        "know whether warroom is in a channel before running a command typed there",
    ),
    ("groups:read", "the same for private channels"),
    ("users:read", "show who acted by name in the post-mortem"),
    (
        "usergroups:read",
        "resolve `slack-group:` members of the matrix (who is in a user group)",
    ),
];

/// The events warroom subscribes to, and the scope each needs.
pub const EVENTS: &[(&str, &str)] = &[
    ("message.channels", "channels:history"),
    ("message.groups", "groups:history"),
];

/// One line on a built-in command, for app manifests and command lists: what the
/// whole command does, in at most 100 characters (Discord's limit too).
pub fn built_in_help(name: &str) -> &'static str {
    match name {
        "help" => "What you can run here, or how one command works",
        "approve" => "Approve a run waiting for your role's approval",
        "deny" => "Deny a run waiting for approval",
        "ratify" => "Ratify an emergency stop that ran on break-glass, as your role",
        "confirm" => "Tick a run's human checkpoint, so the run goes on",
        "cancel" => "Cancel a run waiting for approval or a checkpoint",
        "status" => "The channel's open incident, its runs, and runs waiting for approval",
        "assess" => "Which rollback fits, from error rate and duration (or issue type)",
        "incident" => "Declare, update, escalate and resolve the channel's incident",
        "note" => "Add a note to the incident timeline",
        "action" => "Record a post-mortem action item with its owner and due date",
        "ack" => "Acknowledge the incident (stops escalation)",
        "postmortem" => "Draft the post-mortem from the timeline",
        "checklist" => "Post a checklist (pre, during, post rollback...)",
        "check" => "Tick a checklist item",
        "drill" => {
            "Rehearse a runbook against its drill (staging) targets; list drills and due dates"
        }
        "warroom" => "Any warroom command, including those not listed as their own",
        _ => "warroom command",
    }
}

/// The arguments a built-in takes, as Slack's usage hint.
pub fn built_in_usage(name: &str) -> &'static str {
    match name {
        "help" => "[command]",
        "approve" | "deny" | "ratify" | "confirm" | "cancel" => "RUN-n",
        "status" => "",
        "assess" => "error_rate=<percent> duration=<minutes> | issue=<type>",
        "incident" => {
            "declare P0-P3 \"title\" | status | severity P0-P3 | state <status> | update \"text\" \
             | resolve | escalate | role <role> @person"
        }
        "note" => "\"text\"",
        "action" => "\"what\" owner=@person due=YYYY-MM-DD",
        "ack" => "",
        "postmortem" => "",
        "checklist" => "<name>",
        "check" => "<checklist> <item number>",
        "drill" => "[name]",
        "warroom" => "<command> [arguments]",
        _ => "",
    }
}

/// What a slash command that groups several runbooks (`/rollback quick|full|...`)
/// does as a whole, and how it is typed.
fn family(name: &str, members: &[(Option<String>, String, String)]) -> (String, String) {
    if let [(None, help, usage)] = members {
        return (help.clone(), usage.clone());
    }
    let subs: Vec<&str> = members
        .iter()
        .filter_map(|(sub, _, _)| sub.as_deref())
        .collect();
    // "Rollback: full, migration-down, partial or quick; /help rollback describes each"
    let mut title: String = name.replace('-', " ");
    if let Some(first) = title.get(..1) {
        title = format!("{}{}", first.to_uppercase(), &title[1..]);
    }
    let listed = match subs.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    let description = format!("{title}: {listed}; /help {name} describes each");
    let full: Vec<&str> = members.iter().map(|(_, _, u)| u.as_str()).collect();
    let usage = full.join(" | ");
    // Whole, or a shorter form that is still whole: never cut mid-word.
    let usage = if usage.chars().count() <= 1000 {
        usage
    } else {
        format!("{} [arguments]", subs.join("|"))
    };
    (description, usage)
}

/// The manifest. `name` is the app's display name. With `public_url`, Slack calls
/// warroom's HTTP endpoints there; without it, Socket Mode (no public URL needed).
pub fn manifest(catalog: &Catalog, name: &str, public_url: Option<&str>) -> Value {
    let endpoint = |path: &str| public_url.map(|u| format!("{}{path}", u.trim_end_matches('/')));
    // One slash command per name; subcommands share it.
    let mut families: BTreeMap<String, Vec<(Option<String>, String, String)>> = BTreeMap::new();
    for spec in catalog.specs() {
        let h = &spec.file.command;
        let usage = spec.usage();
        let usage = usage
            .trim_start_matches('/')
            .trim_start_matches(&h.name)
            .trim()
            .to_string();
        families
            .entry(h.name.clone())
            .or_default()
            .push((h.sub.clone(), h.help.clone(), usage));
    }
    let mut commands: BTreeMap<String, (String, String)> = families
        .iter()
        // A name Slack refuses would sink the whole manifest: `warroom check` reports
        // it, and `/warroom <name>` still reaches it.
        .filter(|(name, _)| refused_command(name).is_none())
        .map(|(name, members)| (name.clone(), family(name, members)))
        .collect();
    for b in handlers::NAMES.iter() {
        commands
            .entry(slack_name(b).to_string())
            .or_insert_with(|| (built_in_help(b).to_string(), built_in_usage(b).to_string()));
    }
    let commands_url = endpoint("/slack/commands");
    let with_url = |mut command: Value| {
        if let Some(url) = &commands_url {
            command["url"] = url.clone().into();
        }
        command
    };
    let mut slash: Vec<Value> = vec![with_url(json!({
        "command": "/warroom",
        "description": built_in_help("warroom"),
        "usage_hint": built_in_usage("warroom"),
        "should_escape": false,
    }))];
    // Past Slack's limit only the umbrella is listed; every command still works as
    // `/warroom <command>`.
    if commands.len() < SLACK_COMMAND_LIMIT {
        slash.extend(commands.iter().map(|(cmd, (help, usage))| {
            let mut c = json!({
                "command": format!("/{cmd}"),
                "description": help,
                "should_escape": false,
            });
            if !usage.is_empty() {
                c["usage_hint"] = usage.clone().into();
            }
            with_url(c)
        }));
    }
    let app_name: String = name.trim().chars().take(35).collect();
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": app_name,
            "description": "Runbooks as authorized chat commands for incident response and rollback",
            "background_color": "#8b1a1a",
        },
        "features": {
            "bot_user": { "display_name": display_name(name), "always_online": true },
            "slash_commands": slash,
        },
        "oauth_config": { "scopes": { "bot": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>() } },
        "settings": settings(endpoint("/slack/events"), endpoint("/slack/interactivity")),
    })
}

fn settings(events_url: Option<String>, interactivity_url: Option<String>) -> Value {
    let bot_events: Vec<&str> = EVENTS.iter().map(|(e, _)| *e).collect();
    let mut events = json!({ "bot_events": bot_events });
    let mut interactivity = json!({ "is_enabled": true });
    if let (Some(events_url), Some(interactivity_url)) = (&events_url, interactivity_url) {
        events["request_url"] = events_url.clone().into();
        interactivity["request_url"] = interactivity_url.into();
    }
    json!({
        "event_subscriptions": events,
        "interactivity": interactivity,
        "org_deploy_enabled": false,
        "socket_mode_enabled": events_url.is_none(),
        "token_rotation_enabled": false,
    })
}

#[cfg(test)]
mod tests;
