//! SQLite's read connections, without sqlx's pool (issue 18).
//!
//! sqlx 0.8 pings every pooled connection as it goes back to its pool
//! (`pool/connection.rs`, `return_to_pool`: "test the connection on-release"),
//! whatever `test_before_acquire` says, in a task of its own. On SQLite each ping
//! is one more hand-off to the connection's thread and back, so every read cost
//! two. A SQLite connection is a file handle, not a socket that can die, so there
//! is nothing for that ping to find: reads take a connection from this set and
//! put it back as it is. (A query dropped half way leaves its statement to be
//! reset by the connection's own thread before the next one runs.)
//!
//! On PostgreSQL, whose connections can die with the server or the network, reads
//! keep the pool and its check.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use sqlx::any::AnyConnectOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a read waits for a free connection, as the pool's acquire did.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
pub(crate) struct Readers {
    own: Option<Arc<Own>>,
    pool: AnyPool,
}

pub(crate) struct Own {
    idle: Mutex<Vec<AnyConnection>>,
    permits: Arc<Semaphore>,
    options: AnyConnectOptions,
}

/// A connection to read on, for as long as the read holds it.
pub(crate) enum Reading {
    Own {
        /// Always `Some` until dropped.
        conn: Option<AnyConnection>,
        home: Arc<Own>,
        _permit: OwnedSemaphorePermit,
    },
    Pooled(PoolConnection<Any>),
}

impl Readers {
    /// `options`: SQLite's, to open up to `max` connections of its own; `None` on
    /// PostgreSQL (reads use `pool`).
    pub(crate) fn new(pool: AnyPool, options: Option<AnyConnectOptions>, max: usize) -> Readers {
        Readers {
            own: options.map(|options| {
                Arc::new(Own {
                    idle: Mutex::new(Vec::new()),
                    permits: Arc::new(Semaphore::new(max)),
                    options,
                })
            }),
            pool,
        }
    }

    pub(crate) async fn get(&self) -> Result<Reading, sqlx::Error> {
        let Some(own) = &self.own else {
            return Ok(Reading::Pooled(self.pool.acquire().await?));
        };
        if self.pool.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, own.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = own.idle.lock().expect("reader set lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let mut conn = AnyConnection::connect_with(&own.options).await?;
                super::sqlite_pragmas(&mut conn).await?;
                conn
            }
        };
        Ok(Reading::Own {
            conn: Some(conn),
            home: own.clone(),
            _permit: permit,
        })
    }

    /// Closes the idle connections; later reads fail as on a closed pool.
    pub(crate) async fn close(&self) {
        if let Some(own) = &self.own {
            own.permits.close();
            let idle: Vec<AnyConnection> =
                std::mem::take(&mut *own.idle.lock().expect("reader set lock"));
            for conn in idle {
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        if let Reading::Own { conn, home, .. } = self {
            if let Some(conn) = conn.take() {
                // Closed meanwhile: the connection is dropped, which closes it.
                if !home.permits.is_closed() {
                    home.idle.lock().expect("reader set lock").push(conn);
                }
            }
        }
    }
}

impl Deref for Reading {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Reading::Own { conn, .. } => conn.as_ref().expect("a reading holds its connection"),
            Reading::Pooled(c) => c,
        }
    }
}

impl DerefMut for Reading {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Reading::Own { conn, .. } => conn.as_mut().expect("a reading holds its connection"),
            Reading::Pooled(c) => c,
        }
    }
}
