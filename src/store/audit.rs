//! The tamper-evident audit trail: a hash chain over what the state database
//! records once and never changes, namely every received command (who, where,
//! when, what they typed), every timeline event (each decision, vote, step, post
//! and status change lands there) and every vote with the voter's role.
//!
//! Recording stays as it is (no extra write on the ack path); a sealer, run by
//! every process's tick, copies rows older than a short horizon into `audit` in
//! order, each entry's hash covering the previous hash and its canonical content:
//! `hash = sha256(prev + "\n" + content)`, hex. `verify` recomputes the chain and
//! compares every entry with its source row, so an edited, deleted or reordered
//! entry, and an edited or deleted source row, are each named.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};

use super::{from_millis, millis, Store, StoreError};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far back, in source ids, the sealer looks behind what it sealed last:
/// PostgreSQL hands out ids before commit, so a row may commit after a later one.
const LOOKBACK: i64 = 1000;

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub source: String,
    pub source_id: String,
    pub at: DateTime<Utc>,
    /// The source row's recorded fields as JSON, in a fixed order: what the hash
    /// covers, byte for byte.
    pub content: String,
    pub prev: String,
    pub hash: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditVerdict {
    Intact {
        entries: i64,
        head: String,
    },
    /// The first entry that does not hold, and why.
    Broken {
        seq: i64,
        what: String,
    },
}

/// `sha256(prev + "\n" + content)`, hex.
pub fn link_hash(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    format!("{:x}", h.finalize())
}

/// A source row, with its canonical content.
struct Sourced {
    source: &'static str,
    source_id: String,
    at: i64,
    content: String,
}

/// The JSON text the hash covers. Keys keep the order each `*_row` writes them in
/// (serde_json's `preserve_order`), so the same row always gives the same bytes.
fn canonical(v: Value) -> String {
    v.to_string()
}

/// Entries per INSERT when sealing: 7 parameters each, far under either
/// database's limit.
const SEAL_BATCH: usize = 128;

/// Entries per write turn when sealing.
const SEAL_TURN: usize = 128;

/// Source rows not in the chain yet: commands and timeline events from a little
/// behind the marks (`$1`, `$2`), votes from anywhere, each recorded by `$3`.
const COMMANDS_UNSEALED: &str = "FROM commands_received c WHERE c.id > $1 AND c.received_at <= $3 \
     AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.source = 'command' \
     AND a.source_id = CAST(c.id AS TEXT))";
const TIMELINE_UNSEALED: &str = "FROM timeline t WHERE t.id > $2 AND t.at <= $3 \
     AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.source = 'timeline' \
     AND a.source_id = CAST(t.id AS TEXT))";
const VOTES_UNSEALED: &str = "FROM votes v WHERE v.at <= $3 \
     AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.source = 'vote' \
     AND a.source_id = CAST(v.run_id AS TEXT) || ':' || v.user_id || ':' || v.plan)";

