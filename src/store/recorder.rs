//! Group commit for the writes every command makes (issue 18): its record, the
//! refusal's timeline note, its outbox rows and its outcome. Platforms must record
//! a command before they ack it; under load, one multi-row statement per kind per
//! batch of waiting writes replaces one statement (and one commit, and on SQLite
//! two thread hand-offs) per write. A batch is whatever queued while the previous
//! one was written, so an idle system writes each at once; each waiter is answered
//! only once its statement has committed, so nothing is acknowledged before it is
//! on disk.
//!
//! Only commands with a platform delivery id come here: the id is how each waiter
//! finds its row among those RETURNING gives back (their order is unspecified).

mod finish;
mod queue;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot, Notify};

use super::writer::{Writer, Writing};
use super::{millis, sqlite_positional, Backend, NewCommand, NewOutbox, StoreError};
use crate::model::incident::kind;

/// Rows per INSERT: 9 parameters each, far under either database's limit.
const MAX_BATCH: usize = 128;

/// What a waiter is told when its write failed.
#[derive(Debug, Clone)]
pub(super) struct Failed {
    /// This process closed its state database (it is stopping).
    closed: bool,
    text: String,
}

impl Failed {
    fn of(e: &sqlx::Error) -> Failed {
        Failed {
            closed: matches!(e, sqlx::Error::PoolClosed),
            text: e.to_string(),
        }
    }

    fn into_store_error(self) -> StoreError {
        if self.closed {
            StoreError::Query(sqlx::Error::PoolClosed)
        } else {
            StoreError::Recording(self.text)
        }
    }
}

type Answer<T> = oneshot::Sender<Result<T, Failed>>;

/// One write waiting for the next batch.
enum Job {
    Record(Pending),
    Finish(finish::Finish),
    Queue(queue::Queued),
}

struct Pending {
    row: Owned,
    reply: Answer<Option<i64>>,
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
    /// Goes on the channel's open incident, if it has one, once the row is in.
    note: Option<String>,
}

#[derive(Clone)]
pub(super) struct Recorder {
    tx: mpsc::UnboundedSender<Job>,
}

/// Parameters per row.
const COLUMNS: usize = 9;

fn gone() -> StoreError {
    StoreError::Recording("the command recorder stopped".into())
}

impl Recorder {
    /// `queued` is told when outbox rows were queued.
    pub(super) fn start(
        writer: Writer,
        backend: Backend,
        handler: Arc<str>,
        queued: Arc<Notify>,
    ) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, backend, handler, queued, rx));
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
            note: c.note.map(str::to_string),
        };
        self.tx
            .send(Job::Record(Pending { row, reply }))
            .map_err(|_| gone())?;
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
        answered.map_err(Failed::into_store_error)
    }

    /// Writes a command's outcome with the others finishing now.
    pub(super) async fn finish(
        &self,
        id: i64,
        outcome: &'static str,
        detail: &str,
        run_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = finish::Finish {
            id,
            outcome,
            detail: detail.to_string(),
            run_id,
            reply,
        };
        self.tx.send(Job::Finish(job)).map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(Failed::into_store_error)
    }

    /// Queues an outbox row with the others queued now; its id.
    pub(super) async fn queue(&self, n: &NewOutbox<'_>, now: i64) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = queue::Queued::new(n, now, reply);
        self.tx.send(Job::Queue(job)).map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(Failed::into_store_error)
    }
}

/// The jobs of one batch, by kind, in the order they came.
#[derive(Default)]
struct Batch {
    records: Vec<Pending>,
    finishes: Vec<finish::Finish>,
    queued: Vec<queue::Queued>,
}

impl Batch {
    fn add(&mut self, job: Job) {
        match job {
            Job::Record(p) => self.records.push(p),
            Job::Finish(f) => self.finishes.push(f),
            Job::Queue(q) => self.queued.push(q),
        }
    }

    fn full(&self) -> bool {
        self.records.len() >= MAX_BATCH
            || self.finishes.len() >= finish::MAX_BATCH
            || self.queued.len() >= queue::MAX_BATCH
    }
}

async fn run(
    writer: Writer,
    backend: Backend,
    handler: Arc<str>,
    queued: Arc<Notify>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = Batch::default();
        batch.add(first);
        while !batch.full() {
            match rx.try_recv() {
                Ok(job) => batch.add(job),
                Err(_) => break,
            }
        }
        // One turn of the write connection for the whole batch (SQLite), so the
        // batch's statements do not queue behind other writers one by one.
        let mut writing = match writer.get().await {
            Ok(w) => w,
            Err(e) => {
                batch.fail(&Failed::of(&e));
                continue;
            }
        };
        // Records first: they are what acks wait for.
        records(&mut writing, backend, &handler, batch.records).await;
        finish::write(&mut writing, backend, batch.finishes).await;
        if queue::write(&mut writing, backend, batch.queued).await {
            queued.notify_one();
        }
    }
}

impl Batch {
    fn fail(self, f: &Failed) {
        for p in self.records {
            let _ = p.reply.send(Err(f.clone()));
        }
        for j in self.finishes {
            let _ = j.reply.send(Err(f.clone()));
        }
        for j in self.queued {
            let _ = j.reply.send(Err(f.clone()));
        }
    }
}

