use super::*;

#[test]
fn display_names_follow_slacks_rule() {
    for (given, want) in [
        ("warroom", "warroom"),
        ("War Room Bot", "war-room-bot"),
        ("ops  bot!", "ops-bot"),
        ("équipe", "quipe"),
        ("!!!", "warroom"),
    ] {
        assert_eq!(display_name(given), want, "{given}");
        assert!(valid_display_name(&display_name(given)));
    }
    assert_eq!(display_name(&"a".repeat(200)).len(), 80);
}

#[test]
fn built_in_names_and_malformed_names_are_refused_with_the_rule() {
    assert!(refused_command("status").unwrap().contains("built-in"));
    assert!(refused_command("invite").is_some());
    assert!(refused_command("Kanban").is_some());
    assert!(refused_command(&"x".repeat(32)).unwrap().contains("32"));
    assert_eq!(refused_command("incident-status"), None);
    assert_eq!(refused_command("kanban-off"), None);
    assert_eq!(core_name("/incident-status"), "/status");
    assert_eq!(core_name("/kanban-off"), "/kanban-off");
}

/// README's "Connect Slack" lists exactly the scopes the manifest asks for.
#[test]
fn the_readme_lists_exactly_the_manifests_scopes() {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("## Connect Slack")
        .expect("a Connect Slack section");
    let end = readme[start..]
        .find("\n## ")
        .map_or(readme.len(), |e| start + e);
    let section = &readme[start..end];
    let table: Vec<&str> = section
        .lines()
        .filter(|l| l.trim_start().starts_with("| `"))
        .flat_map(|l| l.split('|').nth(1).unwrap_or("").split(','))
        .map(|s| s.trim().trim_matches('`'))
        .collect();
    let mut listed = table.clone();
    listed.sort();
    let mut asked: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
    asked.sort();
    assert_eq!(listed, asked);
}

/// Every Web API call in the Slack adapter is in [`METHODS`], every method
/// there is called, and the manifest asks for exactly their scopes plus
/// `commands` and the events' scopes (scopes per method from
/// slackapi/slack-api-specs `web-api/slack_web_openapi_v2.json`).
#[test]
fn the_manifests_scopes_are_exactly_those_of_the_methods_the_code_calls() {
    let sources = [
        include_str!("../web.rs"),
        include_str!("../history.rs"),
        include_str!("../workspace.rs"),
        include_str!("../socket.rs"),
        include_str!("../http.rs"),
        include_str!("../ingress.rs"),
        include_str!("../members.rs"),
    ]
    .join("\n");
    let families = [
        "auth_",
        "chat_",
        "conversations_",
        "users_",
        "usergroups_",
        "files_",
        "reactions_",
        "views_",
        "team_",
        "bots_",
        "pins_",
        "apps_",
    ];
    let mut called: Vec<String> = Vec::new();
    for (i, _) in sources.match_indices('.') {
        let rest = &sources[i + 1..];
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let is_call = rest[ident.len()..].starts_with('(');
        if is_call && families.iter().any(|f| ident.starts_with(f)) {
            called.push(ident);
        }
    }
    called.sort();
    called.dedup();
    let known: Vec<&str> = METHODS.iter().map(|(f, _, _)| *f).collect();
    for f in &called {
        assert!(
            known.contains(&f.as_str()),
            "{f} is called but not in METHODS"
        );
    }
    for f in &known {
        assert!(
            called.iter().any(|c| c == f),
            "{f} is in METHODS but never called"
        );
    }
    let mut needed: Vec<&str> = METHODS
        .iter()
        .flat_map(|(_, _, s)| s.iter().copied())
        .chain(EVENTS.iter().map(|(_, s)| *s))
        .chain(["commands"])
        .collect();
    needed.sort();
    needed.dedup();
    let mut asked: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
    asked.sort();
    assert_eq!(asked, needed);
}
