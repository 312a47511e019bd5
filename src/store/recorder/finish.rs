//! Commands' outcomes, written together: one UPDATE for every command that
//! finished while the previous batch was written.

use super::{dialect, rows_of, Answer, Failed};
use crate::store::writer::Writing;
use crate::store::Backend;

/// Commands per UPDATE (4 parameters each).
pub(super) const MAX_BATCH: usize = 128;

pub(super) struct Finish {
    pub(super) id: i64,
    pub(super) outcome: &'static str,
    pub(super) detail: String,
    pub(super) run_id: Option<i64>,
    pub(super) reply: Answer<()>,
}

/// Writes the outcomes and answers each waiter with the statement's result.
pub(super) async fn write(conn: &mut Writing<'_>, backend: Backend, batch: Vec<Finish>) {
    if batch.is_empty() {
        return;
    }
    // `WITH … UPDATE … FROM`: both PostgreSQL and SQLite (3.33 and later) take it.
    let sql = dialect(
        backend,
        format!(
            "WITH f (id, outcome, detail, run_id) AS (VALUES {}) \
             UPDATE commands_received SET outcome = f.outcome, detail = f.detail, \
             run_id = f.run_id FROM f WHERE commands_received.id = f.id",
            rows_of(batch.len(), 4, 0)
        ),
    );
    let mut query = sqlx::query(&sql);
    for f in &batch {
        query = query
            .bind(f.id)
            .bind(f.outcome)
            .bind(&f.detail)
            .bind(f.run_id);
    }
    let done = query
        .execute(&mut **conn)
        .await
        .map(|_| ())
        .map_err(|e| Failed::of(&e));
    for f in batch {
        let _ = f.reply.send(done.clone());
    }
}
