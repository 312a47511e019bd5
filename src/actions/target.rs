//! Named targets from `warroom.toml`: the systems actions reach. Pools connect lazily,
//! so the bot starts (and can say "target down") even when a target is unreachable.
//! URLs may carry credentials: they are held as secrets and never logged or posted.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

#[derive(Clone)]
pub enum SqlTarget {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl SqlTarget {
    pub fn is_postgres(&self) -> bool {
        matches!(self, SqlTarget::Postgres(_))
    }

    /// Opens a lazily connecting pool for `url` (`postgres://...` or a SQLite path/URL).
    pub fn open(url: &SecretString) -> Result<SqlTarget, String> {
        let url = url.expose_secret();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|_| "invalid PostgreSQL URL".to_string())?
                .disable_statement_logging();
            Ok(SqlTarget::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_lazy_with(opts),
            ))
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .disable_statement_logging();
            Ok(SqlTarget::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_lazy_with(opts),
            ))
        }
    }
}

/// An HTTP service: base URL and optional bearer token, both secrets.
#[derive(Clone)]
pub struct HttpTarget {
    base: SecretString,
    token: Option<SecretString>,
    pub client: reqwest::Client,
}

impl HttpTarget {
    pub fn new(base: SecretString, token: Option<SecretString>) -> Result<HttpTarget, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpTarget {
            base,
            token,
            client,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.base.expose_secret().trim_end_matches('/'),
            path
        )
    }

    pub fn bearer(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.expose_secret())
    }
}

/// A Redis server. Runbook steps are rare, so each opens its own connection.
#[derive(Clone)]
pub struct RedisTarget {
    client: redis::Client,
}

impl RedisTarget {
    pub fn new(url: &SecretString) -> Result<RedisTarget, String> {
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| "invalid Redis URL".to_string())?;
        Ok(RedisTarget { client })
    }

    pub async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let connect = self.client.get_multiplexed_async_connection();
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(r) => r,
            Err(_) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "connect timed out",
            ))),
        }
    }
}

/// Every configured target, by name.
#[derive(Clone, Default)]
pub struct Targets {
    pub sql: HashMap<String, SqlTarget>,
    pub http: HashMap<String, HttpTarget>,
    pub redis: HashMap<String, RedisTarget>,
    /// URLs of SQL targets, for `pg_env` in shell steps.
    pub sql_urls: HashMap<String, SecretString>,
    /// Targets served by an embedded demo database instead of the real system.
    pub demo: std::collections::HashSet<String>,
}

impl Targets {
    pub fn sql(&self, name: &str) -> Option<&SqlTarget> {
        self.sql.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.sql.contains_key(name) || self.http.contains_key(name) || self.redis.contains_key(name)
    }
}
