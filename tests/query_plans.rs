//! Cost independent of history (issue 18): every statement in `src/store/` is
//! planned by SQLite (`EXPLAIN QUERY PLAN`, https://sqlite.org/eqp.html) on the
//! migrated schema, and none may read a table that grows with use from end to end
//! (`SCAN t` without an index). A year of use is 30k runs and 80k timers; a full scan
//! of those on every `/status` made it 6× slower.
//!
//! The statements are read from the source, so a new one is checked without being
//! listed here. Those built at run time (`format!`) are counted and must stay few.

use std::collections::BTreeSet;

use sqlx::{Connection, Row};

/// Tables that grow with every command, run, post or tick. (`people` grows with
/// the team, one row a person, and is read whole only for a post-mortem.)
const GROWING: &[&str] = &[
    "commands_received",
    "incidents",
    "timeline",
    "runs",
    "steps",
    "votes",
    "votes_by_plan",
    "timers",
    "action_items",
    "messages",
    "outbox",
    "reply_handles",
    "audit",
    "checklist_ticks",
    "incident_roles",
    "alerts",
    "alert_groups",
    "status_posts",
];

/// Full scans that are the point of their statement, each with why (matched on
/// the statement's text).
const ALLOWED: &[(&str, &str)] = &[
    (
        "FROM audit",
        "the auditor's verify and export read every entry",
    ),
    (
        "SELECT text, outcome, detail FROM commands_received ORDER BY id",
        "`Store::commands`, every recorded command: for tests and audits, on no command's path",
    ),
    (
        "SELECT source, fingerprint, status, incident_id FROM alerts ORDER BY first_seen",
        "`Store::alerts`, every recorded alert: for tests, on no delivery's path",
    ),
];

/// Every SQL string literal in `src/store/`, with where it is.
fn statements() -> (Vec<(String, String)>, usize) {
    let lit = regex::Regex::new(r##"(?s)r?#?"((?:[^"\\]|\\.)*)"#?"##).unwrap();
    let starts = regex::Regex::new(r"(?is)^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b").unwrap();
    let mut out = Vec::new();
    let mut dynamic = 0;
    let mut files = Vec::new();
    for dir in ["src/store", "src"] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let is_store = p.to_string_lossy().contains("store");
            if p.extension().is_some_and(|x| x == "rs") && is_store {
                files.push(p);
            }
        }
    }
    // `const RUN_COLUMNS: &str = "...";` and the like, spliced into `format!`s.
    let konst =
        regex::Regex::new(r##"(?s)const ([A-Z_]+): &str =\s*"((?:[^"\\]|\\.)*)";"##).unwrap();
    let mut consts = std::collections::BTreeMap::new();
    for path in &files {
        let src = std::fs::read_to_string(path).unwrap();
        for c in konst.captures_iter(&src) {
            consts.insert(c[1].to_string(), c[2].replace("\\\n", " "));
        }
    }
    let named = regex::Regex::new(r"\{([A-Z_]+)\}").unwrap();
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        // Tests inside the file build their own fixtures.
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        for c in lit.captures_iter(src) {
            let text = c[1].replace("\\\n", " ").replace("\\\"", "\"");
            if !starts.is_match(&text) {
                continue;
            }
            let text = named
                .replace_all(&text, |m: &regex::Captures| {
                    consts
                        .get(&m[1])
                        .cloned()
                        .unwrap_or_else(|| m[0].to_string())
                })
                .into_owned();
            if text.contains('{') {
                dynamic += 1;
                continue;
            }
            out.push((path.display().to_string(), text));
        }
    }
    (out, dynamic)
}

/// A state database migrated by the store itself, and a plain connection to it
/// to plan on.
async fn migrated() -> (tempfile::TempDir, sqlx::SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.db");
    let store = warroom::store::Store::connect(&path.display().to_string())
        .await
        .unwrap();
    store.close().await;
    let conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    (dir, conn)
}

