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
pub(crate) enum Writing<'a> {
    /// Always `Some` (a closed writer hands out no guard).
    One(MutexGuard<'a, Option<AnyConnection>>),
    Pooled(PoolConnection<Any>),
}

impl Writer {
    /// `one`: SQLite's dedicated write connection; `None` on PostgreSQL.
    pub(crate) fn new(pool: AnyPool, one: Option<AnyConnection>) -> Writer {
        Writer {
            one: one.map(|c| Arc::new(Mutex::new(Some(c)))),
            pool,
        }
    }

    /// Waits for this process's turn to write (SQLite), or a pooled connection.
    pub(crate) async fn get(&self) -> Result<Writing<'_>, sqlx::Error> {
        match &self.one {
            Some(one) => {
                let guard = one.lock().await;
                if guard.is_none() {
                    return Err(sqlx::Error::PoolClosed);
                }
                Ok(Writing::One(guard))
            }
            None => Ok(Writing::Pooled(self.pool.acquire().await?)),
        }
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

impl Deref for Writing<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Writing::One(c) => c.as_ref().expect("a writer guard holds its connection"),
            Writing::Pooled(c) => c,
        }
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Writing::One(c) => c.as_mut().expect("a writer guard holds its connection"),
            Writing::Pooled(c) => c,
        }
    }
}
