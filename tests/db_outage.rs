//! The state database going away (issue 14: a database that was down was answered
//! as "slow", 5 of 9 such commands never ran and nobody was told, 4 ran late; runs
//! in flight were later reported as "warroom stopped while it ran"; one command row
//! stayed `received` forever). PostgreSQL is reached through a local TCP proxy the
//! test cuts and restores, so the outage is real to sqlx (connections reset, new
//! ones refused) and the PostgreSQL other tests use stays up.
//!
//! Expectations: Slack's 3-second limit on acknowledging a slash command
//! (api.slack.com "Handling slash commands": "respond within 3000 ms"), and what a
//! user must be told (DESIGN.md: bad input or database down gets a short message
//! saying what was wrong and what to type instead; nothing is lost).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{kanban_enabled, msg, say, Env, RunState, StateDb, StepState};
use secrecy::ExposeSecret;
use tokio::net::{TcpListener, TcpStream};
use warroom::app::pipeline::{Ack, ACK_BUDGET};

/// How long the state database is away: issue 14's fault injection stopped it for 20 s.
const OUTAGE: Duration = Duration::from_secs(20);

/// A TCP proxy to PostgreSQL that can be cut (every connection reset, new ones
/// closed at once) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &'static str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Proxy { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `env`'s PostgreSQL state database, reached through a new proxy.
async fn through_proxy(env: &mut Env) -> Proxy {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let url = env
        .settings
        .database_url
        .expose_secret()
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    env.settings.database_url = secrecy::SecretString::from(url);
    proxy
}

#[tokio::test]
async fn a_command_while_the_database_is_down_is_told_not_recorded_and_never_runs() {
    let mut env = Env::shipped(StateDb::Postgres).await;
    let proxy = through_proxy(&mut env).await;
    let (app, _chat) = env.app_on("slack").await;
    let app = Arc::new(app);
    proxy.cut();
    let mut m = msg("U_ONCALL", "/kanban-off reason=\"db down\"");
    m.dedup_key = Some("slack:command:down-1".into());
    let asked = Instant::now();
    let ack = app.acknowledge(m).await;
    assert!(asked.elapsed() < ACK_BUDGET, "answered within the budget");
    assert_eq!(ack, Ack::Unavailable);
    let text = ack.text("/kanban-off reason=\"db down\"");
    assert!(
        text.contains(
            "was not recorded: the state database is unavailable, so nothing ran and nothing will"
        ) && text.contains("Retype it when /status answers"),
        "{text}"
    );

    // Issue 14's fault: the state database stopped for 20 s.
    tokio::time::sleep(OUTAGE.saturating_sub(asked.elapsed())).await;
    // The database is back: nothing ran then, and nothing runs now.
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(kanban_enabled(&env).await, 30);
    let commands = app.store.commands().await.unwrap();
    assert!(
        commands
            .iter()
            .all(|(_, outcome, _)| outcome == "unavailable"),
        "nothing left `received`, nothing run: {commands:?}"
    );
    assert_eq!(app.inflight.count(), 0);
}

#[tokio::test]
async fn a_run_whose_database_goes_away_is_reported_with_that_cause_once_it_is_back() {
    let (mut env, _commands) = common::with_a_wait(StateDb::Postgres, "2s").await;
    let proxy = through_proxy(&mut env).await;
    let (app, chat) = env.app().await;
    let app = Arc::new(app);
    let running = {
        let app = app.clone();
        tokio::spawn(async move { say(&app, "U_ONCALL", "/waiting").await })
    };
    let mut waited = 0;
    loop {
        let steps = app.store.steps(1).await.unwrap_or_default();
        if steps.get(1).is_some_and(|s| s.state == StepState::Running) {
            break;
        }
        waited += 1;
        assert!(waited < 200, "the run never reached its wait");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The database goes away during the wait, and comes back 20 s later, long
    // after the wait ended.
    proxy.cut();
    tokio::time::sleep(OUTAGE).await;
    proxy.restore();
    tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("the run's task reports it once the database is back")
        .unwrap();

    let run = app.store.run(1).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Interrupted);
    let steps = app.store.steps(1).await.unwrap();
    assert_eq!(steps[1].state, StepState::Failed);
    assert_eq!(steps[2].state, StepState::Pending, "nothing after it ran");
    let transcript = chat.transcript();
    assert!(
        transcript.contains(
            "stopped during step 2 (Let it settle): the state database was unavailable from"
        ),
        "{transcript}"
    );
    assert!(
        transcript.contains("The state database became unavailable while warroom handled this"),
        "{transcript}"
    );
    assert!(
        !transcript.contains("warroom stopped while it ran"),
        "{transcript}"
    );
    // Said once: the crash recovery finds nothing left to report.
    assert_eq!(app.recover().await.unwrap(), 0);
    let commands = app.store.commands().await.unwrap();
    assert!(
        commands.iter().all(|(_, outcome, _)| outcome != "received"),
        "{commands:?}"
    );
    let name: String =
        common::demo_value(&env, "SELECT name FROM Companies WHERE id = 'company-002'").await;
    assert_eq!(name, "Company 2");
}