/// Writes a batch of records, answers their waiters, then notes the refusals on
/// their channels' open incidents.
async fn records(conn: &mut Writing<'_>, backend: Backend, handler: &str, batch: Vec<Pending>) {
    let mut batch = batch;
    // A waiter that gave up has told its user the command was not recorded:
    // it is not written now.
    batch.retain(|p| !p.reply.is_closed());
    if batch.is_empty() {
        return;
    }
    match insert(conn, backend, handler, &batch).await {
        Ok(ids) => {
            let mut ids = ids;
            let mut too_late = Vec::new();
            let mut notes = Vec::new();
            for p in batch {
                // The first waiter with a key gets its row; a second one in the
                // same batch (a redelivery racing the original) is a duplicate.
                let id = ids.remove(&p.row.dedup_key);
                if p.reply.send(Ok(id)).is_err() {
                    too_late.extend(id);
                } else if id.is_some() {
                    if let Some(note) = p.row.note {
                        notes.push((p.row.channel, p.row.received_at, p.row.user_id, note));
                    }
                }
            }
            // Written while its waiter gave up: its user was told it was not
            // recorded, so it must never run. Nobody else holds the row yet.
            if !too_late.is_empty() {
                if let Err(e) = never_run(conn, backend, &too_late).await {
                    tracing::error!(error = %e, commands = ?too_late, "cannot mark commands recorded too late");
                }
            }
            if !notes.is_empty() {
                if let Err(e) = note_refusals(conn, backend, &notes).await {
                    tracing::error!(error = %e, "cannot note refusals on the timeline");
                }
            }
        }
        Err(e) => {
            let f = Failed::of(&e);
            for p in batch {
                let _ = p.reply.send(Err(f.clone()));
            }
        }
    }
}

/// Marks commands written after their waiters gave up: not run, and why.
async fn never_run(
    conn: &mut Writing<'_>,
    backend: Backend,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let list: Vec<String> = (1..=ids.len()).map(|k| format!("${}", k + 2)).collect();
    let sql = format!(
        "UPDATE commands_received SET outcome = $1, detail = $2 \
         WHERE outcome = 'received' AND id IN ({})",
        list.join(", ")
    );
    let sql = dialect(backend, sql);
    let mut query = sqlx::query(&sql)
        .bind(super::CommandOutcome::Unavailable.as_str())
        .bind(TOO_LATE);
    for id in ids {
        query = query.bind(id);
    }
    query.execute(&mut **conn).await?;
    Ok(())
}

/// Each refusal goes on the timeline of its channel's newest open incident, if
/// the channel has one; one statement for the batch, so a refusal costs no read
/// of its own (issue 18: that lookup was a tenth of the refused path's time).
async fn note_refusals(
    conn: &mut Writing<'_>,
    backend: Backend,
    notes: &[(String, i64, String, String)],
) -> Result<(), sqlx::Error> {
    let values = rows_of(notes.len(), 4, 1);
    let sql = dialect(
        backend,
        format!(
            "WITH n (channel, at, actor, text) AS (VALUES {values}) \
             INSERT INTO timeline (incident_id, at, kind, actor, text) \
             SELECT x.incident_id, x.at, $1, x.actor, x.text FROM ( \
               SELECT (SELECT i.id FROM incidents i \
                       WHERE i.channel = n.channel AND i.status <> 'resolved' \
                       ORDER BY i.declared_at DESC LIMIT 1) AS incident_id, \
                      n.at, n.actor, n.text FROM n) x \
             WHERE x.incident_id IS NOT NULL"
        ),
    );
    let mut query = sqlx::query(&sql).bind(kind::DENIED);
    for (channel, at, actor, text) in notes {
        query = query.bind(channel).bind(at).bind(actor).bind(text);
    }
    query.execute(&mut **conn).await?;
    Ok(())
}

/// `($2, $3), ($4, $5)`: `rows` tuples of `width` numbered parameters, the first
/// being `$(skip + 1)`.
pub(super) fn rows_of(rows: usize, width: usize, skip: usize) -> String {
    (0..rows)
        .map(|i| {
            let p: Vec<String> = (1..=width)
                .map(|k| format!("${}", skip + i * width + k))
                .collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn dialect(backend: Backend, sql: String) -> String {
    match backend {
        Backend::Sqlite => sqlite_positional(&sql),
        Backend::Postgres => sql,
    }
}

/// Why a command recorded after its waiter gave up did not run.
pub(super) const TOO_LATE: &str = "not run: the state database took it after the ack budget, \
     when its user had been told it was not recorded";

async fn insert(
    conn: &mut Writing<'_>,
    backend: Backend,
    handler: &str,
    batch: &[Pending],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let sql = dialect(
        backend,
        format!(
            "INSERT INTO commands_received \
             (received_at, platform, channel, user_id, text, dedup_key, outcome, detail, handler) \
             VALUES {} ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key",
            rows_of(batch.len(), COLUMNS, 0)
        ),
    );
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
    let rows = query.fetch_all(&mut **conn).await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0)))
        .collect())
}
