//! The fake's manifest check (rules and sources in `common/fake_slack/manifest.rs`)
//! refuses what Slack refuses, and `warroom manifest slack` passes it as it is.

use std::process::Command;

use crate::common::fake_slack::validate_manifest;
use crate::common::repo;
use serde_json::{json, Value};

/// Breaks one rule in a good manifest.
type Breaker = Box<dyn Fn(&mut Value)>;

fn good() -> Value {
    json!({
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {"name": "warroom", "background_color": "#8b1a1a"},
        "features": {
            "bot_user": {"display_name": "warroom", "always_online": true},
            "slash_commands": [
                {"command": "/kanban-off", "description": "Disable Kanban V2", "usage_hint": "reason=<text>"}
            ],
        },
        "oauth_config": {"scopes": {"bot": ["commands", "chat:write", "channels:history"]}},
        "settings": {
            "event_subscriptions": {"bot_events": ["message.channels"]},
            "socket_mode_enabled": true,
        },
    })
}

#[test]
fn the_fakes_manifest_check_refuses_each_rule_slack_applies() {
    assert_eq!(validate_manifest(&good()), Vec::<String>::new());
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "built-in",
            Box::new(|m| m["features"]["slash_commands"][0]["command"] = "/status".into()),
        ),
        (
            "/remind",
            Box::new(|m| m["features"]["slash_commands"][0]["command"] = "/remind".into()),
        ),
        (
            "32",
            Box::new(|m| {
                m["features"]["slash_commands"][0]["command"] =
                    format!("/{}", "a".repeat(32)).into()
            }),
        ),
        (
            "lowercase",
            Box::new(|m| m["features"]["slash_commands"][0]["command"] = "/Kanban".into()),
        ),
        (
            "display_name",
            Box::new(|m| m["features"]["bot_user"]["display_name"] = "War Room".into()),
        ),
        (
            "35",
            Box::new(|m| m["display_information"]["name"] = "x".repeat(36).into()),
        ),
        (
            "140",
            Box::new(|m| m["display_information"]["description"] = "x".repeat(141).into()),
        ),
        (
            "1000",
            Box::new(|m| {
                m["features"]["slash_commands"][0]["usage_hint"] = "x".repeat(1001).into()
            }),
        ),
        (
            "description",
            Box::new(|m| m["features"]["slash_commands"][0]["description"] = "".into()),
        ),
        (
            "at most 50",
            Box::new(|m| {
                m["features"]["slash_commands"] = (0..51)
                    .map(|i| json!({"command": format!("/c{i}"), "description": "d"}))
                    .collect::<Vec<_>>()
                    .into();
            }),
        ),
        (
            "not a bot scope",
            Box::new(|m| m["oauth_config"]["scopes"]["bot"][1] = "chat:writes".into()),
        ),
        (
            "needs the",
            Box::new(|m| {
                m["settings"]["event_subscriptions"]["bot_events"][0] = "message.groups".into()
            }),
        ),
        (
            "https URL",
            Box::new(|m| m["settings"]["socket_mode_enabled"] = false.into()),
        ),
    ];
    for (needle, break_it) in cases {
        let mut m = good();
        break_it(&mut m);
        let errors = validate_manifest(&m);
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle}: {errors:?}"
        );
    }
}

fn manifest(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(repo())
        .args(["manifest", "slack"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Issue 11: `/status` is Slack's, and `--name "War Room"` made a display name with
/// a space; both sink the whole manifest. Every rule the fake knows, in Socket Mode
/// and with a public URL.
#[test]
fn warroom_manifest_slack_passes_every_slack_manifest_rule() {
    for args in [
        vec![],
        vec!["--name", "War Room Bot"],
        vec!["--url", "https://warroom.example.com"],
    ] {
        let m = manifest(&args);
        assert_eq!(validate_manifest(&m), Vec::<String>::new(), "{args:?}");
        let commands: Vec<&str> = m["features"]["slash_commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap())
            .collect();
        assert!(commands.contains(&"/incident-status"), "{commands:?}");
        assert!(!commands.contains(&"/status"));
        for c in m["features"]["slash_commands"].as_array().unwrap() {
            let description = c["description"].as_str().unwrap();
            let hint = c["usage_hint"].as_str().unwrap_or("");
            // Whole words, whole commands: nothing cut with an ellipsis.
            assert!(!description.ends_with('…') && !hint.ends_with('…'), "{c}");
        }
    }
    let m = manifest(&["--name", "War Room Bot"]);
    assert_eq!(m["features"]["bot_user"]["display_name"], "war-room-bot");
    assert_eq!(m["display_information"]["name"], "War Room Bot");
}

/// A family of runbooks is described as a whole, not by one arbitrary member
/// (`/kill-switch` read "Lift the LegalFlow kill switch...").
#[test]
fn a_grouped_command_is_described_by_all_its_subcommands() {
    let m = manifest(&[]);
    let find = |name: &str| {
        m["features"]["slash_commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["command"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let rollback = find("/rollback");
    let description = rollback["description"].as_str().unwrap();
    for sub in ["quick", "full", "partial", "migration-down"] {
        assert!(description.contains(sub), "{description}");
        assert!(rollback["usage_hint"].as_str().unwrap().contains(sub));
    }
    assert!(!find("/approve")["usage_hint"].as_str().unwrap().is_empty());
}

/// `warroom check` says which runbook name Slack would refuse, at its `file:line`,
/// before anyone pastes a manifest (the manifest leaves it out; `/warroom invite`
/// still reaches it).
#[test]
fn warroom_check_reports_a_command_name_slack_refuses_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&repo().join("commands"), &dir.path().join("commands"));
    crate::common::copy_dir(&repo().join("templates"), &dir.path().join("templates"));
    std::fs::copy(repo().join("warroom.toml"), dir.path().join("warroom.toml")).unwrap();
    std::fs::write(
        dir.path().join("commands/invite.toml"),
        "# Slack keeps /invite for itself.\n[command]\nname = \"invite\"\nhelp = \"x\"\nscenario = \"production-p0\"\n[[steps]]\nname = \"w\"\n[steps.wait]\nduration = \"1s\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.lines().any(|l| l
            .starts_with("commands/invite.toml:3: `/invite` is one of Slack's built-in commands")),
        "{stdout}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir.path())
        .args(["manifest", "slack"])
        .output()
        .unwrap();
    // The manifest is still printed, without /invite, so Slack accepts it.
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\"/invite\""), "{text}");
}
