//! `warroom serve` inside a test: the shipped packs with a team whose members have
//! Slack and Discord ids, started on `127.0.0.1:0` against the local fakes, and
//! stopped when the test drops it.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use warroom::app::App;
use warroom::config::{DiscordSecrets, Settings, SlackSecrets};
use warroom::serve::Server;

use super::{copy_dir, repo, Env, StateDb};

/// Discord users of the test team. The DBA holds the role through a guild role.
pub mod discord_ids {
    pub const ONCALL: u64 = 1001;
    pub const LEAD: u64 = 1002;
    pub const DBA: u64 = 1003;
    pub const SEC: u64 = 1004;
    pub const IC: u64 = 1005;
    pub const STRANGER: u64 = 1009;
    /// The guild role every DBA holds (`discord-role:` in the matrix).
    pub const DBA_ROLE: u64 = 2003;
    /// The stakeholder channel.
    pub const STATUS_CHANNEL: u64 = 1_180_000_000_000_000_099;
}

/// The shipped deployment on SQLite, with the matrix's demo members also known by
/// Discord id (the DBA by guild role). Slack tests use the demo ids as Slack ids.
pub async fn team_env(db: StateDb) -> (Env, tempfile::TempDir) {
    let mut env = Env::shipped(db).await;
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo().join("commands"), dir.path());
    let path = dir.path().join("matrix.toml");
    let mut matrix = std::fs::read_to_string(&path).expect("matrix");
    use discord_ids::*;
    for (demo, discord) in [
        ("U_ONCALL", format!("discord:{ONCALL}")),
        ("U_LEAD", format!("discord:{LEAD}")),
        ("U_DBA", format!("discord-role:{DBA_ROLE}")),
        ("U_SEC", format!("discord:{SEC}")),
        ("U_IC", format!("discord:{IC}")),
    ] {
        let from = format!("members = [\"{demo}\"]");
        assert!(matrix.contains(&from), "matrix has no {from}");
        matrix = matrix.replace(&from, &format!("members = [\"{demo}\", \"{discord}\"]"));
    }
    std::fs::write(&path, matrix).expect("write matrix");
    env.settings.file.warroom.commands_dir = dir.path().display().to_string();
    env.settings.file.serve.listen = "127.0.0.1:0".into();
    (env, dir)
}

pub fn with_slack(settings: &mut Settings, api_url: &str, http_mode: bool) {
    settings.slack = Some(SlackSecrets {
        bot_token: SecretString::from(super::fake_slack::BOT_TOKEN.to_string()),
        app_token: Some(SecretString::from(super::fake_slack::APP_TOKEN.to_string())),
        signing_secret: Some(SecretString::from(SLACK_SIGNING_SECRET.to_string())),
    });
    settings.file.slack.api_url = api_url.into();
    settings.file.slack.mode = if http_mode {
        warroom::config::SlackMode::Http
    } else {
        warroom::config::SlackMode::Socket
    };
    // Tests do not wait a minute between history pages.
    settings.file.slack.history_interval = "10ms".into();
}

/// Everyone the tests speak as on Slack, known to `users.info` (as every real
/// user id is).
pub fn slack_team(fake: &super::fake_slack::FakeSlack) {
    for (id, name) in [
        ("U_ONCALL", "Olga Nakamura"),
        ("U_LEAD", "Lea Dupont"),
        ("U_DBA", "Dan Bauer"),
        ("U_SEC", "Sec Ops"),
        ("U_IC", "Ines Costa"),
        ("U_STRANGER", "Stan Ranger"),
    ] {
        fake.add_user(super::fake_slack::user(id, &id.to_lowercase(), name));
    }
    // README's setup: warroom is invited to the stakeholder channel.
    fake.invite("C_STATUS");
}

pub const SLACK_SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

pub fn with_discord(
    settings: &mut Settings,
    fake: &super::fake_discord::FakeDiscord,
    http_mode: bool,
) {
    use super::fake_discord::{APP_ID, GUILD_ID, TOKEN};
    settings.discord = Some(DiscordSecrets {
        token: SecretString::from(TOKEN.to_string()),
        application_id: Some(APP_ID.to_string()),
        public_key: Some(fake.verify_key()),
    });
    settings.file.discord.api_url = Some(fake.url());
    settings.file.discord.guild_id = Some(GUILD_ID.to_string());
    settings.file.discord.stakeholder_channel = Some(discord_ids::STATUS_CHANNEL.to_string());
    fake.add_channel(discord_ids::STATUS_CHANNEL);
    settings.file.discord.mode = if http_mode {
        warroom::config::DiscordMode::Http
    } else {
        warroom::config::DiscordMode::Gateway
    };
}

/// A running `warroom serve`; stopped (and awaited) on [`Served::stop`] or drop.
pub struct Served {
    pub port: u16,
    pub apps: Vec<Arc<App>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Served {
    pub async fn start(settings: Settings) -> Served {
        let server = Server::build(settings).await.expect("warroom serve starts");
        let port = server.port();
        let apps = server.apps().to_vec();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Served {
            port,
            apps,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The app serving `platform`.
    pub fn app(&self, platform: &str) -> &Arc<App> {
        self.apps
            .iter()
            .find(|a| a.platform == platform)
            .unwrap_or_else(|| panic!("no {platform} app is served"))
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("warroom serve stops within 15 s")
                .expect("serve task");
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Polls `cond` until it holds; fails the test, saying what it waited for, after 20 s.
/// (A guard against hanging, not a timing assertion.)
pub async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// [`until`] for checks that need to await (the state database).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
