//! One measured run: a fresh state, the server in its own process, wrk, then what
//! was recorded and answered, counted in the server's own database.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::AnyPool;

use crate::load::{self, Workload, Wrk, SECRET};
use crate::seed;
use crate::standin::Counts;

/// Where the state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Sqlite,
    Postgres,
}

/// Who answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// `warroom serve` in Slack HTTP mode, its outbox delivering to the stand-in.
    Warroom { state: State, seeded: bool },
    /// `bench/peer_bolt.py` (slack_bolt AsyncApp on aiohttp, SQLite).
    Peer,
}

impl Server {
    pub fn label(self) -> String {
        match self {
            Server::Warroom { state, seeded } => format!(
                "warroom ({}{})",
                if state == State::Sqlite {
                    "SQLite"
                } else {
                    "PostgreSQL"
                },
                if seeded { ", a year of history" } else { "" }
            ),
            Server::Peer => "Bolt (SQLite)".into(),
        }
    }
}

pub struct Setup {
    pub repo: PathBuf,
    pub warroom: PathBuf,
    pub python: Option<PathBuf>,
    pub slack_api: String,
    pub counts: std::sync::Arc<Counts>,
    pub seconds: u64,
    pub connections: usize,
    pub postgres: String,
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub wrk: Wrk,
    /// Commands in the server's database after the run.
    pub recorded: i64,
    /// First to last `received_at` of those rows.
    pub span_ms: i64,
    /// Private replies that reached the Slack stand-in (warroom only).
    pub answered: Option<u64>,
    /// Outbox rows still to send when wrk stopped, and after the wait below.
    pub backlog: Option<(i64, i64)>,
    /// Server CPU time per recorded command.
    pub cpu_us: f64,
    /// `uptime`'s 1-minute load when the run started.
    pub load: f64,
}

impl Measured {
    /// Recorded commands per second by the server's clock: wrk's own figure
    /// counts requests sent before its clock started.
    pub fn throughput(&self) -> f64 {
        if self.span_ms <= 0 {
            return 0.0;
        }
        (self.recorded - 1).max(0) as f64 * 1000.0 / self.span_ms as f64
    }
}

/// How long a run waits after wrk for the outbox to deliver what is queued.
const SETTLE: Duration = Duration::from_secs(10);

pub async fn once(
    setup: &Setup,
    server: Server,
    workload: Workload,
    rate: f64,
    n: usize,
) -> anyhow::Result<Measured> {
    let dir = tempfile::Builder::new().prefix("bench-ingress").tempdir()?;
    let port = free_port()?;
    let count = 40_000 * setup.seconds as usize;
    let script = load::script(dir.path(), workload, count, setup.connections, rate)?;
    let state_url = match server {
        Server::Warroom {
            state: State::Postgres,
            ..
        } => {
            let name = format!("warroom_bench_{}_{n}", std::process::id());
            let admin = AnyPool::connect(&format!("{}/postgres", setup.postgres)).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            format!("{}/{name}", setup.postgres)
        }
        _ => dir.path().join("state.db").display().to_string(),
    };
    if let Server::Warroom { seeded: true, .. } = server {
        seed::year(&state_url).await?;
    }
    let mut child = spawn(setup, server, dir.path(), port, &state_url)?;
    ready(port, &mut child).await?;
    let before_calls = setup.counts.all();
    let load = loadavg();
    let pid = child.id().unwrap_or(0);
    let cpu_before = cpu_seconds(pid);
    let url = format!("http://127.0.0.1:{port}/slack/commands");
    // Only this run's commands count (a seeded database holds a year of others).
    let started = chrono::Utc::now().timestamp_millis() - 1000;
    let wrk = load::wrk(&script, &url, setup.seconds, setup.connections).await?;
    let cpu = cpu_seconds(pid) - cpu_before;
    let db = match server {
        Server::Peer => AnyPool::connect(&format!("sqlite://{state_url}?mode=ro")).await?,
        Server::Warroom {
            state: State::Sqlite,
            ..
        } => AnyPool::connect(&format!("sqlite://{state_url}?mode=ro")).await?,
        Server::Warroom { .. } => AnyPool::connect(&state_url).await?,
    };
    let (table, dedupe) = match server {
        Server::Peer => ("commands", "trigger_id"),
        Server::Warroom { .. } => ("commands_received", "dedup_key"),
    };
    let backlog = match server {
        Server::Peer => None,
        Server::Warroom { .. } => {
            let left = pending(&db).await?;
            let deadline = Instant::now() + SETTLE;
            let mut now_left = left;
            while now_left > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(250)).await;
                now_left = pending(&db).await?;
            }
            Some((left, now_left))
        }
    };
    let (recorded, first, last): (i64, Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "SELECT COUNT(*), MIN(received_at), MAX(received_at) FROM {table} \
         WHERE {dedupe} IS NOT NULL AND received_at >= $1"
    ))
    .bind(started)
    .fetch_one(&db)
    .await?;
    db.close().await;
    // This run's calls of each method.
    let calls: HashMap<String, u64> = setup
        .counts
        .all()
        .into_iter()
        .map(|(method, n)| {
            let before = before_calls.get(&method).copied().unwrap_or(0);
            (method, n - before)
        })
        .collect();
    // Lookups are cached: a method other than the reply asked for one command in
    // a hundred means a cache that does not hold (or a stand-in answer warroom
    // cannot read), and the figure is not what a user gets.
    for (method, n) in &calls {
        if method != "chat.postEphemeral" && *n > (recorded as u64 / 100).max(10) {
            eprintln!("warning: {method} was called {n} times for {recorded} commands");
        }
    }
    let answered = match server {
        Server::Warroom { .. } if workload == Workload::Accepted => {
            Some(calls.get("chat.postEphemeral").copied().unwrap_or(0))
        }
        _ => None,
    };
    stop(&mut child).await;
    if state_url.starts_with("postgres") {
        let admin = AnyPool::connect(&format!("{}/postgres", setup.postgres)).await?;
        let name = state_url.rsplit('/').next().unwrap_or_default();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        admin.close().await;
    }
    Ok(Measured {
        wrk,
        recorded,
        span_ms: last.unwrap_or(0) - first.unwrap_or(0),
        answered,
        backlog,
        cpu_us: cpu * 1e6 / recorded.max(1) as f64,
        load,
    })
}

