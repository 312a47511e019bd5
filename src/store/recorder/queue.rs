//! Outbox rows, queued together: one INSERT for every post and edit queued while
//! the previous batch was written.

use sqlx::Row;

use super::{dialect, rows_of, Answer, Failed};
use crate::store::writer::Writing;
use crate::store::{Backend, NewOutbox};

/// Rows per INSERT (8 parameters each; `created_at` is `not_before`).
pub(super) const MAX_BATCH: usize = 128;

pub(super) struct Queued {
    channel: String,
    op: String,
    target: Option<i64>,
    payload: String,
    now: i64,
    platform: String,
    paced: bool,
    pub(super) reply: Answer<i64>,
}

impl Queued {
    pub(super) fn new(n: &NewOutbox<'_>, now: i64, reply: Answer<i64>) -> Queued {
        Queued {
            channel: n.channel.to_string(),
            op: n.op.to_string(),
            target: n.target,
            payload: n.payload.to_string(),
            now,
            platform: n.platform.to_string(),
            paced: n.paced,
            reply,
        }
    }

    /// Whether a returned row is this one: every column it was given. Rows equal
    /// in all of them are interchangeable, so which gets which id does not
    /// matter. (Regression: without `paced`, two alike posts, one private and one
    /// public, could swap ids.)
    fn is(&self, r: &Returned) -> bool {
        r.channel == self.channel
            && r.op == self.op
            && r.target == self.target
            && r.platform == self.platform
            && r.paced == self.paced
            && r.not_before == self.now
            && r.payload == self.payload
    }
}

struct Returned {
    id: i64,
    channel: String,
    op: String,
    target: Option<i64>,
    platform: String,
    paced: bool,
    not_before: i64,
    payload: String,
}

/// Inserts the rows and answers each waiter with its row's id. True if any was
/// queued.
pub(super) async fn write(conn: &mut Writing<'_>, backend: Backend, batch: Vec<Queued>) -> bool {
    if batch.is_empty() {
        return false;
    }
    match insert(conn, backend, &batch).await {
        Ok(mut returned) => {
            for q in batch {
                // RETURNING's order is unspecified: each waiter finds its own row.
                let found = returned.iter().position(|r| q.is(r));
                let answer = match found {
                    Some(i) => Ok(returned.swap_remove(i).id),
                    None => Err(Failed {
                        closed: false,
                        text: "the outbox row was not returned by its INSERT".into(),
                    }),
                };
                let _ = q.reply.send(answer);
            }
            true
        }
        Err(e) => {
            let f = Failed::of(&e);
            for q in batch {
                let _ = q.reply.send(Err(f.clone()));
            }
            false
        }
    }
}

async fn insert(
    conn: &mut Writing<'_>,
    backend: Backend,
    batch: &[Queued],
) -> Result<Vec<Returned>, sqlx::Error> {
    let sql = dialect(
        backend,
        format!(
            "INSERT INTO outbox (channel, op, target, payload, not_before, created_at, platform, paced) \
             VALUES {} RETURNING id, channel, op, target, platform, paced, not_before, payload",
            rows_of(batch.len(), 8, 0)
        ),
    );
    let mut query = sqlx::query(&sql);
    for q in batch {
        query = query
            .bind(&q.channel)
            .bind(&q.op)
            .bind(q.target)
            .bind(&q.payload)
            .bind(q.now)
            .bind(q.now)
            .bind(&q.platform)
            .bind(i64::from(q.paced));
    }
    let rows = query.fetch_all(&mut **conn).await?;
    rows.iter()
        .map(|r| {
            Ok(Returned {
                id: r.try_get(0)?,
                channel: r.try_get(1)?,
                op: r.try_get(2)?,
                target: r.try_get(3)?,
                platform: r.try_get(4)?,
                paced: r.try_get::<i64, _>(5)? != 0,
                not_before: r.try_get(6)?,
                payload: r.try_get(7)?,
            })
        })
        .collect()
}
