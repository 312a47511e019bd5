//! The durable state: received commands, incidents, the timeline, runs, steps and votes.
//!
//! One `Store` wraps one sqlx pool, on SQLite (the embedded default) or PostgreSQL; the
//! same queries run on both. It is deliberately not a trait: it is tested against both
//! real databases. Times are stored as unix milliseconds so that both dialects agree.

mod alerts;
mod audit;
mod commands;
mod drills;
mod handles;
mod incidents;
mod lifecycle;
mod outbox;
mod people;
mod prune;
mod ratify;
pub use prune::Pruned;
mod readers;
mod recorder;
mod runs;
mod status;
mod writer;

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection};

pub use alerts::GroupClaim;
pub use audit::{link_hash, AuditEntry, AuditVerdict, GENESIS};
pub use commands::{CommandOutcome, NewCommand, OrphanedCommand};
pub use drills::DrillRun;
pub use lifecycle::{ActionItem, IncidentField, Message, Timer};
pub use outbox::{NewOutbox, OutboxRow};
pub use ratify::{Ratification, RATIFY_PLAN};
pub use runs::{NewRun, RunConflict};
pub use status::{Sample, StatusPost};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the state database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("state database error: {0}")]
    Query(#[source] sqlx::Error),
    #[error("migrating the state database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use a path, sqlite://FILE or postgres://...")]
    BadUrl(String),
    #[error("the state database is unavailable: {0}")]
    Recording(String),
    /// The record did not answer within its deadline
    /// ([`Store::record_command_by`]).
    #[error("the state database did not answer in time")]
    TooLate,
    #[error("corrupt row in {table}: {what}")]
    Corrupt { table: &'static str, what: String },
}

/// Every failed statement of the store comes through here, so the read connections
/// out at the time are not reused (`readers::trouble`).
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        readers::trouble(&e);
        StoreError::Query(e)
    }
}

impl StoreError {
    /// This process closed its pool (it is stopping): waiting will not help.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(sqlx::Error::PoolClosed)
                | StoreError::Query(sqlx::Error::PoolClosed)
        )
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    recorder: recorder::Recorder,
    /// Where this process's writes go (one connection on SQLite).
    writer: writer::Writer,
    /// Where its reads go (SQLite: connections of its own, without the pool's
    /// ping on every return).
    readers: readers::Readers,
    /// Told when an outbox row is queued, so the deliverer need not wait a tick.
    outbox_queued: std::sync::Arc<tokio::sync::Notify>,
    /// This process, as the handler of the commands it records (see
    /// [`Store::heartbeat`]).
    instance: std::sync::Arc<str>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Turns `warroom.db`, `sqlite:warroom.db` or `postgres://...` into a URL sqlx accepts,
/// creating SQLite files on first use.
pub fn normalize_url(url: &str) -> Result<(String, Backend), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::BadUrl(redact_url(url)));
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    Ok((
        format!("sqlite://{path}?{}", params.join("&")),
        Backend::Sqlite,
    ))
}

impl Store {
    /// Connects and migrates. A fresh SQLite file is created on first use.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalize_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|_| StoreError::BadUrl(redact_url(&url)))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlite_pragmas(conn).await?;
                    }
                    Ok(())
                })
            })
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            // A ping per checkout doubles the round trips of every query (on SQLite,
            // two more thread hand-offs); a dead connection shows as the query's
            // own error instead. (sqlx still pings each connection as it returns to
            // the pool, whatever this says: see `writer`.)
            .test_before_acquire(false)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .map_err(StoreError::Unavailable)?;
        if backend == Backend::Sqlite {
            // WAL lets a second `warroom run` read while another writes.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let writer = match backend {
            Backend::Sqlite => {
                let mut one = sqlx::AnyConnection::connect_with(&options)
                    .await
                    .map_err(StoreError::Unavailable)?;
                sqlite_pragmas(&mut one).await?;
                writer::Writer::new(pool.clone(), Some(one))
            }
            Backend::Postgres => writer::Writer::new(pool.clone(), None),
        };
        if backend == Backend::Sqlite {
            warn_if_stat4(&pool).await;
            tokio::spawn(checkpoint(pool.clone(), writer.clone()));
        }
        let readers = readers::Readers::new(pool.clone(), options.clone(), backend, 4);
        let instance: std::sync::Arc<str> = uuid::Uuid::new_v4().to_string().into();
        let outbox_queued: std::sync::Arc<tokio::sync::Notify> = Default::default();
        let store = Store {
            recorder: recorder::Recorder::start(
                writer.clone(),
                backend,
                instance.clone(),
                outbox_queued.clone(),
            ),
            writer,
            readers,
            outbox_queued,
            instance,
            pool,
            backend,
        };
        // Alive from the start, so no command this process records looks orphaned.
        // (Not fatal: a read-only use such as an export still works.)
        if let Err(e) = store.heartbeat(Utc::now()).await {
            tracing::debug!(error = %e, "first heartbeat failed");
        }
        tokio::spawn(heartbeats(store.clone()));
        Ok(store)
    }

    /// This process's id: the handler of the commands it records, the holder of
    /// the run leases it takes.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Rewrites `$1` placeholders to SQLite's numbered `?1`, which binds by number
    /// rather than by order of first appearance.
    pub(crate) fn sql(&self, sql: &str) -> String {
        match self.backend {
            Backend::Postgres => sql.to_string(),
            Backend::Sqlite => sqlite_positional(sql),
        }
    }

    /// This process's turn to write: the one write connection on SQLite (FIFO, no
    /// busy sleeps between this process's writers), a pooled one on PostgreSQL.
    #[track_caller]
    pub(crate) fn writing(
        &self,
    ) -> impl std::future::Future<Output = Result<writer::Writing<'_>, sqlx::Error>> + Send + '_
    {
        self.writer.get()
    }

    /// A connection to read on: one of SQLite's own (see `readers`), or a pooled
    /// one on PostgreSQL.
    pub(crate) async fn reading(&self) -> Result<readers::Reading, sqlx::Error> {
        self.readers.get().await
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
        self.pool.close().await;
    }

    /// Whether the state database answers a trivial query within `within`.
    pub async fn ping(&self, within: std::time::Duration) -> Result<(), String> {
        match tokio::time::timeout(within, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", within.as_millis())),
        }
    }
}

