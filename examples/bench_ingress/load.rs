//! The load: distinct pre-signed slash commands, and `wrk` sending them.
//!
//! The requests are signed once per run (Slack's 5-minute window) and written as
//! `signature TAB body` lines; each wrk thread reads its half at start and formats
//! each request when it sends it. The previous script formatted 200k requests per
//! thread before starting, and wrk starts thread 1 while thread 2 is still in
//! `init` but starts its clock after both: "10 s" runs lasted 12.5–14 s and
//! overstated throughput by 15–17 % (issue 18). The harness counts throughput by
//! the servers' own timestamps anyway (see `Measured::throughput`).

use std::io::Write;
use std::path::{Path, PathBuf};

use warroom::chat::slack::signature::sign;

pub const SECRET: &str = "bench-signing-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `/status` by the on-call engineer: accepted, handled in the background, a
    /// private reply.
    Accepted,
    /// `/kanban-off` by someone with no role: the refusal is the ack.
    Refused,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Accepted => "accepted `/status`",
            Workload::Refused => "refused `/kanban-off`",
        }
    }
}

/// Writes `count` signed requests (timestamp now) and the wrk script that sends
/// them, paced to `rate` requests a second over `connections` (0: flat out).
pub fn script(
    dir: &Path,
    workload: Workload,
    count: usize,
    connections: usize,
    rate: f64,
) -> anyhow::Result<PathBuf> {
    let (command, text, user) = match workload {
        Workload::Accepted => ("/status", "", "U_ONCALL"),
        Workload::Refused => ("/kanban-off", "reason=%22bench%22", "U_STRANGER"),
    };
    let ts = chrono::Utc::now().timestamp().to_string();
    let data = dir.join("signed.tsv");
    let mut lines = std::io::BufWriter::new(std::fs::File::create(&data)?);
    for i in 0..count {
        let body = format!(
            "token=x&team_id=T_BENCH&command={}&text={text}&user_id={user}&user_name=bench\
             &channel_id=C_BENCH&channel_name=bench&trigger_id=T{i}.{ts}",
            command.replace('/', "%2F")
        );
        let signature = sign(SECRET.as_bytes(), &ts, body.as_bytes());
        writeln!(lines, "{signature}\t{body}")?;
    }
    lines.flush()?;
    drop(lines);
    // Pacing is closed-loop, as in issue 18's runs: each connection waits
    // `delay` ms after each answer.
    let pacing = if rate > 0.0 {
        format!(
            "delay = function() return {} end\n",
            (connections as f64 * 1000.0 / rate).round() as u64
        )
    } else {
        String::new()
    };
    let script = dir.join("signed.lua");
    std::fs::write(
        &script,
        format!(
            r#"local offset = 0
setup = function(thread) thread:set("first", offset); offset = offset + {half} end
local sigs, bodies, n = {{}}, {{}}, 0
init = function()
  local from, i = tonumber(first) or 0, 0
  for line in io.lines("{data}") do
    if i >= from and i < from + {half} then
      local sig, body = line:match("([^\t]+)\t(.*)")
      sigs[#sigs + 1] = sig
      bodies[#bodies + 1] = body
    end
    i = i + 1
  end
end
request = function()
  n = n + 1
  local k = (n - 1) % #bodies + 1
  return wrk.format("POST", "/slack/commands", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Slack-Request-Timestamp"] = "{ts}",
    ["X-Slack-Signature"] = sigs[k],
  }}, bodies[k])
end
{pacing}done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"#,
            half = count / 2,
            data = data.display(),
        ),
    )?;
    Ok(script)
}

/// What wrk saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wrk {
    pub requests: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers that were not 2xx (a server refusing load, or a bad signature).
    pub non_2xx: u64,
    pub socket_errors: u64,
}

pub async fn wrk(
    script: &Path,
    url: &str,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<Wrk> {
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("cannot run wrk (apt-get install wrk): {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| {
            anyhow::anyhow!("wrk said: {stdout}{}", String::from_utf8_lossy(&out.stderr))
        })?;
    let f: Vec<f64> = line.split(' ').map(|x| x.parse().unwrap_or(0.0)).collect();
    Ok(Wrk {
        requests: f[0] as u64,
        seconds: f[1] / 1e6,
        p50_ms: f[2] / 1e3,
        p99_ms: f[3] / 1e3,
        max_ms: f[4] / 1e3,
        non_2xx: f[5] as u64,
        socket_errors: f[6] as u64,
    })
}
