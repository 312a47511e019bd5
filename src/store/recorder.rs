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

    /// `None`: the delivery id was recorded before (a redelivery). Past `deadline`
    /// the answer is [`StoreError::TooLate`], and then the command is either not
    /// written or written as never to run.
    pub(super) async fn record(
        &self,
        c: &NewCommand<'_>,
        dedup_key: &str,
        deadline: Option<tokio::time::Instant>,
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
        let mut answer = answer;
        let answered = match deadline {
            None => answer.await.map_err(|_| gone())?,
            Some(at) => match tokio::time::timeout_at(at, &mut answer).await {
                Ok(answered) => answered.map_err(|_| gone())?,
                Err(_) => {
                    // Closed first, then read: either the row was written in time
                    // (its id is here) or the recorder will find the waiter gone and
                    // mark it never to run. No third case.
                    answer.close();
                    match answer.try_recv() {
                        Ok(answered) => answered,
                        Err(_) => return Err(StoreError::TooLate),
                    }
                }
            },
        };
        answered.map_err(StoreError::Recording)
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
        // A waiter that gave up has told its user the command was not recorded:
        // it is not written now.
        batch.retain(|p| !p.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        match insert(&writer, backend, &handler, &batch).await {
            Ok(ids) => {
                let mut ids = ids;
                let mut too_late = Vec::new();
                for p in batch {
                    // The first waiter with a key gets its row; a second one in the
                    // same batch (a redelivery racing the original) is a duplicate.
                    let id = ids.remove(&p.row.dedup_key);
                    if p.reply.send(Ok(id)).is_err() {
                        too_late.extend(id);
                    }
                }
                // Written while its waiter gave up: its user was told it was not
                // recorded, so it must never run. Nobody else holds the row yet.
                if !too_late.is_empty() {
                    if let Err(e) = never_run(&writer, backend, &too_late).await {
                        tracing::error!(error = %e, commands = ?too_late, "cannot mark commands recorded too late");
                    }
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

/// Marks commands written after their waiters gave up: not run, and why.
async fn never_run(writer: &Writer, backend: Backend, ids: &[i64]) -> Result<(), sqlx::Error> {
    let list: Vec<String> = (1..=ids.len()).map(|k| format!("${}", k + 2)).collect();
    let sql = format!(
        "UPDATE commands_received SET outcome = $1, detail = $2 \
         WHERE outcome = 'received' AND id IN ({})",
        list.join(", ")
    );
    let sql = match backend {
        Backend::Sqlite => sqlite_placeholders(&sql),
        Backend::Postgres => sql,
    };
    let mut query = sqlx::query(&sql)
        .bind(super::CommandOutcome::Unavailable.as_str())
        .bind(TOO_LATE);
    for id in ids {
        query = query.bind(id);
    }
    query.execute(&mut *writer.get().await?).await?;
    Ok(())
}

/// Why a command recorded after its waiter gave up did not run.
pub(super) const TOO_LATE: &str = "not run: the state database took it after the ack budget, \
     when its user had been told it was not recorded";

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
