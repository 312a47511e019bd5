//! The `warroom` binary's contract (DESIGN.md §6): `run` output and exit codes,
//! approvals across processes, `check`, and `export`.

mod common;

use std::process::{Command, Output};

use common::{repo, Env, StateDb};

fn warroom(env: &Env, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("--config")
        .arg(env.config_path())
        .args(args)
        .env("WARROOM_DATABASE_URL", env.dir.path().join("state.db"))
        .env_remove("CHATIA_DB_URL")
        .output()
        .expect("warroom runs")
}

/// The binary run in `dir` with `args` (no `--config`: it finds `warroom.toml` there).
fn warroom_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("warroom runs")
}

fn run(env: &Env, user: &str, line: &str) -> (i32, Vec<serde_json::Value>) {
    let out = warroom(env, &["run", "--as", user, "--json", line]);
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let posts = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (out.status.code().expect("exit code"), posts)
}

fn texts(posts: &[serde_json::Value]) -> String {
    posts
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[tokio::test]
async fn run_exit_codes_follow_the_contract() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let table = [
        ("U_ONCALL", "/echo impact=fine", 0),
        ("U_ONCALL", "/nope", 2),
        ("U_ONCALL", "/echo", 2),
        ("U_STRANGER", "/echo impact=x", 3),
        ("U_ONCALL", "/failing", 4),
        ("U_ONCALL", "/corrupt", 0),
    ];
    for (user, line, code) in table {
        let (got, posts) = run(&env, user, line);
        assert_eq!(got, code, "{line}: {}", texts(&posts));
    }
}

#[tokio::test]
async fn json_output_is_one_object_per_post_with_the_contract_keys() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (code, posts) = run(&env, "U_ONCALL", "/kanban-off reason=\"socket down\"");
    assert_eq!(code, 0);
    for p in &posts {
        for key in ["channel", "text", "ephemeral", "kind"] {
            assert!(p.get(key).is_some(), "{key} missing in {p}");
        }
    }
    let templates: Vec<_> = posts.iter().filter(|p| p["kind"] == "template").collect();
    assert_eq!(templates.len(), 2);
    assert_eq!(templates[0]["channel"], "C_INC");
    assert_eq!(templates[1]["channel"], "C_STATUS");
    assert_eq!(templates[0]["ephemeral"], false);
    // Seed 001 scenario 1, "Immediate Actions" step 5: mitigated, not resolved; the
    // stakeholders' copy edits the burst's message (issue 12).
    assert!(templates[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("🚨 **P0: Kanban V2 disabled globally. Investigating root cause.**"));
    assert!(templates[1].get("edit_of").is_some(), "{}", templates[1]);

    let (code, posts) = run(&env, "U_NOBODY", "/kanban-off reason=\"socket down\"");
    assert_eq!(code, 3);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0]["kind"].as_str(), posts[0]["ephemeral"].as_bool()),
        (Some("denied"), Some(true))
    );
}

#[tokio::test]
async fn an_approval_given_in_a_second_process_continues_the_run() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (code, posts) = run(
        &env,
        "U_ONCALL",
        "/kanban-selective-off reason=\"slow DnD\" top=4 settle=10ms",
    );
    assert_eq!(code, 0, "waiting for approval is not an error");
    let request = posts
        .iter()
        .find(|p| p["kind"] == "approval")
        .expect("approval request");
    assert!(request["text"].as_str().unwrap().contains("RUN-1"));
    assert_eq!(common::kanban_enabled(&env).await, 30);

    let (code, _) = run(&env, "U_ONCALL", "/approve RUN-1");
    assert_eq!(code, 3, "the requester cannot approve");
    let (code, posts) = run(&env, "U_LEAD", "/approve RUN-1");
    assert_eq!(code, 0, "{}", texts(&posts));
    // The top 4 by errors are companies 1-4; company 4 was already off in the demo data.
    assert_eq!(common::kanban_enabled(&env).await, 27);
    assert!(texts(&posts).contains("PERFORMANCE ISSUE - PARTIALLY RESOLVED"));
    assert!(posts
        .iter()
        .any(|p| p["kind"] == "progress" && p["text"].as_str().unwrap().contains("succeeded")));
}