/// Every SQLite connection's settings.
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    // 1 KiB pages on a new database (an existing one keeps its size: a WAL file
    // cannot change it). Every commit writes each page it touched to the WAL, and
    // a command's commits touch a handful of pages per table and index: with 4 KiB
    // pages that was ~55 KB of WAL per accepted command. Measured (issue 18,
    // `bench_ingress`, SQLite, two alternating runs): the same throughput and CPU
    // per command, and tails a third to a sixth of 4 KiB's (refused at saturation
    // p99 10.7–16.5 vs 64.6–65.7 ms, max 47–60 vs 137–147 ms).
    sqlx::Executor::execute(&mut *conn, "PRAGMA page_size = 1024").await?;
    // In WAL mode, NORMAL still survives a killed process (the WAL is written
    // before COMMIT returns); only a power cut can lose the last commits, since
    // they are not fsynced one by one. PostgreSQL is the store for that kind of
    // durability.
    sqlx::Executor::execute(&mut *conn, "PRAGMA synchronous = NORMAL").await?;
    // Checkpoints run in the background (below), not inside whichever commit
    // crosses the threshold: that commit's command would wait for the whole copy.
    sqlx::Executor::execute(&mut *conn, "PRAGMA wal_autocheckpoint = 0").await?;
    Ok(())
}

/// Warns when the SQLite linked in was built with STAT4, which the repository's
/// `.cargo/config.toml` turns off: with it, after an ANALYZE, statements are
/// re-prepared whenever a bound value changes (issue 18: a tenth of the accepted
/// path's time on a year of history).
async fn warn_if_stat4(pool: &AnyPool) {
    let stat4 = sqlx::query_scalar::<_, i64>("SELECT sqlite_compileoption_used('ENABLE_STAT4')")
        .fetch_one(pool)
        .await
        .is_ok_and(|used| used == 1);
    if stat4 {
        tracing::warn!(
            "this build's SQLite has STAT4 (built without the repository's .cargo/config.toml?): \
             after an ANALYZE, state statements are re-prepared on every new value"
        );
    }
}

/// Says this process is alive once a second until the pool closes (see
/// [`Store::orphaned_commands`]). A process stopped or killed falls quiet.
async fn heartbeats(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if store.pool.is_closed() {
            return;
        }
        if let Err(e) = store.heartbeat(Utc::now()).await {
            tracing::debug!(error = %e, "heartbeat skipped");
        }
    }
}

/// Copies the SQLite WAL into the database once a second without blocking writers
/// (PASSIVE), until the pool closes. Under sustained writes the WAL file only
/// restarts when a checkpoint finds no reader; past `WAL_LIMIT_BYTES` a TRUNCATE
/// checkpoint is tried in a write turn of its own when no write holds one (past
/// four times the limit, it waits for its turn), without busy waiting, so it never
/// holds writers up beyond its own turn: when readers are in the way it gives up
/// and tries again next second. SQLite checkpoints the rest when the last
/// connection closes.
async fn checkpoint(pool: AnyPool, writer: writer::Writer) {
    /// How much WAL is let grow before a TRUNCATE is tried.
    const WAL_LIMIT_BYTES: i64 = 64 << 20;
    // One frame per page: 1 KiB on a database made now, 4 KiB on an older one.
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .unwrap_or(4096);
    let limit_frames = WAL_LIMIT_BYTES / page_size.max(512);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = checkpoint_once(&pool, &writer, limit_frames).await {
            tracing::debug!(error = %e, "WAL checkpoint skipped");
        }
    }
}