async fn pending(db: &AnyPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
            .fetch_one(db)
            .await?,
    )
}

fn spawn(
    setup: &Setup,
    server: Server,
    dir: &Path,
    port: u16,
    state_url: &str,
) -> anyhow::Result<tokio::process::Child> {
    // BENCH_SERVER_LOG (a RUST_LOG filter) keeps warroom's log, appended, in
    // the file BENCH_SERVER_LOG_FILE names (default /tmp/bench-server.log).
    let log = match std::env::var_os("BENCH_SERVER_LOG") {
        Some(_) => std::fs::OpenOptions::new().create(true).append(true).open(
            std::env::var_os("BENCH_SERVER_LOG_FILE")
                .unwrap_or_else(|| "/tmp/bench-server.log".into()),
        )?,
        None => std::fs::File::create(dir.join("server.log"))?,
    };
    let mut cmd = match server {
        Server::Warroom { .. } => {
            let config = dir.join("warroom.toml");
            std::fs::write(
                &config,
                format!(
                    "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n\
                     [targets.chatia_db]\nkind = \"sql\"\ndemo = \"chatia\"\n\
                     [slack]\nmode = \"http\"\napi_url = {:?}\n",
                    setup.repo.join("commands").display().to_string(),
                    setup.repo.join("templates").display().to_string(),
                    setup.slack_api,
                ),
            )?;
            let mut cmd = tokio::process::Command::new(&setup.warroom);
            cmd.arg("--config")
                .arg(&config)
                .arg("serve")
                .env("SLACK_BOT_TOKEN", "xoxb-bench")
                .env("SLACK_SIGNING_SECRET", SECRET)
                .env("WARROOM_DATABASE_URL", state_url)
                .env("WARROOM_LISTEN", format!("127.0.0.1:{port}"))
                .env(
                    "RUST_LOG",
                    std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
                );
            cmd
        }
        Server::Peer => {
            let python = setup
                .python
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no Python for the peer (--peer PYTHON)"))?;
            let mut cmd = tokio::process::Command::new(python);
            cmd.arg(setup.repo.join("bench/peer_bolt.py"))
                .args([
                    "--port",
                    &port.to_string(),
                    "--db",
                    state_url,
                    "--secret",
                    SECRET,
                ])
                .arg("--slack-api")
                .arg(format!("{}/", setup.slack_api))
                .arg("--repo")
                .arg(&setup.repo);
            cmd
        }
    };
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    Ok(cmd.spawn()?)
}

/// Waits until the server answers HTTP (a bound listener is not enough:
/// `serve` binds before it serves).
async fn ready(port: u16, child: &mut tokio::process::Child) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the server exited at start ({status})");
        }
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let ask = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            let mut answer = [0u8; 12];
            if s.write_all(ask).await.is_ok()
                && tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut answer))
                    .await
                    .is_ok_and(|r| r.is_ok())
                && answer.starts_with(b"HTTP/1.")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not answer within 60 s")
}

async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill only sends a signal to the process we spawned.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    if tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// User plus system CPU seconds of process `pid` (and its threads).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after the name.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}
