//! The `warroom` binary's edge: argument parsing, logging, and the subcommands of
//! DESIGN.md §6. `anyhow` lives here and nowhere deeper.

mod audit;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;

use crate::app::{App, Incoming};
use crate::chat::console::ConsoleChat;
use crate::config::Settings;
use crate::model::user::UserId;

#[derive(Parser)]
#[command(
    name = "warroom",
    version,
    about = "Runbooks as authorized chat commands, for incident response and rollback"
)]
struct Cli {
    /// Config file (default: $WARROOM_CONFIG, then ./warroom.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Type commands as USER in a local REPL (the embedded default).
    Console {
        #[arg(long = "as", default_value = "U_ONCALL")]
        user: String,
        #[arg(long)]
        channel: Option<String>,
    },
    /// Send one command through the whole pipeline and print what the bot posts.
    Run {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        channel: Option<String>,
        /// One JSON object per post.
        #[arg(long)]
        json: bool,
        /// Show exactly what would run and change nothing (same as `dry-run=true`).
        #[arg(long)]
        dry_run: bool,
        /// The command line, e.g. '/kanban-off reason="socket down"'.
        line: String,
    },
    /// Validate config, commands, matrix and templates; prints file:line: message.
    Check {
        /// Also try what each runbook reaches, changing nothing: each program's
        /// subcommand with `--help`, each SQL statement EXPLAINed (or prepared) in a
        /// rolled-back transaction, each GET path.
        #[arg(long)]
        probe: bool,
    },
    /// Print a chat platform's app manifest (`slack`): every command, the scopes
    /// needed, interactivity and events. JSON, which Slack also accepts as YAML.
    Manifest {
        #[arg(value_enum)]
        platform: Platform,
        /// The app's display name.
        #[arg(long, default_value = "warroom")]
        name: String,
        /// HTTP mode: the public base URL Slack calls (e.g. https://warroom.example.com).
        /// Without it the manifest turns Socket Mode on.
        #[arg(long)]
        url: Option<String>,
    },
    /// Run the configured chat platforms (Slack, Discord) until Ctrl-C or SIGTERM.
    Serve,
    /// The tamper-evident audit trail: `verify` it, or `export` the evidence.
    Audit {
        #[command(subcommand)]
        action: audit::Audit,
    },
    /// Figures across incidents: MTTA, MTTM and MTTR by severity and component
    /// against each RTO, the RTO breaches, and approval latency per scenario.
    Report {
        /// The window: `30d`, `12h`, or a date (`2026-11-01`).
        #[arg(long, default_value = "30d")]
        since: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
        format: ExportFormat,
    },
    /// Export an incident's post-mortem, or `export status --out DIR`: the
    /// stakeholder status page as static files (index.html, status.json, feed.atom).
    Export {
        incident: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
        format: ExportFormat,
        /// Write report.md, report.json and timeline.svg into this directory instead.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Platform {
    Slack,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Md,
    Json,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server is watched through its log; one-shot commands print what they post.
    let default = if matches!(cli.command, Command::Serve) {
        "info,sqlx=warn"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_new(crate::config::log_filter(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(1)
        }
    }
}

/// An error and its causes on one line, each cause once: our errors often quote
/// their source already, and `{:#}` would repeat it (issue 12: "pool timed out
/// ...: pool timed out ..." for a database that is down).
fn chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Check { probe } => {
            let mut problems = crate::check::check(&settings);
            if probe {
                let probed = crate::check::probe::probe(&settings).await;
                for note in &probed.notes {
                    println!("note: {note}");
                }
                println!("probe: {} checks passed", probed.ok);
                problems.extend(probed.problems);
            }
            problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            problems.dedup();
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                println!("{}", crate::check::summary(&settings));
                Ok(0)
            } else {
                println!("{} problem(s) found", problems.len());
                Ok(1)
            }
        }
        Command::Report { since, format } => {
            let now = chrono::Utc::now();
            let Some(from) = crate::export::report::since(&since, now) else {
                eprintln!("error: --since `{since}` is not 30d, 12h or a date like 2026-11-01");
                return Ok(2);
            };
            let store = crate::store::Store::connect(settings.database_url.expose_secret())
                .await
                .context("opening the state database")?;
            let report = crate::export::report::gather(
                &store,
                &settings.file.clocks,
                &settings.file.drills,
                from,
                now,
            )
            .await
            .context("reading the incidents")?;
            match format {
                ExportFormat::Md => print!("{}", crate::export::report::markdown_report(&report)),
                ExportFormat::Json => println!("{}", crate::export::report::json(&report)),
            }
            Ok(0)
        }
        Command::Export {
            incident,
            format,
            out,
        } => {
            let store = crate::store::Store::connect(settings.database_url.expose_secret())
                .await
                .context("opening the state database")?;
            if incident == "status" {
                let Some(dir) = &out else {
                    eprintln!("error: export status writes files: give --out DIR");
                    return Ok(2);
                };
                let paths = crate::export::status::write_dir(&store, &settings, dir)
                    .await
                    .context("writing the status page")?;
                for p in paths {
                    println!("{}", p.display());
                }
                return Ok(0);
            }
            let clocks = settings.file.clocks.clone();
            let rto = move |i: &crate::model::incident::Incident| {
                crate::incident::clock::rto_in(&clocks, &i.severity, i.component.as_deref())
            };
            let format = match format {
                ExportFormat::Md => crate::export::Format::Markdown,
                ExportFormat::Json => crate::export::Format::Json,
            };
            let result = match &out {
                Some(dir) => crate::export::export_to_dir(&store, &incident, dir, rto)
                    .await
                    .map(|paths| {
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join("\n")
                    }),
                None => crate::export::export(&store, &incident, format, rto).await,
            };
            match result {
                Ok(text) => {
                    println!("{text}");
                    Ok(0)
                }
                Err(crate::export::ExportError::NotFound(id)) => {
                    eprintln!("error: no incident {id}; incident ids look like INC-20261122-001");
                    Ok(2)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Run {
            user,
            channel,
            json,
            dry_run,
            line,
        } => {
            let line = if dry_run {
                format!("{line} dry-run=true")
            } else {
                line
            };
            let channel = channel.unwrap_or_else(|| settings.file.warroom.incident_channel.clone());
            let chat = Arc::new(ConsoleChat::new(&channel, json));
            let app = App::build(settings, chat.clone())
                .await
                .context("starting warroom")?;
            app.recover()
                .await
                .context("checking for interrupted runs")?;
            let msg = Incoming {
                user: UserId::new("console", &user),
                channel,
                text: line,
                dedup_key: None,
            };
            let outcome = app.handle(&msg).await;
            // Clocks that fell due while no warroom process ran fire now, once each
            // kind, after the command's answer and set apart from it (issue 12:
            // they were printed inside the reply to a stranger's refused command).
            chat.section("meanwhile, in the incident channels: clocks that fell due");
            crate::app::ticker::tick(&app, &crate::incident::clock::SystemClock)
                .await
                .context("firing due incident clocks")?;
            app.store.close().await;
            Ok(outcome.exit_code() as u8)
        }
        Command::Audit { action } => {
            let store = crate::store::Store::connect(settings.database_url.expose_secret())
                .await
                .context("opening the state database")?;
            let code = audit::run(&store, action).await;
            store.close().await;
            code
        }
        Command::Console { user, channel } => console(settings, user, channel).await,
        Command::Serve => serve(settings).await,
        Command::Manifest {
            platform: Platform::Slack,
            name,
            url,
        } => {
            let (catalog, problems) = crate::command::catalog::Catalog::load(
                &settings.commands_dir(),
                crate::app::handlers::NAMES,
            );
            let Some(catalog) = catalog.filter(|_| problems.is_empty()) else {
                for p in &problems {
                    eprintln!("{p}");
                }
                anyhow::bail!("the command files have problems; run `warroom check`");
            };
            let manifest = crate::chat::slack::manifest::manifest(&catalog, &name, url.as_deref());
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(0)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<u8> {
    let state = crate::store::redact_url(settings.database_url.expose_secret());
    let server = crate::serve::Server::build(settings)
        .await
        .context("starting warroom serve")?;
    for r in &server.running {
        eprintln!("warroom: {} via {}", r.platform, r.how);
    }
    eprintln!(
        "warroom: state in {state}; HTTP (/healthz) on port {}. Ctrl-C stops.",
        server.port()
    );
    server.run_until_stopped(shutdown_signal()).await;
    Ok(0)
}

/// Ctrl-C or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// How long the console waits for a command's answer before giving the prompt back.
const CONSOLE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(1500);

async fn console(settings: Settings, user: String, channel: Option<String>) -> anyhow::Result<u8> {
    let channel = channel.unwrap_or_else(|| settings.file.warroom.incident_channel.clone());
    let chat = Arc::new(ConsoleChat::new(&channel, false));
    let app = std::sync::Arc::new(
        App::build(settings, chat)
            .await
            .context("starting warroom")?,
    );
    let recovered = app
        .recover()
        .await
        .context("checking for interrupted runs")?;
    let clocks = app.clone();
    // Kept for the console's lifetime: dropping it would stop the clocks.
    let (_clocks_stop, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::app::ticker::run(&clocks, &crate::incident::clock::SystemClock, stop).await;
    });
    let mut user = user;
    println!(
        "warroom console — you are {user} in #{channel}. State: {}.\n\
         Type /help to see what you can run. `:as USER` switches user (demo users: U_ONCALL, U_LEAD, U_DBA, U_SEC, U_IC, U_COMMS). Ctrl-D quits.",
        crate::store::redact_url(app.settings.database_url.expose_secret())
    );
    if recovered > 0 {
        println!("({recovered} interrupted run(s) reported above.)");
    }
    let stdin = std::io::stdin();
    let mut running: Vec<tokio::task::JoinHandle<crate::app::Outcome>> = Vec::new();
    loop {
        print!("{user}> ");
        std::io::stdout().flush().ok();
        let mut input = String::new();
        let read = tokio::task::block_in_place(|| stdin.lock().read_line(&mut input));
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(e).context("reading the console"),
        }
        let input = input.trim();
        if input.is_empty() {
            continue;
        }
        if let Some(rest) = input.strip_prefix(":as") {
            let next = rest.trim();
            if next.is_empty() || next.contains(char::is_whitespace) {
                println!("usage: :as USER_ID   (e.g. :as U_LEAD)");
            } else {
                user = next.to_string();
                println!("you are now {user}");
            }
            continue;
        }
        if matches!(input, ":q" | ":quit" | "exit" | "quit") {
            break;
        }
        if !input.starts_with('/') {
            // Chat, not a command: it goes into the channel history for the post-mortem.
            app.store
                .record_message("console", &channel, &user, input, chrono::Utc::now(), None)
                .await
                .context("recording the message")?;
            println!("(said in #{channel}; commands start with /, try /help)");
            continue;
        }
        let msg = Incoming {
            user: UserId::new("console", &user),
            channel: channel.clone(),
            text: input.to_string(),
            dedup_key: None,
        };
        // The command goes on in its own task, so the prompt stays live while a run
        // waits (issue 12: a `/status` typed during a 5-minute wait was answered when
        // the wait ended). A quick command's answer still comes before the prompt.
        let handling = app.clone();
        let mut task = tokio::spawn(async move { handling.handle(&msg).await });
        if tokio::time::timeout(CONSOLE_PATIENCE, &mut task)
            .await
            .is_err()
        {
            println!(
                "(still running; the prompt is yours: /status shows it, /cancel RUN-n stops it)"
            );
            running.push(task);
        }
        running.retain(|t| !t.is_finished());
    }
    if !running.is_empty() {
        println!(
            "(waiting for {} command(s) still running; Ctrl-C leaves them, and they will be reported as interrupted)",
            running.len()
        );
        for t in running {
            let _ = t.await;
        }
    }
    app.store.close().await;
    Ok(0)
}
