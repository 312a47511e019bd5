//! `warroom manifest slack`: a ready-to-paste Slack app manifest (JSON, which is also
//! valid YAML) with every command of the catalog, the scopes warroom needs and no
//! more, interactivity, the message events it records, and Socket Mode on.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::app::handlers;
use crate::command::catalog::Catalog;

/// Slack allows at most this many slash commands per app.
pub const SLACK_COMMAND_LIMIT: usize = 50;

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
    ("users:read", "show who acted by name in the post-mortem"),
];

/// One line on a built-in command, for app manifests and command lists.
pub fn built_in_help(name: &str) -> &'static str {
    match name {
        "help" => "What you can run here",
        "approve" => "Approve a waiting run: /approve RUN-7",
        "deny" => "Deny a waiting run: /deny RUN-7",
        "confirm" => "Tick a run's human checkpoint: /confirm RUN-7",
        "cancel" => "Cancel a waiting run: /cancel RUN-7",
        "status" => "Open incident and runs",
        "assess" => "Which rollback? /assess error_rate=12 duration=6m",
        "incident" => "declare | status | severity | state | update | resolve | role",
        "note" => "Add a note to the incident timeline",
        "action" => "Record an action item: /action \"...\" owner=@x due=2026-12-01",
        "ack" => "Acknowledge the incident (stops escalation)",
        "postmortem" => "Draft the post-mortem from the timeline",
        "checklist" => "Post a checklist: /checklist post-rollback",
        "check" => "Tick a checklist item: /check post-rollback 1",
        "warroom" => "Any warroom command: /warroom kanban-off reason=\"...\"",
        _ => "warroom command",
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The manifest. `name` is the app's display name. With `public_url`, Slack calls
/// warroom's HTTP endpoints there; without it, Socket Mode (no public URL needed).
pub fn manifest(catalog: &Catalog, name: &str, public_url: Option<&str>) -> Value {
    let endpoint = |path: &str| public_url.map(|u| format!("{}{path}", u.trim_end_matches('/')));
    // One slash command per name; subcommands share it.
    let mut commands: BTreeMap<String, (String, String)> = BTreeMap::new();
    for spec in catalog.specs() {
        let entry = commands
            .entry(spec.file.command.name.clone())
            .or_insert_with(|| (String::new(), String::new()));
        if entry.0.is_empty() {
            entry.0 = spec.file.command.help.clone();
        }
        let usage = spec.usage();
        let usage = usage
            .trim_start_matches('/')
            .trim_start_matches(&spec.file.command.name)
            .trim();
        entry.1 = if entry.1.is_empty() {
            usage.to_string()
        } else {
            format!("{} | {usage}", entry.1)
        };
    }
    for b in handlers::NAMES.iter() {
        commands
            .entry(b.to_string())
            .or_insert_with(|| (built_in_help(b).to_string(), String::new()));
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
        "usage_hint": "<command> [arguments]",
        "should_escape": false,
    }))];
    // Past Slack's limit only the umbrella is listed; every command still works as
    // `/warroom <command>`.
    if commands.len() < SLACK_COMMAND_LIMIT {
        slash.extend(commands.iter().map(|(cmd, (help, usage))| {
            with_url(json!({
                "command": format!("/{cmd}"),
                "description": clip(help, 100),
                "usage_hint": clip(usage, 100),
                "should_escape": false,
            }))
        }));
    }
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": name,
            "description": "Runbooks as authorized chat commands for incident response and rollback",
            "background_color": "#8b1a1a",
        },
        "features": {
            "bot_user": { "display_name": name, "always_online": true },
            "slash_commands": slash,
        },
        "oauth_config": { "scopes": { "bot": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>() } },
        "settings": settings(endpoint("/slack/events"), endpoint("/slack/interactivity")),
    })
}

fn settings(events_url: Option<String>, interactivity_url: Option<String>) -> Value {
    let mut events = json!({ "bot_events": ["message.channels", "message.groups"] });
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
