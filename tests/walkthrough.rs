//! The README's walkthrough ("### Try it"), typed exactly as written: every
//! `USER> line` of its `text` blocks goes through `warroom run --as USER`, in
//! order, on the shipped configuration and the embedded demo; what the bot posts
//! is compared with the checked-in transcript `tests/walkthrough/README.transcript`.
//!
//! The transcript is data: after a deliberate change to what warroom says, rewrite
//! it with `WARROOM_BLESS=1 cargo test --test walkthrough` and read the diff.
//! Times, dates and measured durations are normalised, so the file changes only
//! when the words do.
//!
//! Issue 12's bars are checked on the same run: no placeholder, no internal timer
//! id, and every stakeholder post (each version of it) true to the incident's
//! state when it was posted.

mod common;

use std::process::Command;

use common::{repo, Env, StateDb};

/// One typed line: who, what, and whether the README's comment on it says it is
/// refused (`# refused: no role`).
struct Typed {
    user: String,
    line: String,
    refused: bool,
}

/// The `USER> line` entries of the README's "Try it" section, with `:as` followed.
fn walkthrough() -> Vec<Typed> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("### Try it")
        .expect("README has a Try it section");
    let end = readme[start..]
        .find("\n## ")
        .map_or(readme.len(), |i| start + i);
    let mut out = Vec::new();
    let mut in_block = false;
    for raw in readme[start..end].lines() {
        if raw.starts_with("```") {
            in_block = raw == "```text";
            continue;
        }
        if !in_block {
            continue;
        }
        let Some((user, rest)) = raw.split_once("> ") else {
            continue;
        };
        // A comment is `  # ...` after the line, never inside a quoted value.
        let (line, comment) = match rest.find("  #") {
            Some(i) => (rest[..i].trim_end(), &rest[i..]),
            None => (rest.trim_end(), ""),
        };
        if line.starts_with(":as") {
            continue;
        }
        out.push(Typed {
            user: user.to_string(),
            line: line.to_string(),
            refused: comment.contains("refused"),
        });
    }
    out
}

fn warroom(env: &Env, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("--config")
        .arg(env.config_path())
        .args(args)
        .env("WARROOM_DATABASE_URL", env.dir.path().join("state.db"))
        .env_remove("CHATIA_DB_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("warroom runs")
}

/// Times, dates and measurements as placeholders, so the transcript holds words.
fn normalise(text: &str) -> String {
    let today = chrono::Utc::now();
    let mut t = text
        .replace(&today.format("%Y%m%d").to_string(), "YYYYMMDD")
        .replace(&today.format("%Y-%m-%d").to_string(), "YYYY-MM-DD");
    for (pattern, with) in [
        (r"\b\d{2}:\d{2}:\d{2}\b", "HH:MM:SS"),
        (r"\b\d{2}:\d{2}\b", "HH:MM"),
        // A measured duration, whatever its unit: "850 ms", "1 s", "2 min 5 s".
        (
            r"\b\d+(\.\d+)? (ms|s|min|h)\b( \d+ (s|min)\b)?",
            "<duration>",
        ),
        (r"state: [^ ]*state\.db", "state: STATE"),
    ] {
        t = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&t, with)
            .into_owned();
    }
    t
}

#[tokio::test]
async fn the_readme_walkthrough_works_exactly_as_written() {
    let env = Env::shipped(StateDb::Sqlite).await;
    let typed = walkthrough();
    assert!(typed.len() >= 10, "the walkthrough was found");
    let mut transcript = String::new();
    // (the line typed, the incident's state after it, each stakeholder text)
    let mut stakeholder: Vec<(String, String)> = Vec::new();
    for t in &typed {
        let out = warroom(&env, &["run", "--as", &t.user, "--json", &t.line]);
        let code = out.status.code().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            code != 0,
            t.refused,
            "`{}` as {} exited {code}, and the README says it is {}:\n{stdout}\n{}",
            t.line,
            t.user,
            if t.refused { "refused" } else { "done" },
            String::from_utf8_lossy(&out.stderr)
        );
        transcript.push_str(&format!("{}> {}    (exit {code})\n", t.user, t.line));
        for l in stdout.lines() {
            let post: serde_json::Value = serde_json::from_str(l).unwrap();
            let channel = post["channel"].as_str().unwrap();
            let kind = post["kind"].as_str().unwrap();
            let text = post["text"].as_str().unwrap();
            let mut how = vec![channel.to_string(), kind.to_string()];
            if post["ephemeral"] == true {
                how.push("only you".into());
            }
            if post.get("edit_of").is_some() {
                how.push("edit".into());
            }
            if let Some(m) = post["mentions"].as_array() {
                let who: Vec<&str> = m.iter().filter_map(|v| v.as_str()).collect();
                how.push(format!("paging {}", who.join(" ")));
            }
            transcript.push_str(&format!("  [{}]\n", how.join(", ")));
            for line in text.lines() {
                transcript.push_str(&format!("  | {line}\n"));
            }
            if channel == "C_STATUS" {
                stakeholder.push((t.line.clone(), text.to_string()));
            }
        }
        transcript.push('\n');
    }

    // Issue 12's bars, on what was really posted.
    for bad in [
        "[to be filled",
        "[X]",
        "rto:",
        "escalate:",
        "respond at",
        "\u{E000}",
    ] {
        assert!(!transcript.contains(bad), "`{bad}` in:\n{transcript}");
    }
    assert!(!stakeholder.is_empty());
    for (line, text) in &stakeholder {
        let resolved = text.contains("INCIDENT RESOLVED");
        assert_eq!(
            resolved,
            line.starts_with("/incident resolve"),
            "a stakeholder post says RESOLVED only for the line that resolved it: `{line}`:\n{text}"
        );
    }
    // What stakeholders are left reading after the global stop: mitigated, not over.
    let after_stop = stakeholder
        .iter()
        .rfind(|(line, _)| line.starts_with("/kanban-off") && !line.contains("dry-run"))
        .map(|(_, text)| text)
        .expect("the stop told stakeholders");
    assert!(after_stop.contains("Mitigated; monitoring"), "{after_stop}");

    let got = normalise(&transcript);
    let path = repo().join("tests/walkthrough/README.transcript");
    if std::env::var_os("WARROOM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines().chain(std::iter::repeat("<missing>")))
            .enumerate()
            .filter(|(_, (g, w))| g != w)
            .take(10)
            .map(|(i, (g, w))| format!("line {}:\n  expected: {w}\n  got:      {g}", i + 1))
            .collect();
        panic!(
            "the walkthrough's transcript changed (WARROOM_BLESS=1 rewrites {} on purpose):\n{}\n\nwhole transcript:\n{got}",
            path.display(),
            diff.join("\n")
        );
    }
}
