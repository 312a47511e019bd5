//! Settings: `warroom.toml`, then the environment. This is the one place that reads
//! environment variables; everything else receives a [`Settings`].
//!
//! Secrets (database and target URLs, tokens) are `SecretString`s: they print as
//! `[REDACTED]` and reach only the code that connects with them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

mod alerts;
mod clocks;
mod drills;
pub use alerts::{matches, Alerts, Route, Rule, StatusPage};
pub use clocks::{impact_class, Clocks, ComponentClock, EscalationLevel, SeverityClock};
pub use drills::Drill;

/// The state database when `WARROOM_DATABASE_URL` is unset: an embedded SQLite file.
pub const DEFAULT_DATABASE: &str = "warroom.db";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub warroom: General,
    #[serde(default)]
    pub targets: BTreeMap<String, TargetConfig>,
    /// Deployment values commands read as `{vars.NAME}` (repository paths, process
    /// names). They override a command's own `[vars]`. Not for secrets.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// RTO, response and update clocks per severity, and the escalation levels.
    #[serde(default)]
    pub clocks: Clocks,
    /// `warroom serve`: the HTTP listener (Slack HTTP mode, Discord interactions).
    #[serde(default)]
    pub serve: ServeConfig,
    /// Slack, when `SLACK_BOT_TOKEN` is set. Non-secret settings only.
    #[serde(default)]
    pub slack: SlackConfig,
    /// Discord, when `DISCORD_TOKEN` is set. Non-secret settings only.
    #[serde(default)]
    pub discord: DiscordConfig,
    /// Alerts: which channel and severity an alert's incident gets, and which
    /// runbook it suggests.
    #[serde(default)]
    pub alerts: Alerts,
    /// The stakeholder status page.
    #[serde(default)]
    pub status: StatusPage,
    /// Drills: runbooks rehearsed against staging twins, and how often each is due.
    #[serde(default)]
    pub drills: BTreeMap<String, Drill>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address of the HTTP endpoints (`WARROOM_LISTEN` overrides it).
    #[serde(default = "default_listen")]
    pub listen: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: default_listen(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:3000".into()
}

/// How warroom hears from a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Socket Mode: an outbound WebSocket; no public URL needed. The default.
    Socket,
    /// Slack calls `/slack/commands`, `/slack/interactivity` and `/slack/events`.
    Http,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default = "default_slack_mode")]
    pub mode: SlackMode,
    /// Where stakeholder updates go on Slack; default `[warroom] stakeholder_channel`.
    #[serde(default)]
    pub stakeholder_channel: Option<String>,
    /// The Web API base. Only tests (a local fake) and special deployments change it.
    #[serde(default = "default_slack_api")]
    pub api_url: String,
    /// Backfill: messages per `conversations.history` call, and the pause between
    /// calls (Slack allows apps outside its Marketplace 15 messages once a minute).
    #[serde(default = "default_history_page")]
    pub history_page: u16,
    #[serde(default = "default_history_interval")]
    pub history_interval: String,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            mode: default_slack_mode(),
            stakeholder_channel: None,
            api_url: default_slack_api(),
            history_page: default_history_page(),
            history_interval: default_history_interval(),
        }
    }
}

fn default_slack_mode() -> SlackMode {
    SlackMode::Socket
}
fn default_slack_api() -> String {
    "https://slack.com/api".into()
}
fn default_history_page() -> u16 {
    15
}
fn default_history_interval() -> String {
    "60s".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscordMode {
    /// A gateway (WebSocket) connection. The default.
    Gateway,
    /// Discord calls `/discord/interactions`; messages are not recorded live.
    Http,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    #[serde(default = "default_discord_mode")]
    pub mode: DiscordMode,
    /// Register the slash commands in this guild (instant) instead of globally
    /// (which Discord may take up to an hour to show).
    #[serde(default)]
    pub guild_id: Option<String>,
    /// Where stakeholder updates go on Discord (a channel id).
    #[serde(default)]
    pub stakeholder_channel: Option<String>,
    /// Send API requests here instead of `https://discord.com` (a local fake in tests).
    #[serde(default)]
    pub api_url: Option<String>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            mode: default_discord_mode(),
            guild_id: None,
            stakeholder_channel: None,
            api_url: None,
        }
    }
}

