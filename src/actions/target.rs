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

/// Every configured target, by name.
#[derive(Clone, Default)]
pub struct Targets {
    pub sql: HashMap<String, SqlTarget>,
}

impl Targets {
    pub fn sql(&self, name: &str) -> Option<&SqlTarget> {
        self.sql.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.sql.contains_key(name)
    }
}
