//! Benchmark: Slack HTTP slash-command ingress, `warroom serve` against Slack's own
//! Python framework doing the same ingress work (`bench/peer_bolt.py`: slack_bolt's
//! AsyncApp on aiohttp), one after the other on this machine, with the same secret,
//! the same distinct pre-signed requests and the same SQLite durability (WAL,
//! synchronous=NORMAL, committed before the ack).
//!
//! `bench/run` sets everything up (a virtualenv with slack_bolt, wrk, the release
//! build) and runs this; by hand:
//!
//! cargo build --release --bins --examples
//! target/release/examples/bench_ingress [--peer PYTHON] [--state sqlite,postgres]
//!     [--workloads accepted,refused] [--seconds 10] [--repeat 3] [--connections 16]
//!     [--rate N] [--seeded] [--postgres postgres://postgres@127.0.0.1:5432]
//!
//! Each run starts the server fresh in its own process (`warroom serve` in Slack
//! HTTP mode, its outbox delivering to a local Slack stand-in, so an accepted
//! command's figure includes its background run and its private reply), sends wrk
//! (`-t2`, 16 connections) at it flat out, then at a fixed rate equal to the peer's
//! saturation (closed-loop pacing, as `delay()` does), and counts in the server's
//! own database what it recorded. Throughput is recorded commands per second by
//! the server's timestamps; latencies are wrk's. Medians of `--repeat` alternating
//! runs. `--seeded` adds accepted runs on a state database holding a year of
//! history (`seed.rs`), next to the empty one.
//!
//! `accepted`: `/status` by the on-call engineer (handled in the background).
//! `refused`: `/kanban-off` by someone with no role (the refusal is the ack).

mod load;
mod run;
mod seed;
mod standin;

use std::path::PathBuf;

use load::Workload;
use run::{Measured, Server, Setup, State};

struct Opts {
    python: Option<PathBuf>,
    states: Vec<State>,
    workloads: Vec<Workload>,
    seconds: u64,
    repeat: usize,
    connections: usize,
    rate: Option<f64>,
    seeded: bool,
    postgres: String,
}