impl Store {
    /// Seals every source row recorded up to `horizon` that is not in the chain
    /// yet, in time order. Several processes may seal at once: the head row
    /// serializes them. Returns how many entries were added.
    ///
    /// The rows are read and hashed before the write lock is taken, which is then
    /// held only to check that nobody sealed meanwhile and to insert (issue 18: at
    /// thousands of commands a second, reading and hashing a second's rows under
    /// the lock held every command recorded meanwhile). If another process did
    /// seal meanwhile, it starts again; after three such tries, it reads under the
    /// lock.
    pub async fn seal_audit(&self, horizon: DateTime<Utc>) -> Result<usize, StoreError> {
        // Every entry this call wrote, across plans: a seal cut short by another
        // sealer has written turns of its own before it re-plans the rest.
        let mut sealed = 0;
        'plan: for _ in 0..3 {
            let plan = self.plan_seal(&mut *self.reading().await?, horizon).await?;
            if plan.links.is_empty() {
                return Ok(sealed);
            }
            // A write turn per SEAL_TURN entries, so commands recorded meanwhile
            // wait for one of them at most (a second's 8k entries in one turn held
            // the writer for 30–66 ms). Only the last turn moves the marks, so a
            // seal cut short leaves them where the next one finds the rest.
            let mut expected = plan.head.clone();
            let chunks: Vec<_> = plan.links.chunks(SEAL_TURN).collect();
            for (k, chunk) in chunks.iter().enumerate() {
                let last = k + 1 == chunks.len();
                let marks = if last {
                    plan.marks
                } else {
                    (expected.command_mark, expected.timeline_mark)
                };
                let mut writing = self.writing().await?;
                let mut tx = writing.begin().await?;
                lock_head(self, &mut tx).await?;
                if read_head(&mut tx).await? != expected {
                    // Another process sealed meanwhile: what is left is planned
                    // again from its head.
                    tx.rollback().await?;
                    continue 'plan;
                }
                self.write_seal(&mut tx, chunk, marks).await?;
                tx.commit().await?;
                sealed += chunk.len();
                let (seq, _, _, hash) = chunk.last().expect("chunks are never empty");
                expected = Head {
                    seq: *seq,
                    hash: hash.clone(),
                    command_mark: marks.0,
                    timeline_mark: marks.1,
                };
            }
            return Ok(sealed);
        }
        let mut writing = self.writing().await?;
        let mut tx = writing.begin().await?;
        lock_head(self, &mut tx).await?;
        let plan = self.plan_seal(&mut tx, horizon).await?;
        self.write_seal(&mut tx, &plan.links, plan.marks).await?;
        tx.commit().await?;
        Ok(sealed + plan.links.len())
    }

    /// What sealing up to `horizon` would add after the head as read on `conn`.
    async fn plan_seal(
        &self,
        conn: &mut sqlx::AnyConnection,
        horizon: DateTime<Utc>,
    ) -> Result<SealPlan, StoreError> {
        let head = read_head(conn).await?;
        let Head {
            seq: mut seq_now,
            hash: ref hash_now,
            command_mark,
            timeline_mark,
        } = head;
        let mut prev = hash_now.clone();
        let until = millis(horizon);
        let mut rows: Vec<Sourced> = Vec::new();
        let commands = sqlx::query(&self.sql(&format!(
            "SELECT c.id, c.received_at, c.platform, c.channel, c.user_id, c.text {COMMANDS_UNSEALED}"
        )))
        .bind(command_mark - LOOKBACK)
        .bind(timeline_mark - LOOKBACK)
        .bind(until)
        .fetch_all(&mut *conn)
        .await?;
        for r in commands {
            rows.push(command_row(&r)?);
        }
        let events = sqlx::query(&self.sql(&format!(
            "SELECT t.id, t.incident_id, t.at, t.kind, t.actor, t.text, t.run_id, t.step_idx \
             {TIMELINE_UNSEALED}"
        )))
        .bind(command_mark - LOOKBACK)
        .bind(timeline_mark - LOOKBACK)
        .bind(until)
        .fetch_all(&mut *conn)
        .await?;
        for r in events {
            rows.push(timeline_row(&r)?);
        }
        let votes = sqlx::query(&self.sql(&format!(
            "SELECT v.run_id, v.user_id, v.role, v.approve, v.at, v.plan {VOTES_UNSEALED}"
        )))
        .bind(command_mark - LOOKBACK)
        .bind(timeline_mark - LOOKBACK)
        .bind(until)
        .fetch_all(&mut *conn)
        .await?;
        for r in votes {
            rows.push(vote_row(&r)?);
        }
        rows.sort_by(|a, b| (a.at, a.source, &a.source_id).cmp(&(b.at, b.source, &b.source_id)));
        let (mut new_command_mark, mut new_timeline_mark) = (command_mark, timeline_mark);
        let mut links: Vec<Link> = Vec::with_capacity(rows.len());
        for row in rows {
            seq_now += 1;
            let hash = link_hash(&prev, &row.content);
            let id: i64 = row.source_id.parse().unwrap_or(0);
            match row.source {
                "command" => new_command_mark = new_command_mark.max(id),
                "timeline" => new_timeline_mark = new_timeline_mark.max(id),
                _ => {}
            }
            links.push((
                seq_now,
                row,
                std::mem::replace(&mut prev, hash.clone()),
                hash,
            ));
        }
        Ok(SealPlan {
            head,
            links,
            marks: (new_command_mark, new_timeline_mark),
        })
    }

    /// Inserts planned entries and sets the marks, in `tx`.
    async fn write_seal(
        &self,
        tx: &mut sqlx::AnyConnection,
        links: &[Link],
        marks: (i64, i64),
    ) -> Result<(), StoreError> {
        // Many rows per INSERT (issue 18): at 3k commands a second, one statement
        // per entry held SQLite's write lock for a good part of each tick, and
        // every command recorded meanwhile waited.
        for chunk in links.chunks(SEAL_BATCH) {
            let sql = self.sql(&format!(
                "INSERT INTO audit (seq, source, source_id, at, content, prev, hash) VALUES {}",
                super::recorder::rows_of(chunk.len(), 7, 0)
            ));
            let mut query = sqlx::query(&sql);
            for (seq, row, prev, hash) in chunk {
                query = query
                    .bind(*seq)
                    .bind(row.source)
                    .bind(&row.source_id)
                    .bind(row.at)
                    .bind(&row.content)
                    .bind(prev)
                    .bind(hash);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query(
            &self.sql("UPDATE audit_head SET command_mark = $1, timeline_mark = $2 WHERE id = 1"),
        )
        .bind(marks.0)
        .bind(marks.1)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// The chain in order, from `since` to `until` (source times).
    pub async fn audit_entries(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT seq, source, source_id, at, content, prev, hash FROM audit \
             WHERE at >= $1 AND at <= $2 ORDER BY seq",
        ))
        .bind(since.map_or(i64::MIN, millis))
        .bind(until.map_or(i64::MAX, millis))
        .fetch_all(&mut *self.reading().await?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get(0)?,
                    source: r.try_get(1)?,
                    source_id: r.try_get(2)?,
                    at: from_millis(r.try_get(3)?),
                    content: r.try_get(4)?,
                    prev: r.try_get(5)?,
                    hash: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Recomputes the chain and compares each entry with its source row.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let entries = self.audit_entries(None, None).await?;
        let mut prev = GENESIS.to_string();
        for (i, e) in entries.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            let broken = |what: String| AuditVerdict::Broken {
                seq: expected_seq,
                what,
            };
            if e.seq != expected_seq {
                return Ok(broken(format!(
                    "entry {expected_seq} is missing (the next is {}): removed",
                    e.seq
                )));
            }
            if e.prev != prev {
                return Ok(broken(format!(
                    "entry {} ({} {}) does not follow entry {}: removed or reordered",
                    e.seq,
                    e.source,
                    e.source_id,
                    e.seq - 1
                )));
            }
            if link_hash(&e.prev, &e.content) != e.hash {
                return Ok(broken(format!(
                    "entry {} ({} {}) was changed in the audit table",
                    e.seq, e.source, e.source_id
                )));
            }
            match self.source_content(&e.source, &e.source_id).await? {
                None => {
                    return Ok(broken(format!(
                        "entry {} ({} {}): its {} row was deleted",
                        e.seq, e.source, e.source_id, e.source
                    )))
                }
                Some(c) if c != e.content => {
                    return Ok(broken(format!(
                        "entry {} ({} {}): its {} row was changed after it was sealed",
                        e.seq, e.source, e.source_id, e.source
                    )))
                }
                Some(_) => {}
            }
            prev = e.hash.clone();
        }
        Ok(AuditVerdict::Intact {
            entries: entries.len() as i64,
            head: prev,
        })
    }

    /// The canonical content of a source row as it is now, if it still exists.
    async fn source_content(&self, source: &str, id: &str) -> Result<Option<String>, StoreError> {
        let row = match source {
            "command" => sqlx::query(&self.sql(
                "SELECT id, received_at, platform, channel, user_id, text FROM commands_received WHERE id = $1",
            ))
            .bind(id.parse::<i64>().unwrap_or(-1))
            .fetch_optional(&mut *self.reading().await?)
            .await?
            .map(|r| command_row(&r))
            .transpose()?,
            "timeline" => sqlx::query(&self.sql(
                "SELECT id, incident_id, at, kind, actor, text, run_id, step_idx FROM timeline WHERE id = $1",
            ))
            .bind(id.parse::<i64>().unwrap_or(-1))
            .fetch_optional(&mut *self.reading().await?)
            .await?
            .map(|r| timeline_row(&r))
            .transpose()?,
            "vote" => {
                // `run:platform:user:plan`; the plan is the last part, the run the first.
                let (run, rest) = id.split_once(':').unwrap_or((id, ""));
                let (user, plan) = rest.rsplit_once(':').unwrap_or((rest, ""));
                sqlx::query(&self.sql(
                    "SELECT run_id, user_id, role, approve, at, plan FROM votes \
                     WHERE run_id = $1 AND user_id = $2 AND plan = $3",
                ))
                .bind(run.parse::<i64>().unwrap_or(-1))
                .bind(user)
                .bind(plan)
                .fetch_optional(&mut *self.reading().await?)
                .await?
                .map(|r| vote_row(&r))
                .transpose()?
            }
            _ => None,
        };
        Ok(row.map(|r| r.content))
    }
}