fn default_discord_mode() -> DiscordMode {
    DiscordMode::Gateway
}

/// Slack credentials, from the environment.
#[derive(Debug, Clone)]
pub struct SlackSecrets {
    /// `SLACK_BOT_TOKEN` (`xoxb-…`): Web API calls.
    pub bot_token: SecretString,
    /// `SLACK_APP_TOKEN` (`xapp-…`): Socket Mode.
    pub app_token: Option<SecretString>,
    /// `SLACK_SIGNING_SECRET`: verifies HTTP requests.
    pub signing_secret: Option<SecretString>,
}

/// Discord credentials and ids, from the environment.
#[derive(Debug, Clone)]
pub struct DiscordSecrets {
    /// `DISCORD_TOKEN`: the bot token.
    pub token: SecretString,
    /// `DISCORD_APPLICATION_ID`; asked of Discord when unset.
    pub application_id: Option<String>,
    /// `DISCORD_PUBLIC_KEY` (hex): verifies HTTP interactions.
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct General {
    #[serde(default = "default_commands")]
    pub commands_dir: String,
    #[serde(default = "default_templates")]
    pub templates_dir: String,
    /// The channel console and `warroom run` speak in unless `--channel` is given.
    #[serde(default = "default_incident_channel")]
    pub incident_channel: String,
    /// Where stakeholder updates go.
    #[serde(default = "default_stakeholder_channel")]
    pub stakeholder_channel: String,
    /// Default timeout of a step that sets none.
    #[serde(default = "default_step_timeout")]
    pub step_timeout: String,
}

impl Default for General {
    fn default() -> Self {
        General {
            commands_dir: default_commands(),
            templates_dir: default_templates(),
            incident_channel: default_incident_channel(),
            stakeholder_channel: default_stakeholder_channel(),
            step_timeout: default_step_timeout(),
        }
    }
}

fn default_commands() -> String {
    "commands".into()
}
fn default_templates() -> String {
    "templates".into()
}
fn default_incident_channel() -> String {
    "C_INC".into()
}
fn default_stakeholder_channel() -> String {
    "C_STATUS".into()
}
fn default_step_timeout() -> String {
    "60s".into()
}

/// The kinds of target warroom can reach.
pub const TARGET_KINDS: &[&str] = &["sql", "http", "redis"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// `sql` (PostgreSQL or SQLite, by URL).
    pub kind: String,
    /// The environment variable holding the URL (with its credentials).
    #[serde(default)]
    pub url_env: Option<String>,
    /// When `url_env` is unset: an embedded demo database warroom creates and seeds,
    /// named after its seed pack (`chatia`).
    #[serde(default)]
    pub demo: Option<String>,
    /// For `http` targets: the environment variable holding a bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
}

/// A target with its URL resolved from the environment.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub name: String,
    pub kind: String,
    pub url: Option<SecretString>,
    /// Set when the embedded demo database stands in for the real one.
    pub demo: Option<String>,
    pub token: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub file: ConfigFile,
    /// Directory of the config file; relative paths are resolved against it.
    pub base: PathBuf,
    pub config_path: PathBuf,
    pub database_url: SecretString,
    pub targets: Vec<ResolvedTarget>,
    /// The whole environment `shell` steps start from: PATH (with
    /// `WARROOM_SHELL_PATH` in front), HOME, LANG, TZ. Nothing else is inherited.
    pub child_env: crate::actions::shell::ChildEnv,
    /// Set when `SLACK_BOT_TOKEN` is.
    pub slack: Option<SlackSecrets>,
    /// Set when `DISCORD_TOKEN` is.
    pub discord: Option<DiscordSecrets>,
    /// The webhook secrets of the alert sources.
    pub hooks: HookSecrets,
    /// The status page's token (`[status] token_env`); unset, the page is public.
    pub status_token: Option<SecretString>,
}

