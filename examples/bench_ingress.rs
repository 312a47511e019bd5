//! Benchmark: Slack HTTP slash-command ingress, as `warroom serve` runs it in HTTP
//! mode: verify the signature, record the command, triage it (parse, bind,
//! authorize), ack; the handling goes on in the background and its replies are
//! queued in the outbox (not delivered: no Slack here).
//!
//! The load comes from `wrk` in a separate process (install it with
//! `apt-get install wrk`), over loopback, from a script of pre-signed requests,
//! each with its own trigger id, so every request is recorded.
//!
//! cargo run --release --example bench_ingress -- [accepted|refused] [SECONDS] [CONNECTIONS] [RATE] [postgres://...]
//!
//! RATE (requests per second, 0 for as fast as possible) paces each connection with
//! wrk's `delay()`, to read latency at a given load rather than at saturation.
//!
//! `accepted`: `/status` by the on-call engineer (handled in the background).
//! `refused`: `/kanban-off` by someone with no role (the refusal is the ack).

use std::io::Write;
use std::sync::Arc;

use secrecy::SecretString;
use warroom::chat::outbox::OutboxChat;
use warroom::chat::slack::http::{router, SlackHttp};
use warroom::chat::slack::signature::sign;
use warroom::config::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut argv = std::env::args().skip(1);
    let workload = argv.next().unwrap_or_else(|| "accepted".into());
    let seconds: u64 = argv.next().map_or(Ok(10), |s| s.parse())?;
    let connections: usize = argv.next().map_or(Ok(16), |s| s.parse())?;
    let rate: f64 = argv.next().map_or(Ok(0.0), |s| s.parse())?;
    let state_url = argv.next();
    let (command, text, user) = match workload.as_str() {
        "accepted" => ("/status", "", "U_ONCALL"),
        "refused" => ("/kanban-off", "reason=%22bench%22", "U_STRANGER"),
        other => anyhow::bail!("workload must be accepted or refused, not {other}"),
    };

    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("warroom.toml");
    std::fs::write(
        &config,
        format!(
            "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n[targets.chatia_db]\nkind = \"sql\"\ndemo = \"chatia\"\n",
            repo.join("commands").display().to_string(),
            repo.join("templates").display().to_string()
        ),
    )?;
    let mut settings = Settings::load(Some(&config))?;
    settings.database_url = SecretString::from(
        state_url
            .clone()
            .unwrap_or_else(|| dir.path().join("state.db").display().to_string()),
    );
    let store = warroom::store::Store::connect(secrecy::ExposeSecret::expose_secret(
        &settings.database_url,
    ))
    .await?;
    let chat = Arc::new(OutboxChat::new(store.clone(), "slack"));
    let app =
        Arc::new(warroom::app::App::build_with("slack", settings, store.clone(), chat).await?);
    let secret = "bench-signing-secret";
    let state = Arc::new(SlackHttp {
        app,
        signing_secret: SecretString::from(secret.to_string()),
        workspace: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/slack/commands", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    // Enough pre-signed requests that none repeats within the run.
    let count = 20_000 * seconds as usize;
    let ts = chrono::Utc::now().timestamp().to_string();
    // One signed request per line (LuaJIT caps literal constants, so the script
    // reads them at start).
    let data = dir.path().join("signed.tsv");
    let mut lines = std::io::BufWriter::new(std::fs::File::create(&data)?);
    for i in 0..count {
        let body = format!(
            "command={}&text={text}&user_id={user}&channel_id=C_BENCH&trigger_id=T{i}",
            command.replace('/', "%2F")
        );
        let signature = sign(secret.as_bytes(), &ts, body.as_bytes());
        writeln!(lines, "{signature}\t{body}")?;
    }
    lines.flush()?;
    drop(lines);
    let script = dir.path().join("signed.lua");
    std::fs::write(
        &script,
        format!(
            r#"local offset = 0
setup = function(thread) thread:set("first", offset); offset = offset + {half} end
local reqs = {{}}
local n = 0
init = function()
  for line in io.lines("{data}") do
    local sig, body = line:match("([^\t]+)\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", "/slack/commands", {{
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = "{ts}",
      ["X-Slack-Signature"] = sig,
    }}, body)
  end
  n = tonumber(first) or 0
end
request = function()
  n = n + 1
  return reqs[n % #reqs + 1]
end
{pacing}"#,
            pacing = if rate > 0.0 {
                format!(
                    "delay = function() return {} end\n",
                    (connections as f64 * 1000.0 / rate).round() as u64
                )
            } else {
                String::new()
            },
            half = count / 2,
            data = data.display(),
        ),
    )?;

    let cpu_before = cpu_seconds();
    println!(
        "workload {workload} ({user} {command}), state on {}, {connections} connections, {seconds}s, {}",
        if state_url.is_some() { "PostgreSQL" } else { "SQLite" },
        if rate > 0.0 { format!("paced to {rate} req/s") } else { "as fast as possible".into() }
    );
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(&url)
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run wrk (apt-get install wrk): {e}"))?;
    std::io::stdout().write_all(&out.stdout)?;
    std::io::stderr().write_all(&out.stderr)?;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM commands_received")
        .fetch_one(store.pool())
        .await?;
    let refused: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM commands_received WHERE outcome = 'received'")
            .fetch_one(store.pool())
            .await?;
    let cpu = cpu_seconds() - cpu_before;
    if state_url.is_none() {
        let wal = std::fs::metadata(dir.path().join("state.db-wal")).map_or(0, |m| m.len());
        println!(
            "SQLite WAL at the end: {} KiB (checkpointed in the background)",
            wal / 1024
        );
    }
    println!(
        "recorded {rows} commands; {refused} still being handled when wrk stopped; \
         warroom used {cpu:.2} CPU-seconds ({:.0} µs per command)",
        cpu * 1e6 / rows.max(1) as f64
    );
    Ok(())
}

/// User plus system CPU time of this process (the server; wrk is a child we
/// do not count).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}
