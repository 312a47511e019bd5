//! Group commit for the command record. Platforms must record a command before
//! they ack it; under load, one multi-row INSERT per batch of waiting commands
//! replaces one statement (and one commit, and on SQLite two thread hand-offs) per
//! command. A batch is whatever queued while the previous one was written, so an
//! idle system writes each command at once.
//!
//! Only commands with a platform delivery id come here: the id is how each waiter
//! finds its row among those RETURNING gives back (their order is unspecified).

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::writer::Writer;
use super::{millis, sqlite_placeholders, Backend, NewCommand, StoreError};

/// Rows per INSERT: 9 parameters each, far under either database's limit.
const MAX_BATCH: usize = 128;

struct Pending {
    row: Owned,
    reply: oneshot::Sender<Result<Option<i64>, String>>,
}

struct Owned {
    received_at: i64,
    platform: String,
    channel: String,
    user_id: String,
    text: String,
    dedup_key: String,
    outcome: &'static str,
    detail: Option<String>,
}

#[derive(Clone)]
pub(super) struct Recorder {
    tx: mpsc::UnboundedSender<Pending>,
}

/// Parameters per row.
const COLUMNS: usize = 9;

impl Recorder {
    pub(super) fn start(writer: Writer, backend: Backend, handler: Arc<str>) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, backend, handler, rx));
        Recorder { tx }
    }

    /// `None`: the delivery id was recorded before (a redelivery).
    pub(super) async fn record(
        &self,
        c: &NewCommand<'_>,
        dedup_key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let row = Owned {
            received_at: millis(c.received_at),
            platform: c.platform.to_string(),
            channel: c.channel.to_string(),
            user_id: c.user_id.to_string(),
            text: c.text.to_string(),
            dedup_key: dedup_key.to_string(),
            outcome: c.outcome.map_or("received", |o| o.as_str()),
            detail: c.detail.map(str::to_string),
        };
        let gone = || StoreError::Recording("the command recorder stopped".into());
        self.tx.send(Pending { row, reply }).map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(StoreError::Recording)
    }
}

async fn run(
    writer: Writer,
    backend: Backend,
    handler: Arc<str>,
    mut rx: mpsc::UnboundedReceiver<Pending>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        match insert(&writer, backend, &handler, &batch).await {
            Ok(ids) => {
                let mut ids = ids;
                for p in batch {
                    // The first waiter with a key gets its row; a second one in the
                    // same batch (a redelivery racing the original) is a duplicate.
                    let _ = p.reply.send(Ok(ids.remove(&p.row.dedup_key)));
                }
            }
            Err(e) => {
                let e = e.to_string();
                for p in batch {
                    let _ = p.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

async fn insert(
    writer: &Writer,
    backend: Backend,
    handler: &str,
    batch: &[Pending],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut sql = String::from(
        "INSERT INTO commands_received \
         (received_at, platform, channel, user_id, text, dedup_key, outcome, detail, handler) VALUES ",
    );
    for i in 0..batch.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=COLUMNS)
            .map(|k| format!("${}", i * COLUMNS + k))
            .collect();
        sql.push_str(&format!("({})", params.join(", ")));
    }
    sql.push_str(" ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key");
    let sql = match backend {
        Backend::Sqlite => sqlite_placeholders(&sql),
        Backend::Postgres => sql,
    };
    let mut query = sqlx::query(&sql);
    for p in batch {
        let r = &p.row;
        query = query
            .bind(r.received_at)
            .bind(&r.platform)
            .bind(&r.channel)
            .bind(&r.user_id)
            .bind(&r.text)
            .bind(&r.dedup_key)
            .bind(r.outcome)
            .bind(&r.detail)
            .bind(handler);
    }
    let rows = query.fetch_all(&mut *writer.get().await?).await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0)))
        .collect())
}