#[tokio::test]
async fn report_gives_the_means_the_breaches_and_approval_waits_of_the_window() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (code, posts) = run(&env, "U_ONCALL", "/kanban-off reason=\"socket down\"");
    assert_eq!(code, 0, "{}", texts(&posts));
    assert_eq!(run(&env, "U_IC", "/incident resolve").0, 0);
    let (code, _) = run(
        &env,
        "U_ONCALL",
        "/kanban-selective-off reason=\"slow DnD\" top=2 settle=10ms",
    );
    assert_eq!(code, 0);
    assert_eq!(run(&env, "U_LEAD", "/approve RUN-2").0, 0);

    let out = warroom(&env, &["report", "--since", "30d", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["incidents"], 2);
    let p0 = &r["by_severity"]["P0"];
    assert_eq!(p0["incidents"], 1);
    assert!(p0["mttm_ms"].as_i64().unwrap() >= 0, "{p0}");
    assert!(p0["mttr_ms"].as_i64().unwrap() >= p0["mttm_ms"].as_i64().unwrap());
    assert_eq!(p0["rto_ms"], 300_000, "seed 001's 5 minutes");
    assert_eq!(r["by_severity"]["P1"]["incidents"], 1);
    assert_eq!(r["breaches"].as_array().unwrap().len(), 0, "{r}");
    let waits = &r["approvals"]["production-p1"];
    assert_eq!(waits["requests"], 1, "{r}");
    assert_eq!(waits["approved"], 1);
    assert!(
        r["approvals"].get("production-p0").is_none(),
        "P0 needs no approval"
    );
    // The drills of warroom.toml (issue 13), not commands named `drill`: seed 004's
    // monthly drill is due once in 30 days; seed 001's staging test has no cadence.
    assert_eq!(
        r["drills"]["processpilot-backup-restore"],
        serde_json::json!({"done": 0, "due": 1, "failed": 0}),
        "seed 004's monthly drill: {r}"
    );
    assert_eq!(r["drills"]["kanban-staging-test"]["due"], 0, "{r}");

    let md = warroom(&env, &["report", "--since", "30d"]);
    let md = String::from_utf8(md.stdout).unwrap();
    for want in [
        "# Incident report",
        "## By severity",
        "| P0 | 1 |",
        "## RTO breaches",
        "| production-p1 | 1 | 1 |",
        "| /drill processpilot-backup-restore | 0 | 1 | 0 |",
    ] {
        assert!(md.contains(want), "{want} missing:\n{md}");
    }
    let bad = warroom(&env, &["report", "--since", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn check_passes_on_the_shipped_files() {
    let out = warroom_in(&repo(), &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // The success line says what was checked, not only the config file's name.
    let re = regex::Regex::new(
        r"^ok: warroom.toml \(\d+ targets\), \d+ commands and \d+ checklists in commands, \d+ roles and \d+ scenarios in matrix.toml, \d+ templates in templates: no problems found$",
    )
    .unwrap();
    assert!(re.is_match(stdout.trim()), "{stdout}");
}

#[tokio::test]
async fn check_reports_each_broken_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&repo().join("commands"), &dir.path().join("commands"));
    common::copy_dir(&repo().join("templates"), &dir.path().join("templates"));
    std::fs::copy(repo().join("warroom.toml"), dir.path().join("warroom.toml")).unwrap();
    let off = dir.path().join("commands/chatia/kanban-off.toml");
    let text = std::fs::read_to_string(&off).unwrap();
    std::fs::write(
        &off,
        text.replace(
            "scenario = \"production-p0\"",
            "scenario = \"production-p9\"",
        )
        .replace(
            "target = \"chatia_db\"\npostgres",
            "target = \"nowhere\"\npostgres",
        ),
    )
    .unwrap();
    // Broken files (each named in the expectations below) beside the shipped ones.
    common::copy_dir(&repo().join("tests/fixtures/check-broken"), dir.path());
    let out = warroom_in(dir.path(), &["check"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let expected = [
        "commands/chatia/kanban-off.toml:7: unknown scenario `production-p9`",
        "commands/chatia/kanban-off.toml:42: step `Disable kanbanV2Enabled for every company`: unknown target `nowhere`",
        "commands/chatia/kanban-off.toml:62: step `Verify no company has Kanban V2 enabled`: unknown target `nowhere`",
        "commands/broken.toml:7: argument `who`: invalid pattern",
        "commands/broken.toml:11: unknown template `missing.md.j2`",
        "commands/dup.toml:2: duplicate command /kanban-off",
        "commands/uses-bad.toml:10: template `bad-vars.md.j2` uses `vars.nobody_sets_this`, which this command does not provide",
        "commands/not-for-discord.toml:2: `Shout` cannot be a Discord command name",
        "commands/not-for-discord.toml:6: argument `Target Host` cannot be a Discord option name",
    ];
    for e in expected {
        assert!(
            stdout.lines().any(|l| l.starts_with(e)),
            "missing `{e}` in:\n{stdout}"
        );
    }
}

#[tokio::test]
async fn check_reports_alert_rules_that_name_no_runbook_or_argument() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config = config
        .replace(
            "run = \"/kanban-off reason=\\\"{annotations.summary}\\\"\"",
            "run = \"/kanban-off why=\\\"{annotations.summary}\\\" top={env.X}\"\n\n[[alerts.rules]]\nmatch = {}\nrun = \"/no-such-runbook\"",
        )
        .replace("warning = \"P2\"", "warning = \"P9\"");
    std::fs::write(env.config_path(), config).unwrap();
    let out = warroom(&env, &["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for want in [
        "/kanban-off has no argument `why`",
        "`{env.X}` is neither",
        "/no-such-runbook is not a runbook command",
        "`warning` maps to `P9`",
    ] {
        assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
    }
    assert!(stdout.contains("warroom.toml:"), "file:line: {stdout}");
}

#[tokio::test]
async fn export_renders_the_post_mortem_of_an_incident() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let (code, _) = run(&env, "U_ONCALL", "/kanban-off reason=\"socket down\"");
    assert_eq!(code, 0);
    let day = chrono::Utc::now().format("%Y%m%d");
    let id = format!("INC-{day}-001");
    let out = warroom(&env, &["export", &id]);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        md.starts_with(&format!("# Incident Post-Mortem: {id}")),
        "{md}"
    );
    assert!(
        md.contains("| 1 | Disable kanbanV2Enabled for every company | succeeded |"),
        "{md}"
    );
    let out = warroom(&env, &["export", &id, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["runs"][0]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(doc["timeline"][0]["kind"], "detected");
    let out = warroom(&env, &["export", "INC-19990101-001"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn the_slack_manifest_lists_every_command_with_minimal_scopes_and_socket_mode() {
    let out = warroom_in(&repo(), &["manifest", "slack"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("valid JSON (and so valid YAML)");
    let listed: Vec<&str> = m["features"]["slash_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert!(listed.len() <= 50, "Slack allows 50 slash commands per app");
    let (catalog, problems) = warroom::command::catalog::Catalog::load(
        &repo().join("commands"),
        warroom::app::handlers::NAMES,
    );
    assert!(problems.is_empty());
    for spec in catalog.unwrap().specs() {
        let name = format!("/{}", spec.file.command.name);
        assert!(listed.contains(&name.as_str()), "{name} missing");
    }
    for builtin in [
        "/warroom",
        "/help",
        "/approve",
        "/deny",
        "/confirm",
        "/incident",
        "/ack",
        "/checklist",
    ] {
        assert!(listed.contains(&builtin), "{builtin} missing");
    }
    assert_eq!(m["settings"]["socket_mode_enabled"], true);
    assert_eq!(m["settings"]["interactivity"]["is_enabled"], true);
    assert_eq!(
        m["oauth_config"]["scopes"]["bot"],
        serde_json::json!([
            "commands",
            "chat:write",
            "channels:history",
            "groups:history",
            "channels:join",
            "channels:read",
            "groups:read",
            "users:read",
            "usergroups:read"
        ])
    );
    // 2000: slackapi/node-slack-sdk manifest.ts, ManifestSlashCommand.description
    // (every other manifest rule: tests/fake_slack/manifest.rs).
    for c in m["features"]["slash_commands"].as_array().unwrap() {
        assert!(
            c["description"].as_str().unwrap().chars().count() <= 2000,
            "{c}"
        );
    }
}

#[tokio::test]
async fn dry_run_from_the_command_line_changes_nothing() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let out = warroom(
        &env,
        &[
            "run",
            "--as",
            "U_ONCALL",
            "--dry-run",
            "/kanban-off reason=\"check first\"",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Dry run of /kanban-off — nothing was changed"),
        "{text}"
    );
    assert_eq!(common::kanban_enabled(&env).await, 30);
}

#[test]
fn a_missing_config_is_one_line_that_says_where_to_run_or_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir.path())
        .env_remove("WARROOM_CONFIG")
        .args(["run", "--as", "U_ONCALL", "/help"])
        .output()
        .expect("warroom runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("No such file").count(),
        1,
        "the reason is said once: {stderr}"
    );
    assert!(
        stderr.contains("warroom.toml") && stderr.contains("--config FILE"),
        "{stderr}"
    );
}

/// Issue 12's list of mistakes `warroom check` let through, each flagged once at the
/// line where it is: a misspelt template field (it posted "INCIDENT ALERT: P1 - "),
/// a syntax error on line 4 (was reported at line 1, plus one line per command
/// posting the template), a duration in parsecs (silently became 60 s), a target of
/// an unknown kind (was one error per step), and a regex error in full (was cut
/// after "regex parse error:").
#[tokio::test]
async fn check_flags_each_mistake_once_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&repo().join("commands"), &dir.path().join("commands"));
    common::copy_dir(&repo().join("templates"), &dir.path().join("templates"));
    common::copy_dir(&repo().join("tests/fixtures/check-mistakes"), dir.path());
    let config = std::fs::read_to_string(repo().join("warroom.toml"))
        .unwrap()
        .replace("step_timeout = \"60s\"", "step_timeout = \"60 parsecs\"");
    let config =
        format!("{config}\n[targets.weird_db]\nkind = \"mongo\"\nurl_env = \"WEIRD_DB_URL\"\n");
    std::fs::write(dir.path().join("warroom.toml"), &config).unwrap();
    common::copy_dir(
        &repo().join("tests/fixtures/check-broken/commands"),
        &dir.path().join("commands"),
    );
    let out = warroom_in(dir.path(), &["check"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let timeout_line = config.lines().position(|l| l.contains("parsecs")).unwrap() + 1;
    let target_line = config
        .lines()
        .position(|l| l == "[targets.weird_db]")
        .unwrap()
        + 1;
    let expected = [
        "templates/typo.md.j2:2: `incident.titel` is not a field of `incident` (it has: ".to_string(),
        "templates/syntax.md.j2:4: syntax error: ".to_string(),
        format!("warroom.toml:{timeout_line}: `step_timeout` = \"60 parsecs\" is not a duration: write it like 90s"),
        format!("warroom.toml:{target_line}: target `weird_db`: unknown kind `mongo` (known: sql, http, redis)"),
        "commands/broken.toml:7: argument `who`: invalid pattern `[a-z`: unclosed character class".to_string(),
        "commands/mistakes.toml:7: argument `tag` needs a `help`: a value its pattern refuses is explained with it".to_string(),
    ];
    for e in &expected {
        let hits = stdout.lines().filter(|l| l.contains(e.as_str())).count();
        assert_eq!(hits, 1, "`{e}` should be reported once in:\n{stdout}");
    }
    // No echo of those mistakes elsewhere: the command posting the broken template
    // and the step reading the odd target add nothing.
    assert_eq!(
        stdout.matches("mistakes.toml").count(),
        1,
        "only the missing help: {stdout}"
    );
    assert!(!stdout.contains("regex parse error"), "{stdout}");
}