async fn checkpoint_once(
    pool: &AnyPool,
    writer: &writer::Writer,
    limit: i64,
) -> Result<(), sqlx::Error> {
    use sqlx::{Executor, Row};
    let passive = pool.fetch_one("PRAGMA wal_checkpoint(PASSIVE)").await?;
    let frames: i64 = passive.try_get(1).unwrap_or(0);
    if frames > limit && !writer.truncate_wal(frames > 4 * limit).await? {
        tracing::debug!(
            frames,
            "WAL truncation postponed: writes or readers in the way"
        );
    }
    Ok(())
}

/// A database URL fit to print: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        // Regression: a URL too malformed to parse (a port of 99999) was shown
        // whole, password included. Cut the user info by hand instead.
        Err(_) => {
            let Some((scheme, rest)) = url.split_once("://") else {
                return url.to_string();
            };
            let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
            match authority.rfind('@') {
                Some(at) if authority[..at].contains(':') => {
                    let user = authority[..at].split(':').next().unwrap_or_default();
                    format!("{scheme}://{user}:***@{}", &rest[at + 1..])
                }
                _ => url.to_string(),
            }
        }
    }
}

/// `$1` → `?1`, leaving other `$` (as in JSON paths like `'$.flag'`) alone.
/// (Runbook SQL keeps the numbered form: `actions::sql` counts its parameters by
/// their numbers.)
pub fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The store's own form of [`sqlite_placeholders`]: when the numbers run 1, 2,
/// 3 … in order, each becomes a bare `?`. sqlx binds numbered ones by asking
/// SQLite each parameter's name, a walk of the statement's parameter list per
/// parameter: 4 % of the refused path with the recorder's 1,152-parameter
/// INSERTs (issue 18, perf). Reused or out of order, they stay numbered.
pub(crate) fn sqlite_positional(sql: &str) -> String {
    let mut any = false;
    for (next, n) in (1u32..).zip(placeholders(sql)) {
        if n != next {
            return sqlite_placeholders(sql);
        }
        any = true;
    }
    if !any {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The numbers of `$N` placeholders, in order of appearance.
fn placeholders(sql: &str) -> impl Iterator<Item = u32> + '_ {
    let bytes = sql.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let start = i + 1;
                i = start;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                return sql[start..i].parse().ok();
            }
            i += 1;
        }
        None
    })
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

pub(crate) fn opt_from_millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (security review): a malformed state-database URL was printed
    /// with its password on stderr.
    #[test]
    fn a_bad_database_url_is_reported_without_its_password() {
        for url in [
            "postgres://warroom:s3cr3t@db.internal:99999/warroom",
            "mysql://warroom:s3cr3t@db/x",
            "postgres://warroom:p@ss@word@db/x",
        ] {
            let shown = redact_url(url);
            assert!(
                !shown.contains("s3cr3t") && !shown.contains("ss@word"),
                "{shown}"
            );
            assert!(shown.contains("warroom:***@"), "{shown}");
        }
        let Err(e) = normalize_url("mysql://warroom:s3cr3t@db/x") else {
            panic!("mysql is not a state database");
        };
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }

    #[test]
    fn numbered_placeholders_become_sqlite_form_but_json_paths_stay() {
        assert_eq!(
            sqlite_placeholders("SELECT json_extract(s, '$.flag') WHERE a = $1 AND b = $12"),
            "SELECT json_extract(s, '$.flag') WHERE a = ?1 AND b = ?12"
        );
        // Runbook SQL stays numbered even in order (its parameters are counted by
        // number).
        assert_eq!(sqlite_placeholders("a > $1 LIMIT $2"), "a > ?1 LIMIT ?2");
        // The store's: reused or out of order, numbered, so SQLite binds by number.
        assert_eq!(
            sqlite_positional("VALUES ($1, $2, $2), ($3)"),
            "VALUES (?1, ?2, ?2), (?3)"
        );
        assert_eq!(sqlite_positional("a = $2 AND b = $1"), "a = ?2 AND b = ?1");
        // 1, 2, 3 … in order: positional.
        assert_eq!(
            sqlite_positional("VALUES ($1, $2), ($3, $4) -- '$.x'"),
            "VALUES (?, ?), (?, ?) -- '$.x'"
        );
        assert_eq!(sqlite_positional("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn printed_database_urls_hide_their_password() {
        assert_eq!(
            redact_url("postgres://warroom:hunter2@db:5432/state"),
            "postgres://warroom:***@db:5432/state"
        );
        assert_eq!(redact_url("warroom.db"), "warroom.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn database_urls_are_normalized() {
        let table = [
            ("warroom.db", Ok("sqlite://warroom.db?mode=rwc")),
            ("sqlite:warroom.db", Ok("sqlite://warroom.db?mode=rwc")),
            ("sqlite://warroom.db", Ok("sqlite://warroom.db?mode=rwc")),
            ("sqlite://x.db?mode=ro", Ok("sqlite://x.db?mode=ro")),
            ("postgres://u@h/db", Ok("postgres://u@h/db")),
            ("mysql://h/db", Err(())),
            ("", Err(())),
        ];
        for (input, want) in table {
            let got = normalize_url(input).map(|(u, _)| u).map_err(|_| ());
            assert_eq!(got.as_deref().map_err(|_| ()), want, "{input}");
        }
    }
}
