//! A shell step's program dies with warroom, even when warroom is killed with
//! SIGKILL (issue 14: 79 of 79 children outlived their parent). The mechanism is
//! Linux's `PR_SET_PDEATHSIG` (man 2 prctl), set in the child before exec.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, StateDb};

/// Processes whose parent is `ppid` and whose command name is `comm`.
fn children(ppid: u32, comm: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let ppid_of = stat[close + 2..].split_whitespace().nth(1);
        if name == comm && ppid_of == Some(ppid.to_string().as_str()) {
            out.push(pid);
        }
    }
    out
}

/// A bound on waiting for the operating system, not a measurement.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn a_shell_steps_child_dies_when_warroom_is_killed() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let mut warroom = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("--config")
        .arg(env.config_path())
        .args(["run", "--as", "U_ONCALL", "/linger secs=3600"])
        .env("WARROOM_DATABASE_URL", env.dir.path().join("state.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parent = warroom.id();
    let mut sleeper = Vec::new();
    eventually("the step's `sleep` started", || {
        sleeper = children(parent, "sleep");
        !sleeper.is_empty()
    });
    let pid = sleeper[0];
    warroom.kill().unwrap(); // SIGKILL: no handler, no cleanup
    warroom.wait().unwrap();
    eventually("the `sleep` child died with warroom", || {
        // Gone, or a zombie waiting for init to reap it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split_whitespace().nth(2) == Some("Z"))
            .unwrap_or(true)
    });
}
