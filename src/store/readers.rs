//! The store's read connections, without sqlx's pool (issue 18).
//!
//! sqlx 0.8 pings every pooled connection as it goes back to its pool
//! (`pool/connection.rs`, `return_to_pool`: "test the connection on-release"),
//! whatever `test_before_acquire` says, in a task of its own: every read cost a
//! second round trip (on SQLite, one more hand-off to the connection's thread and
//! back; on PostgreSQL, 16 % of the accepted path's samples). Reads take a
//! connection from this set instead and put it back as it is. (A query dropped
//! half way is finished by the connection itself before its next one: SQLite's
//! thread resets the statement, sqlx's PostgreSQL connection waits for the
//! server's ReadyForQuery.)
//!
//! A SQLite connection is a file handle, not a socket that can die. A PostgreSQL
//! connection can die with the server or the network, and the ping was what found
//! that. Here, a connection is not put back when any statement of the process
//! failed while it was out (every failure goes through `From<sqlx::Error> for
//! StoreError`, which calls [`trouble`]): after an outage each broken connection
//! fails once and is replaced, and a healthy one that happened to be out at the
//! same time is replaced too, which costs only a connect. One idle for longer
//! than [`STALE`] is pinged before use, as the pool would have.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Backend;

/// How long a read waits for a free connection, as the pool's acquire did.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL connection idle this long is pinged before a read uses it (a
/// proxy or the server's `idle_session_timeout` may have closed it meanwhile).
const STALE: Duration = Duration::from_secs(30);

/// How many statements of this process have failed (see the module's doc).
static TROUBLE: AtomicU64 = AtomicU64::new(0);

/// Notes a failed statement: the connections out at the time are not reused.
pub(crate) fn trouble(e: &sqlx::Error) {
    // "No row" is an answer, not a failure of the connection.
    if !matches!(e, sqlx::Error::RowNotFound) {
        TROUBLE.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone)]
pub(crate) struct Readers {
    own: Arc<Own>,
    pool: AnyPool,
}

pub(crate) struct Own {
    idle: Mutex<Vec<(AnyConnection, Instant)>>,
    permits: Arc<Semaphore>,
    options: AnyConnectOptions,
    backend: Backend,
}

/// A connection to read on, for as long as the read holds it.
pub(crate) struct Reading {
    /// Always `Some` until dropped.
    conn: Option<AnyConnection>,
    home: Arc<Own>,
    /// [`TROUBLE`] when the connection was taken.
    trouble: u64,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    /// Up to `max` connections of their own, opened with `options`. `pool` is the
    /// store's: when it is closed, reads fail as on a closed pool.
    pub(crate) fn new(
        pool: AnyPool,
        options: AnyConnectOptions,
        backend: Backend,
        max: usize,
    ) -> Readers {
        Readers {
            own: Arc::new(Own {
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max)),
                options,
                backend,
            }),
            pool,
        }
    }

    pub(crate) async fn get(&self) -> Result<Reading, sqlx::Error> {
        let own = &self.own;
        if self.pool.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, own.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let trouble = TROUBLE.load(Ordering::Relaxed);
        let idle = own.idle.lock().expect("reader set lock").pop();
        let conn = match idle {
            Some((conn, since)) if own.backend == Backend::Sqlite || since.elapsed() < STALE => {
                conn
            }
            Some((mut conn, _)) => match conn.ping().await {
                Ok(()) => conn,
                Err(_) => own.open().await?,
            },
            None => own.open().await?,
        };
        Ok(Reading {
            conn: Some(conn),
            home: own.clone(),
            trouble,
            _permit: permit,
        })
    }

    /// Closes the idle connections; later reads fail as on a closed pool.
    pub(crate) async fn close(&self) {
        self.own.permits.close();
        let idle: Vec<(AnyConnection, Instant)> =
            std::mem::take(&mut *self.own.idle.lock().expect("reader set lock"));
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }
}

impl Own {
    async fn open(&self) -> Result<AnyConnection, sqlx::Error> {
        let mut conn = AnyConnection::connect_with(&self.options).await?;
        if self.backend == Backend::Sqlite {
            super::sqlite_pragmas(&mut conn).await?;
        }
        Ok(conn)
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // Closed meanwhile, or a statement failed while this was out (it may be
        // this connection that broke): dropped, which closes it.
        let failed = self.home.backend == Backend::Postgres
            && TROUBLE.load(Ordering::Relaxed) != self.trouble;
        if !failed && !self.home.permits.is_closed() {
            self.home
                .idle
                .lock()
                .expect("reader set lock")
                .push((conn, Instant::now()));
        }
    }
}

impl Deref for Reading {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn.as_ref().expect("a reading holds its connection")
    }
}

impl DerefMut for Reading {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().expect("a reading holds its connection")
    }
}
