//! `warroom console` stays live while a run waits (issue 12: a `/status` typed at
//! 20:00 during a 5-minute wait step was answered at 20:04:45). The console is the
//! real binary on a pipe; nothing here is timed: the wait is five minutes and the
//! test's own deadline is far shorter, so an answer at all proves the prompt was
//! free.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Env, StateDb};

/// Far less than the five-minute wait: reaching it means the console froze.
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test]
async fn the_console_answers_during_a_five_minute_wait_and_cancels_it() {
    let env = Env::fixtures(StateDb::Sqlite).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("--config")
        .arg(env.config_path())
        .args(["console", "--as", "U_ONCALL"])
        .env("WARROOM_DATABASE_URL", env.dir.path().join("state.db"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("warroom console starts");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let type_line = |stdin: &mut std::process::ChildStdin, line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    };

    type_line(&mut stdin, "/pause");
    until(
        &lines,
        &mut seen,
        "the wait to start",
        "⏳ Let the change settle",
    );
    until(&lines, &mut seen, "the prompt back", "the prompt is yours");
    type_line(&mut stdin, "/status");
    until(
        &lines,
        &mut seen,
        "an answer to /status during the wait",
        "RUN-1 /pause",
    );
    assert!(
        seen.contains("running"),
        "/status says the run is running: {seen}"
    );
    type_line(&mut stdin, "/cancel RUN-1");
    until(&lines, &mut seen, "the cancel", "cancelled");
    drop(stdin);
    let status = child.wait().expect("the console exits at end of input");
    assert!(status.success(), "{seen}");
    let store =
        warroom::store::Store::connect(&env.dir.path().join("state.db").display().to_string())
            .await
            .unwrap();
    let run = store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state.as_str(), "cancelled", "{seen}");
    assert!(
        (run.finished_at.unwrap() - run.created_at) < chrono::Duration::minutes(4),
        "the wait was cut short, not sat out: {seen}"
    );
}

/// Reads the console's output into `seen` until it holds `needle`.
fn until(lines: &mpsc::Receiver<String>, seen: &mut String, what: &str, needle: &str) {
    let start = std::time::Instant::now();
    while !seen.contains(needle) {
        let left = DEADLINE.saturating_sub(start.elapsed());
        match lines.recv_timeout(left) {
            Ok(l) => {
                seen.push_str(&l);
                seen.push('\n');
            }
            Err(_) => panic!("no {what} (`{needle}`) before the deadline:\n{seen}"),
        }
    }
}
