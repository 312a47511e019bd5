//! One writer path for SQLite state (issue 18).
//!
//! SQLite lets one connection write at a time; a second writer gets `SQLITE_BUSY`
//! and sqlx's busy handler sleeps 1, 2, 5, 10 ms … before it tries again. With
//! the recorder, the outbox, the handlers and the ticker writing through a pool
//! of four connections, those sleeps set the accepted commands' p99 (255 of them
//! a second at ~1k accepted/s). So on SQLite every write of this process goes
//! through one dedicated connection, taken in turn (a FIFO async lock): writers
//! queue without sleeping, and reads keep the pool (WAL readers never wait for
//! the writer). The connection is never returned to a pool either, so it skips
//! the ping sqlx sends on every release (`test_before_acquire(false)` only stops
//! the one on checkout).
//!
//! On PostgreSQL, which locks rows rather than the database, writes use the pool.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::AnyConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Mutex, MutexGuard};

#[derive(Clone)]
pub(crate) struct Writer {
    one: Option<Arc<Mutex<Option<AnyConnection>>>>,
    pool: AnyPool,
}

/// The connection a write runs on, for as long as the write holds it.
pub(crate) struct Writing<'a> {
    conn: Conn<'a>,
    /// When the turn began, and whose it is: a long hold is logged with both.
    since: std::time::Instant,
    by: &'static std::panic::Location<'static>,
}

enum Conn<'a> {
    /// Always `Some` (a closed writer hands out no guard).
    One(MutexGuard<'a, Option<AnyConnection>>),
    Pooled(PoolConnection<Any>),
}

/// A turn longer than this is logged (debug), naming where it was taken.
const LONG_HOLD: std::time::Duration = std::time::Duration::from_millis(20);

impl Writer {
    /// `one`: SQLite's dedicated write connection; `None` on PostgreSQL.
    pub(crate) fn new(pool: AnyPool, one: Option<AnyConnection>) -> Writer {
        Writer {
            one: one.map(|c| Arc::new(Mutex::new(Some(c)))),
            pool,
        }
    }

    /// Waits for this process's turn to write (SQLite), or a pooled connection.
    #[track_caller]
    pub(crate) fn get(
        &self,
    ) -> impl std::future::Future<Output = Result<Writing<'_>, sqlx::Error>> + Send + '_ {
        let by = std::panic::Location::caller();
        async move {
            let conn = match &self.one {
                Some(one) => {
                    let guard = one.lock().await;
                    if guard.is_none() {
                        return Err(sqlx::Error::PoolClosed);
                    }
                    Conn::One(guard)
                }
                None => Conn::Pooled(self.pool.acquire().await?),
            };
            Ok(Writing {
                conn,
                since: std::time::Instant::now(),
                by,
            })
        }
    }

    /// Restarts SQLite's WAL file (a TRUNCATE checkpoint) in a write turn of its
    /// own, taken only if no write holds one now unless `wait`; without busy
    /// waiting, so readers in the way put it off rather than hold writers up.
    /// True if it was done.
    ///
    /// On another connection, a TRUNCATE checkpoint takes SQLite's write lock
    /// behind this process's back, and the writer then sleeps in the busy
    /// handler: every two seconds at saturation, a 55–80 ms turn (issue 18).
    pub(crate) async fn truncate_wal(&self, wait: bool) -> Result<bool, sqlx::Error> {
        use sqlx::{Executor, Row};
        let Some(one) = &self.one else {
            return Ok(false);
        };
        let mut guard = match wait {
            true => one.lock().await,
            false => match one.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(false),
            },
        };
        let Some(conn) = guard.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        conn.execute("PRAGMA busy_timeout = 0").await?;
        let done = conn.fetch_one("PRAGMA wal_checkpoint(TRUNCATE)").await;
        conn.execute("PRAGMA busy_timeout = 5000").await?;
        // The first column is 1 when the checkpoint could not finish.
        Ok(done.is_ok_and(|r| r.try_get::<i64, _>(0).unwrap_or(1) == 0))
    }

    /// Closes the dedicated connection once the writes before it are done; later
    /// writes fail as they would on a closed pool.
    pub(crate) async fn close(&self) {
        if let Some(one) = &self.one {
            if let Some(conn) = one.lock().await.take() {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let held = self.since.elapsed();
        metrics::histogram!("warroom_state_write_turn_seconds").record(held.as_secs_f64());
        if held > LONG_HOLD {
            tracing::debug!(
                held_ms = held.as_millis() as u64,
                at = %self.by,
                "a write held the state database's write turn"
            );
        }
    }
}

impl Deref for Writing<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match &self.conn {
            Conn::One(c) => c.as_ref().expect("a writer guard holds its connection"),
            Conn::Pooled(c) => c,
        }
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Conn::One(c) => c.as_mut().expect("a writer guard holds its connection"),
            Conn::Pooled(c) => c,
        }
    }
}