/// What each alert source must present. A source whose secret is unset refuses
/// every request: an open alert endpoint would let anyone open incidents.
#[derive(Debug, Clone, Default)]
pub struct HookSecrets {
    /// `WARROOM_ALERTMANAGER_TOKEN`: Alertmanager's `Authorization: Bearer`.
    pub alertmanager: Option<SecretString>,
    /// `WARROOM_GRAFANA_TOKEN`: Grafana's webhook contact point, `Authorization: Bearer`.
    pub grafana: Option<SecretString>,
    /// `WARROOM_PAGERDUTY_SECRET`: the v3 webhook subscription's signing secret.
    pub pagerduty: Option<SecretString>,
    /// `WARROOM_WEBHOOK_SECRET`: the generic JSON webhook's HMAC key.
    pub generic: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not a `source`: the reason is part of the one line the user reads, and a
    /// source would print it a second time in an error chain.
    #[error("cannot read {path}: {error}{hint}")]
    Read {
        path: String,
        error: std::io::Error,
        hint: &'static str,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
}

/// The log filter: `WARROOM_LOG`, then `RUST_LOG`, else `default` (logs go to
/// stderr; stdout is what the bot posts).
pub fn log_filter(default: &str) -> String {
    ["WARROOM_LOG", "RUST_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| default.into())
}

/// 1-based line of a byte offset.
pub fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

impl Settings {
    /// Loads `path`, or `WARROOM_CONFIG`, or `./warroom.toml`, then the environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let config_path = path
            .map(Path::to_path_buf)
            .or_else(|| env("WARROOM_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("warroom.toml"));
        let text = std::fs::read_to_string(&config_path).map_err(|error| ConfigError::Read {
            path: config_path.display().to_string(),
            hint: if error.kind() == std::io::ErrorKind::NotFound {
                ". Run warroom where warroom.toml is (the repository's root has one), \
                 or name the file with --config FILE or WARROOM_CONFIG"
            } else {
                ""
            },
            error,
        })?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: config_path.display().to_string(),
            line: e.span().map_or(1, |s| line_of(&text, s.start)),
            message: e.message().to_string(),
        })?;
        let base = config_path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_default();
        let targets = file
            .targets
            .iter()
            .map(|(name, t)| ResolvedTarget {
                name: name.clone(),
                kind: t.kind.clone(),
                url: t.url_env.as_deref().and_then(env).map(SecretString::from),
                demo: t.demo.clone(),
                token: t.token_env.as_deref().and_then(env).map(SecretString::from),
            })
            .collect();
        let mut child_env = crate::actions::shell::ChildEnv::default();
        for k in ["HOME", "LANG", "LC_ALL", "TZ"] {
            if let Some(v) = env(k) {
                child_env.vars.insert(k.into(), v);
            }
        }
        let path = env("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        let path = match env("WARROOM_SHELL_PATH") {
            Some(extra) => format!("{extra}:{path}"),
            None => path,
        };
        child_env.vars.insert("PATH".into(), path);
        let secret = |k: &str| env(k).map(SecretString::from);
        let slack = secret("SLACK_BOT_TOKEN").map(|bot_token| SlackSecrets {
            bot_token,
            app_token: secret("SLACK_APP_TOKEN"),
            signing_secret: secret("SLACK_SIGNING_SECRET"),
        });
        let discord = secret("DISCORD_TOKEN").map(|token| DiscordSecrets {
            token,
            application_id: env("DISCORD_APPLICATION_ID"),
            public_key: env("DISCORD_PUBLIC_KEY"),
        });
        let hooks = HookSecrets {
            alertmanager: secret("WARROOM_ALERTMANAGER_TOKEN"),
            grafana: secret("WARROOM_GRAFANA_TOKEN"),
            pagerduty: secret("WARROOM_PAGERDUTY_SECRET"),
            generic: secret("WARROOM_WEBHOOK_SECRET"),
        };
        let status_token = file.status.token_env.as_deref().and_then(secret);
        let mut file = file;
        if let Some(listen) = env("WARROOM_LISTEN") {
            file.serve.listen = listen;
        }
        Ok(Settings {
            slack,
            discord,
            hooks,
            status_token,
            child_env,
            database_url: SecretString::from(
                env("WARROOM_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE.into()),
            ),
            file,
            base,
            config_path,
            targets,
        })
    }

    pub fn commands_dir(&self) -> PathBuf {
        self.base.join(&self.file.warroom.commands_dir)
    }

    pub fn templates_dir(&self) -> PathBuf {
        self.base.join(&self.file.warroom.templates_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn secrets_never_print() {
        let s = SecretString::from("postgres://u:hunter2@h/db".to_string());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
