//! A year of history in a fresh state database (issue 18's sizes): 100k received
//! commands, 1k incidents (resolved), 100k timeline events, 30k runs (finished),
//! 80k timers (fired or cancelled), 100k sent outbox rows and 100k channel
//! messages, spread over a thousand channels, one of them the benchmark's, and
//! over the last year (timers and outbox rows over the last six days, so the
//! hourly prune, which takes them a week after they finish, keeps them all). The audit chain is caught up (as a running
//! deployment's is: every tick seals what is new).

use sqlx::AnyPool;

/// Rows of each table.
const SIZES: &[(&str, i64)] = &[
    ("incidents", 1_000),
    ("commands_received", 100_000),
    ("timeline", 100_000),
    ("runs", 30_000),
    ("timers", 80_000),
    ("outbox", 100_000),
    ("messages", 100_000),
];

/// Migrates `url` (warroom's own migrations) and fills it.
pub async fn year(url: &str) -> anyhow::Result<()> {
    let store = warroom::store::Store::connect(url).await?;
    let pg = store.backend() == warroom::store::Backend::Postgres;
    let now = chrono::Utc::now().timestamp_millis();
    let year_ms: i64 = 365 * 24 * 3600 * 1000;
    for &(table, n) in SIZES {
        // `i` runs 1..=n; `t` is its moment in the last year, oldest first. Timers
        // and outbox rows are pruned a week after they finish, so theirs are
        // spread over the last six days: all of them stay for the run.
        let span = if matches!(table, "timers" | "outbox") {
            6 * year_ms / 365
        } else {
            year_ms
        };
        let t = format!("({now} - {span} + i * {})", span / n);
        let (columns, values) = match table {
            "incidents" => (
                "id, day, seq, title, severity, status, channel, detected_at, declared_at, \
                 resolved_at, platform, component",
                format!(
                    "'INC-H-' || i, 'H' || i, 1, 'history ' || i, 'P1', 'resolved', \
                     'C_H' || i, {t}, {t}, {t} + 3600000, 'slack', 'chatia'"
                ),
            ),
            "commands_received" => (
                "received_at, platform, channel, user_id, text, dedup_key, outcome, handler",
                format!(
                    "{t}, 'slack', CASE WHEN i % 10 = 0 THEN 'C_BENCH' ELSE 'C_H' || (i % 1000 + 1) END, \
                     'U_ONCALL', '/status', 'slack:command:H' || i, 'succeeded', 'gone'"
                ),
            ),
            "timeline" => (
                "incident_id, at, kind, actor, text",
                format!("'INC-H-' || (i % 1000 + 1), {t}, 'note', 'U_ONCALL', 'history note ' || i"),
            ),
            "runs" => (
                "incident_id, command, scope, scenario, args_json, platform, channel, \
                 requested_by, state, created_at, started_at, finished_at",
                format!(
                    "'INC-H-' || (i % 1000 + 1), 'kanban-off', 'chatia', 'production-p0', '{{}}', \
                     'slack', 'C_H' || (i % 1000 + 1), 'U_ONCALL', 'succeeded', {t}, {t}, {t} + 5000"
                ),
            ),
            "timers" => (
                "incident_id, kind, due_at, payload, fired_at, cancelled",
                format!(
                    "'INC-H-' || (i % 1000 + 1), 'rto', {t}, '{{}}', \
                     CASE WHEN i % 2 = 0 THEN {t} ELSE NULL END, CASE WHEN i % 2 = 0 THEN 0 ELSE 1 END"
                ),
            ),
            "outbox" => (
                "channel, op, payload, state, not_before, created_at, sent_at, platform, paced, platform_ref",
                format!(
                    "CASE WHEN i % 10 = 0 THEN 'C_BENCH' ELSE 'C_H' || (i % 1000 + 1) END, 'post', \
                     '{{}}', 'sent', {t}, {t}, {t}, 'slack', i % 2, 'ts' || i"
                ),
            ),
            "messages" => (
                "platform, channel, user_id, text, at, ext_id",
                format!("'slack', 'C_H' || (i % 1000 + 1), 'U_ONCALL', 'said ' || i, {t}, 'm' || i"),
            ),
            _ => unreachable!("a table in SIZES"),
        };
        let sql = if pg {
            format!("INSERT INTO {table} ({columns}) SELECT {values} FROM generate_series(CAST(1 AS BIGINT), {n}) AS n(i)")
        } else {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
                 INSERT INTO {table} ({columns}) SELECT {values} FROM n"
            )
        };
        sqlx::query(&sql).execute(store.pool()).await?;
    }
    caught_up(store.pool()).await?;
    if pg {
        // VACUUM too: a year-old database has been vacuumed long since, and
        // freshly inserted rows make autovacuum work through them during the run
        // (PostgreSQL 13+ vacuums after inserts, `autovacuum_vacuum_insert_threshold`).
        sqlx::query("VACUUM (ANALYZE)")
            .execute(store.pool())
            .await?;
    } else {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await?;
    }
    store.close().await;
    Ok(())
}

/// Marks the seeded commands and timeline events as sealed into the audit
/// chain, as a deployment that has been running is.
async fn caught_up(pool: &AnyPool) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE audit_head SET command_mark = (SELECT MAX(id) FROM commands_received), \
         timeline_mark = (SELECT MAX(id) FROM timeline)",
    )
    .execute(pool)
    .await?;
    Ok(())
}