fn opts() -> anyhow::Result<Opts> {
    let mut o = Opts {
        python: None,
        states: vec![State::Sqlite],
        workloads: vec![Workload::Accepted, Workload::Refused],
        seconds: 10,
        repeat: 3,
        connections: 16,
        rate: None,
        seeded: false,
        postgres: "postgres://postgres@127.0.0.1:5432".into(),
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let mut value = || {
            argv.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            // Absolute: the peer is started in another directory.
            "--peer" => o.python = Some(std::path::absolute(value()?)?),
            "--state" => {
                o.states = value()?
                    .split(',')
                    .map(|s| match s {
                        "sqlite" => Ok(State::Sqlite),
                        "postgres" => Ok(State::Postgres),
                        other => Err(anyhow::anyhow!("--state sqlite,postgres, not {other}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--workloads" => {
                o.workloads = value()?
                    .split(',')
                    .map(|s| match s {
                        "accepted" => Ok(Workload::Accepted),
                        "refused" => Ok(Workload::Refused),
                        other => Err(anyhow::anyhow!("--workloads accepted,refused, not {other}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--seconds" => o.seconds = value()?.parse()?,
            "--repeat" => o.repeat = value()?.parse()?,
            "--connections" => o.connections = value()?.parse()?,
            "--rate" => o.rate = Some(value()?.parse()?),
            "--seeded" => o.seeded = true,
            "--postgres" => o.postgres = value()?.trim_end_matches('/').to_string(),
            other => anyhow::bail!(
                "unknown option {other} (see the top of examples/bench_ingress/main.rs)"
            ),
        }
    }
    Ok(o)
}

/// One line of the table: the medians of a case's runs.
struct Row {
    workload: Workload,
    mode: String,
    server: Server,
    runs: Vec<Measured>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Row {
    fn m(&self, f: impl Fn(&Measured) -> f64) -> f64 {
        median(self.runs.iter().map(f).collect())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let o = opts()?;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe()?;
    // target/release/examples/bench_ingress → target/release/warroom, unless
    // BENCH_WARROOM names another build (a profiling one, an older one).
    let warroom = std::env::var_os("BENCH_WARROOM")
        .map(PathBuf::from)
        .or_else(|| {
            exe.parent()
                .and_then(|p| p.parent())
                .map(|p| p.join("warroom"))
        })
        .filter(|p| p.exists())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no warroom binary next to {} (cargo build --release --bins)",
                exe.display()
            )
        })?;
    let (slack_api, counts) = standin::start().await?;
    let setup = Setup {
        repo,
        warroom,
        python: o.python.clone(),
        slack_api,
        counts,
        seconds: o.seconds,
        connections: o.connections,
        postgres: o.postgres.clone(),
    };
    let mut servers: Vec<Server> = Vec::new();
    if o.python.is_some() {
        servers.push(Server::Peer);
    }
    for &state in &o.states {
        servers.push(Server::Warroom {
            state,
            seeded: false,
        });
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut n = 0;
    for &workload in &o.workloads {
        let mut cases: Vec<Row> = servers
            .iter()
            .map(|&server| Row {
                workload,
                mode: "saturation".into(),
                server,
                runs: vec![],
            })
            .collect();
        measure(&setup, &mut cases, 0.0, o.repeat, &mut n).await?;
        let peer = cases.iter().find(|r| r.server == Server::Peer);
        let rate = o
            .rate
            .or_else(|| peer.map(|p| p.m(Measured::throughput).round()))
            .unwrap_or(1300.0);
        rows.append(&mut cases);
        let mut cases: Vec<Row> = servers
            .iter()
            .map(|&server| Row {
                workload,
                mode: format!("offered {rate:.0}/s"),
                server,
                runs: vec![],
            })
            .collect();
        measure(&setup, &mut cases, rate, o.repeat, &mut n).await?;
        rows.append(&mut cases);
    }
    if o.seeded {
        let mut cases: Vec<Row> = Vec::new();
        for &state in &o.states {
            for seeded in [false, true] {
                cases.push(Row {
                    workload: Workload::Accepted,
                    mode: "saturation".into(),
                    server: Server::Warroom { state, seeded },
                    runs: vec![],
                });
            }
        }
        measure(&setup, &mut cases, 0.0, o.repeat, &mut n).await?;
        rows.append(&mut cases);
    }
    print_table(&rows, o.seconds, o.connections, o.repeat);
    Ok(())
}

/// `repeat` rounds over the cases, alternating.
async fn measure(
    setup: &Setup,
    cases: &mut [Row],
    rate: f64,
    repeat: usize,
    n: &mut usize,
) -> anyhow::Result<()> {
    for round in 0..repeat {
        for case in cases.iter_mut() {
            *n += 1;
            let m = run::once(setup, case.server, case.workload, rate, *n).await?;
            eprintln!(
                "[{}/{repeat}] {} {} {}: {:.0} rec/s (wrk {:.0} req/s over {:.1} s), p50 {:.1} ms, \
                 p99 {:.1} ms, max {:.1} ms, {} recorded, non-2xx {}, errors {}, replies {:?}, \
                 backlog {:?}, {:.0} µs CPU/command, load {:.2}",
                round + 1,
                case.workload.name(),
                case.mode,
                case.server.label(),
                m.throughput(),
                m.wrk.requests as f64 / m.wrk.seconds.max(1e-9),
                m.wrk.seconds,
                m.wrk.p50_ms,
                m.wrk.p99_ms,
                m.wrk.max_ms,
                m.recorded,
                m.wrk.non_2xx,
                m.wrk.socket_errors,
                m.answered,
                m.backlog,
                m.cpu_us,
                m.load,
            );
            case.runs.push(m);
        }
    }
    Ok(())
}

fn print_table(rows: &[Row], seconds: u64, connections: usize, repeat: usize) {
    println!(
        "\nwrk -t2 -c{connections} -d{seconds}s, medians of {repeat} alternating runs; \
         throughput = commands recorded per second by the server's clock\n"
    );
    println!(
        "| workload | load | server | throughput | p50 | p99 | max | recorded / sent | \
         replies (backlog at end → +10 s) | CPU/cmd | 1-min load | vs Bolt |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let peer = rows
            .iter()
            .find(|r| r.server == Server::Peer && r.workload == row.workload && r.mode == row.mode);
        // A seeded run against the empty run of its own sitting (its neighbour),
        // not the table's first: sittings differ by more than 10 %.
        let empty = match row.server {
            Server::Warroom {
                state,
                seeded: true,
            } => rows.iter().rev().find(|r| {
                r.server
                    == Server::Warroom {
                        state,
                        seeded: false,
                    }
                    && r.mode == row.mode
                    && r.workload == row.workload
            }),
            _ => None,
        };
        let tp = row.m(Measured::throughput);
        let p99 = row.m(|m| m.wrk.p99_ms);
        let versus = match (row.server, peer, empty) {
            (_, _, Some(e)) => format!(
                "{:+.1} % vs empty",
                (tp / e.m(Measured::throughput) - 1.0) * 100.0
            ),
            (Server::Peer, _, _) | (_, None, _) => String::new(),
            (_, Some(p), _) => {
                let pp99 = p.m(|m| m.wrk.p99_ms);
                format!(
                    "{:.1}× throughput; p99 {}",
                    tp / p.m(Measured::throughput).max(1e-9),
                    if p99 <= pp99 {
                        format!("{:.1}× better", pp99 / p99.max(1e-9))
                    } else {
                        format!("{:.1}× worse", p99 / pp99.max(1e-9))
                    }
                )
            }
        };
        let replies = match row.runs.first().and_then(|m| m.answered) {
            Some(_) => format!(
                "{:.0} ({:.0} → {:.0})",
                row.m(|m| m.answered.unwrap_or(0) as f64),
                row.m(|m| m.backlog.map_or(0, |b| b.0) as f64),
                row.m(|m| m.backlog.map_or(0, |b| b.1) as f64),
            ),
            None => "–".into(),
        };
        println!(
            "| {} | {} | {} | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} / {:.0} | {} | {:.0} µs | {:.2} | {} |",
            row.workload.name(),
            row.mode,
            row.server.label(),
            tp,
            row.m(|m| m.wrk.p50_ms),
            p99,
            row.m(|m| m.wrk.max_ms),
            row.m(|m| m.recorded as f64),
            row.m(|m| m.wrk.requests as f64),
            replies,
            row.m(|m| m.cpu_us),
            row.m(|m| m.load),
            versus,
        );
    }
}