#[tokio::test]
async fn no_statement_scans_a_table_that_grows() {
    let (_dir, mut conn) = migrated().await;
    let (stmts, dynamic) = statements();
    let (planned, unplannable, scans) = plan_all(&mut conn, &stmts).await;
    eprintln!(
        "planned {planned} statements; {} PostgreSQL-only or not plannable alone; {dynamic} built at run time",
        unplannable.len()
    );
    assert!(planned >= 50, "the statements were found ({planned})");
    assert!(
        unplannable.len() * 5 < stmts.len(),
        "most statements are planned: {unplannable:#?}"
    );
    assert!(
        scans.is_empty(),
        "full scans of growing tables:\n{}",
        scans.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Plans every statement on `conn`: how many were planned, which could not be,
/// and the full scans of growing tables found.
async fn plan_all(
    conn: &mut sqlx::SqliteConnection,
    stmts: &[(String, String)],
) -> (usize, Vec<String>, BTreeSet<String>) {
    let mut planned = 0;
    let mut unplannable = Vec::new();
    let mut scans = BTreeSet::new();
    for (file, sql) in stmts {
        // The store writes `$1` for both backends; SQLite reads it as a named
        // parameter, left NULL here, which does not change the plan's access paths.
        let rows = match sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                unplannable.push(format!("{file}: {e}: {sql}"));
                continue;
            }
        };
        planned += 1;
        for r in rows {
            let detail: String = r.get(3);
            let Some(rest) = detail.strip_prefix("SCAN ") else {
                continue;
            };
            let table = rest.split_whitespace().next().unwrap_or_default();
            let indexed = rest.contains("USING INDEX") || rest.contains("USING COVERING INDEX");
            if GROWING.contains(&table) && !indexed && !ALLOWED.iter().any(|(t, _)| sql.contains(t))
            {
                scans.insert(format!(
                    "{file}: {detail}\n    {}",
                    sql.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
    }
    (planned, unplannable, scans)
}

#[tokio::test]
async fn no_statement_scans_a_table_that_grows_once_statistics_show_a_years_history() {
    // Issue 18: with ANALYZE's statistics over a year of sent posts (every row's
    // platform and state alike: https://sqlite.org/fileformat2.html#stat1tab), the
    // planner judged the (platform, state, not_before) index useless and scanned
    // the whole outbox on every delivery pass: 21 ms a pass on 100k rows, a quarter
    // of the throughput. Plans are checked again with such statistics.
    let (_dir, mut conn) = migrated().await;
    // The shapes of `examples/bench_ingress/seed.rs` (a year of use), a fifth of
    // its sizes: everything finished, sent, fired or resolved.
    for (table, n, columns, values) in [
        ("incidents", 200, "id, day, seq, title, severity, status, channel, detected_at, \
          declared_at, resolved_at, platform, component",
         "'INC-H-' || i, 'H' || i, 1, 'h', 'P1', 'resolved', 'C_H' || i, i, i, i + 1, 'slack', 'chatia'"),
        ("commands_received", 20000, "received_at, platform, channel, user_id, text, dedup_key, \
          outcome, handler",
         "i, 'slack', 'C_H' || (i % 200 + 1), 'U', '/status', 'k' || i, 'done', 'gone'"),
        ("timeline", 20000, "incident_id, at, kind, actor, text",
         "'INC-H-' || (i % 200 + 1), i, 'note', 'U', 'n'"),
        ("runs", 6000, "incident_id, command, scope, scenario, args_json, platform, channel, \
          requested_by, state, created_at, started_at, finished_at",
         "'INC-H-' || (i % 200 + 1), 'kanban-off', 'chatia', 'p0', '{}', 'slack', \
          'C_H' || (i % 200 + 1), 'U', 'succeeded', i, i, i + 1"),
        ("timers", 16000, "incident_id, kind, due_at, payload, fired_at, cancelled",
         "'INC-H-' || (i % 200 + 1), 'rto', i, '{}', CASE WHEN i % 2 = 0 THEN i END, \
          CASE WHEN i % 2 = 0 THEN 0 ELSE 1 END"),
        ("outbox", 20000, "channel, op, payload, not_before, created_at, platform, paced, state, \
          sent_at",
         "'C' || (i % 100), 'post', '{}', i, i, 'slack', i % 2, 'sent', i"),
        ("messages", 20000, "platform, channel, user_id, text, at, ext_id",
         "'slack', 'C_H' || (i % 200 + 1), 'U', 's', i, 'm' || i"),
    ] {
        sqlx::query(&format!(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) \
             INSERT INTO {table} ({columns}) SELECT {values} FROM c"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
    let (stmts, _) = statements();
    let (planned, _, scans) = plan_all(&mut conn, &stmts).await;
    // Left, with why: the status page's open-or-recent incidents (a year is a
    // thousand incidents, read per page view, not per command), and runs in a
    // finished state (no caller: `/status` and the tick ask for live runs only).
    let scans: BTreeSet<String> = scans
        .into_iter()
        .filter(|s| !s.contains("SCAN incidents"))
        .filter(|s| !s.contains("FROM runs WHERE state = $1 ORDER BY id"))
        .collect();
    // A search on a prefix every row shares is a scan too: what reads the queue
    // must read the waiting rows only (the partial index `outbox_waiting`). With
    // the old `state = 'pending' OR …` form the delivery pass searched
    // `outbox_channel_order` on `platform`, all 20k rows, and sorted them; the
    // superseded-edit check searched every row after its own by rowid.
    let queue_reads = [
        (
            "ORDER BY id LIMIT $2",
            "the delivery pass (`Store::due_outbox`)",
        ),
        ("op = 'update' AND target", "`Store::outbox_superseded`"),
        ("attempts > 0", "`Store::outbox_trouble`"),
        (
            "SELECT COUNT(*) FROM outbox WHERE platform",
            "`Store::outbox_pending`",
        ),
    ];
    for (needle, what) in queue_reads {
        let sql = stmts
            .iter()
            .find(|(_, sql)| sql.contains("FROM outbox") && sql.contains(needle))
            .map(|(_, sql)| sql.clone())
            .unwrap_or_else(|| panic!("{what}'s statement"));
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(3))
            .collect();
        assert!(
            plan.iter()
                .any(|d| d.contains("USING INDEX outbox_waiting")),
            "{what} reads only waiting rows: {plan:?}"
        );
    }
    assert!(planned >= 50, "the statements were found ({planned})");
    assert!(
        scans.is_empty(),
        "full scans of growing tables once statistics exist:\n{}",
        scans.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The SQLite warroom links is built without STAT4 (`.cargo/config.toml`,
/// `LIBSQLITE3_FLAGS`): with it, once ANALYZE has filled `sqlite_stat4`, every
/// statement whose plan could depend on a bound value is re-prepared each time the
/// value changes (sqlite.org/compile.html#enable_stat4). Issue 18 measured that as
/// a tenth of the accepted path on a year of history, all of its gap to an empty
/// database. The plans above are checked with the statistics this build keeps.
#[tokio::test]
async fn sqlite_is_built_without_stat4() {
    let (_dir, mut conn) = migrated().await;
    let used: i64 = sqlx::query_scalar("SELECT sqlite_compileoption_used('ENABLE_STAT4')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        used, 0,
        "SQLITE_ENABLE_STAT4 is on: is LIBSQLITE3_FLAGS set?"
    );
    sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
    let stat4: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(stat4, 0, "ANALYZE made sqlite_stat4");
}