/// The chain's head and the marks, as one seal saw them.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    seq: i64,
    hash: String,
    command_mark: i64,
    timeline_mark: i64,
}

/// A seal worked out before the write lock: the head it follows, its links (seq,
/// row, prev, hash) and the marks after it.
struct SealPlan {
    head: Head,
    links: Vec<Link>,
    marks: (i64, i64),
}

/// One entry to insert: seq, source row, prev, hash.
type Link = (i64, Sourced, String, String);

/// Takes the head's row lock (PostgreSQL) or the write lock (SQLite) first.
async fn lock_head(store: &Store, tx: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    sqlx::query(&store.sql("UPDATE audit_head SET sealing_at = $1 WHERE id = 1"))
        .bind(millis(Utc::now()))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn read_head(conn: &mut sqlx::AnyConnection) -> Result<Head, StoreError> {
    let head = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, hash) = match head {
        Some(r) => (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
        None => (0, GENESIS.to_string()),
    };
    let marks = sqlx::query("SELECT command_mark, timeline_mark FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Head {
        seq,
        hash,
        command_mark: marks.try_get(0)?,
        timeline_mark: marks.try_get(1)?,
    })
}

fn command_row(r: &sqlx::any::AnyRow) -> Result<Sourced, StoreError> {
    let id: i64 = r.try_get(0)?;
    let at: i64 = r.try_get(1)?;
    let content = json!({
        "id": id,
        "at": at,
        "platform": r.try_get::<String, _>(2)?,
        "channel": r.try_get::<String, _>(3)?,
        "user": r.try_get::<String, _>(4)?,
        "text": r.try_get::<String, _>(5)?,
    });
    Ok(Sourced {
        source: "command",
        source_id: id.to_string(),
        at,
        content: canonical(content),
    })
}

fn timeline_row(r: &sqlx::any::AnyRow) -> Result<Sourced, StoreError> {
    let id: i64 = r.try_get(0)?;
    let at: i64 = r.try_get(2)?;
    let content = json!({
        "id": id,
        "incident": r.try_get::<String, _>(1)?,
        "at": at,
        "kind": r.try_get::<String, _>(3)?,
        "actor": r.try_get::<Option<String>, _>(4)?,
        "text": r.try_get::<String, _>(5)?,
        "run": r.try_get::<Option<i64>, _>(6)?,
        "step": r.try_get::<Option<i64>, _>(7)?,
    });
    Ok(Sourced {
        source: "timeline",
        source_id: id.to_string(),
        at,
        content: canonical(content),
    })
}

fn vote_row(r: &sqlx::any::AnyRow) -> Result<Sourced, StoreError> {
    let run: i64 = r.try_get(0)?;
    let user: String = r.try_get(1)?;
    let at: i64 = r.try_get(4)?;
    let plan: String = r.try_get(5)?;
    let content = json!({
        "run": run,
        "user": user,
        "role": r.try_get::<String, _>(2)?,
        "approve": r.try_get::<i64, _>(3)? != 0,
        "at": at,
        "plan": plan,
    });
    Ok(Sourced {
        source: "vote",
        source_id: format!("{run}:{user}:{plan}"),
        at,
        content: canonical(content),
    })
}
