//! The `sql` action: one statement against a named target, parameters bound, the result
//! checked against the step's expectations and optionally posted as a table.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, TypeInfo};

use super::expect;
use super::target::SqlTarget;
use super::{ActionError, ActionOutput, Param};
use reach::{explained, POOL_TIMED_OUT, REFUSED};

mod reach;

/// A validation query run inside a transaction before `COMMIT`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    pub statement: String,
    #[serde(default)]
    pub expect: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSpec {
    /// A `[targets.NAME]` of `warroom.toml`.
    pub target: String,
    /// The statement for any dialect; `postgres` / `sqlite` override it per target kind.
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub postgres: Option<String>,
    #[serde(default)]
    pub sqlite: Option<String>,
    /// Bound in order as `$1`, `$2`...: `args.NAME`, `incident.id`, `run.id`, `run.requested_by`.
    #[serde(default)]
    pub params: Vec<String>,
    /// Checks on the first row: `{ enabled = 0 }` or `{ error_rate = "< 0.1" }`.
    #[serde(default)]
    pub expect: BTreeMap<String, toml::Value>,
    /// Check on the number of rows returned or affected: "= 1", ">= 0".
    #[serde(default)]
    pub expect_rows: Option<String>,
    /// Post the result as a table in the channel (assessment queries).
    #[serde(default)]
    pub show: bool,
    /// Statements run in one transaction instead of `statement`; `params` bind in each.
    #[serde(default)]
    pub transaction: Vec<String>,
    /// Checked inside the transaction; any failure rolls everything back.
    #[serde(default)]
    pub validate: Vec<Validation>,
    /// Safe to measure before it is approved: its statements run inside a
    /// transaction that is rolled back, and approvers read how many rows each would
    /// change. Only for statements whose effects a rollback undoes.
    #[serde(default)]
    pub preview: bool,
}

impl SqlSpec {
    /// The statement to run on a target of the given dialect.
    pub fn statement_for(&self, postgres: bool) -> Option<&str> {
        let specific = if postgres {
            &self.postgres
        } else {
            &self.sqlite
        };
        specific.as_deref().or(self.statement.as_deref())
    }

    /// Whether the step has something to run on a target of this dialect.
    pub fn runnable(&self, postgres: bool) -> bool {
        self.statement_for(postgres).is_some() || !self.transaction.is_empty()
    }
}

/// Rows shown in a posted table; the count says how many there were in all.
const TABLE_ROWS: usize = 20;

/// Whether the statement yields rows (and must be fetched) or only a count.
fn returns_rows(statement: &str) -> bool {
    let head = statement.trim_start().to_ascii_lowercase();
    head.starts_with("select")
        || head.starts_with("with")
        || head.starts_with("values")
        || head.starts_with("show")
        || head.to_ascii_lowercase().contains(" returning ")
}

/// The rendering approvers and `dry-run` see: every statement (a transaction's
/// each, in order, with the checks made before `COMMIT`) and the bound values.
pub fn describe(spec: &SqlSpec, target: Option<&SqlTarget>, params: &[Param]) -> String {
    let pg = target.is_none_or(|t| t.is_postgres());
    let mut out = match spec.statement_for(pg) {
        Some(statement) => format!("SQL on `{}`:\n```\n{}\n```", spec.target, statement.trim()),
        None if !spec.transaction.is_empty() => {
            let statements: Vec<String> = spec
                .transaction
                .iter()
                .enumerate()
                .map(|(i, s)| format!("-- {}.\n{}", i + 1, s.trim()))
                .collect();
            let mut t = format!(
                "SQL on `{}`, {} statements in one transaction (all or nothing):\n```\n{}\n```",
                spec.target,
                statements.len(),
                statements.join("\n")
            );
            if !spec.validate.is_empty() {
                let checks: Vec<String> = spec
                    .validate
                    .iter()
                    .map(|v| {
                        let want: Vec<String> = v
                            .expect
                            .iter()
                            .map(|(k, e)| format!("{k} {}", expect::show_expect(e)))
                            .collect();
                        format!("{} (expects {})", v.statement.trim(), want.join(", "))
                    })
                    .collect();
                t.push_str(&format!(
                    "\nchecked before COMMIT (any failure rolls all back):\n```\n{}\n```",
                    checks.join("\n")
                ));
            }
            t
        }
        None => format!(
            "SQL on `{}`: (no statement for this kind of target)",
            spec.target
        ),
    };
    if !params.is_empty() {
        let bound: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, p)| format!("${} = {p}", i + 1))
            .collect();
        out.push_str(&format!("\nbound: {}", bound.join(", ")));
    }
    out
}

/// Highest `$N` (or SQLite's `?N`) a statement uses: only that many parameters are
/// bound to it.
fn params_used(statement: &str) -> usize {
    let mut max = 0;
    let mut rest = statement;
    while let Some(i) = rest.find(['$', '?']) {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<usize>() {
            max = max.max(n);
        }
    }
    max
}

/// Binds the first `params_used` parameters, typed.
macro_rules! bind {
    ($statement:expr, $params:expr) => {{
        let mut q = sqlx::query($statement);
        for p in $params.iter().take(params_used($statement)) {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(n) => q.bind(*n),
                Param::Bool(b) => q.bind(*b),
                Param::Null => q.bind(None::<String>),
            };
        }
        q
    }};
}

/// The same statement logic over either pool type. Evaluates to
/// `(rows, rows returned or affected, whether rows were fetched)`, or returns early
/// from the enclosing function for a transaction.
macro_rules! execute {
    ($pool:expr, $is_pg:expr, $to_map:expr, $spec:expr, $params:expr, $prepare:expr) => {{
        if !$spec.transaction.is_empty() {
            let mut tx = $pool.begin().await.map_err(db_error)?;
            let mut counts = Vec::new();
            for statement in &$spec.transaction {
                let statement = $prepare(statement);
                let done = bind!(&statement, $params)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                counts.push(done.rows_affected().to_string());
            }
            let mut problems = Vec::new();
            let mut seen = Vec::new();
            for v in &$spec.validate {
                let statement = $prepare(&v.statement);
                let rows = bind!(&statement, $params)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_error)?;
                let first: Map<String, Value> = rows.first().map($to_map).unwrap_or_default();
                for (column, want) in &v.expect {
                    let got = first.get(column).cloned().unwrap_or(Value::Null);
                    seen.push(format!("{column} = {}", cell(&got)));
                    if let Err(e) = expect::check(&got, want) {
                        problems.push(format!("`{column}`: {e}"));
                    }
                }
            }
            let summary = format!(
                "{} statements ({} rows affected); validated {}",
                counts.len(),
                counts.join(", "),
                seen.join(", ")
            );
            if problems.is_empty() {
                tx.commit().await.map_err(db_error)?;
                return Ok(ActionOutput {
                    summary: format!("{summary}; committed"),
                    table: None,
                });
            }
            tx.rollback().await.map_err(db_error)?;
            return Err(ActionError::Failed(format!(
                "validation failed before COMMIT, rolled back: {}",
                problems.join("; ")
            )));
        }
        let statement = $spec
            .statement_for($is_pg)
            .ok_or_else(|| ActionError::Failed("no statement for this kind of target".into()))?;
        let statement = $prepare(statement);
        if returns_rows(&statement) {
            let rows = bind!(&statement, $params)
                .fetch_all($pool)
                .await
                .map_err(db_error)?;
            let n = rows.len() as u64;
            (rows.iter().map($to_map).collect::<Vec<_>>(), n, true)
        } else {
            let done = bind!(&statement, $params)
                .execute($pool)
                .await
                .map_err(db_error)?;
            (Vec::new(), done.rows_affected(), false)
        }
    }};
}

/// The same measurement over either pool type: each changing statement run in
/// one transaction that is then rolled back, with the rows it affected.
macro_rules! measure {
    ($pool:expr, $statements:expr, $params:expr, $prepare:expr) => {{
        let mut tx = $pool.begin().await.map_err(db_error)?;
        let mut out = Vec::new();
        for statement in $statements {
            let statement = $prepare(statement);
            if returns_rows(&statement) {
                continue;
            }
            let done = bind!(&statement, $params)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            out.push((verb(&statement), done.rows_affected()));
        }
        tx.rollback().await.map_err(db_error)?;
        out
    }};
}

/// What the step's changing statements would do, measured inside a transaction
/// that is rolled back: `[("delete", 30), ("update", 2)]`. Nothing is changed.
pub async fn preview(
    spec: &SqlSpec,
    target: &SqlTarget,
    params: &[Param],
) -> Result<Vec<(&'static str, u64)>, ActionError> {
    explained(target, preview_on(spec, target, params).await).await
}

async fn preview_on(
    spec: &SqlSpec,
    target: &SqlTarget,
    params: &[Param],
) -> Result<Vec<(&'static str, u64)>, ActionError> {
    let pg = target.is_postgres();
    let statements: Vec<&str> = match spec.statement_for(pg) {
        Some(s) if spec.transaction.is_empty() => vec![s],
        _ => spec.transaction.iter().map(String::as_str).collect(),
    };
    Ok(match target {
        SqlTarget::Postgres(pool) => measure!(pool, statements, params, |s: &str| s.to_string()),
        SqlTarget::Sqlite(pool) => {
            measure!(pool, statements, params, crate::store::sqlite_placeholders)
        }
    })
}

/// What a changing statement does to rows, in words.
fn verb(statement: &str) -> &'static str {
    let head = statement.trim_start().to_ascii_lowercase();
    ["delete", "update", "insert"]
        .into_iter()
        .find(|v| head.starts_with(v))
        .unwrap_or("change")
}

pub async fn run(
    spec: &SqlSpec,
    target: &SqlTarget,
    params: &[Param],
) -> Result<ActionOutput, ActionError> {
    explained(target, run_on(spec, target, params).await).await
}

async fn run_on(
    spec: &SqlSpec,
    target: &SqlTarget,
    params: &[Param],
) -> Result<ActionOutput, ActionError> {
    let (rows, affected, fetched) = match target {
        SqlTarget::Postgres(pool) => {
            execute!(pool, true, pg_row, spec, params, |s: &str| s.to_string())
        }
        SqlTarget::Sqlite(pool) => execute!(
            pool,
            false,
            sqlite_row,
            spec,
            params,
            crate::store::sqlite_placeholders
        ),
    };
    let summary = summarize(&rows, affected, fetched);
    if let Some(want) = &spec.expect_rows {
        expect::check(&Value::from(affected), &toml::Value::String(want.clone()))
            .map_err(|e| ActionError::Failed(format!("row count: {e} ({summary})")))?;
    }
    if !spec.expect.is_empty() {
        let first = rows
            .first()
            .ok_or_else(|| ActionError::Failed("expected a row, the query returned none".into()))?;
        for (column, want) in &spec.expect {
            let got = first.get(column).cloned().unwrap_or(Value::Null);
            expect::check(&got, want)
                .map_err(|e| ActionError::Failed(format!("`{column}`: {e} ({summary})")))?;
        }
    }
    Ok(ActionOutput {
        summary,
        table: spec.show.then(|| table(&rows)),
    })
}

pub(crate) fn db_error(e: sqlx::Error) -> ActionError {
    // Database errors name tables and constraints, never the connection URL.
    match e {
        sqlx::Error::Database(d) => ActionError::Failed(format!("database error: {}", d.message())),
        sqlx::Error::PoolTimedOut => ActionError::Failed(POOL_TIMED_OUT.into()),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            ActionError::Failed(REFUSED.into())
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            ActionError::Failed("target database unreachable".into())
        }
        other => ActionError::Failed(format!(
            "database error: {}",
            other.to_string().chars().take(200).collect::<String>()
        )),
    }
}

fn summarize(rows: &[Map<String, Value>], affected: u64, fetched: bool) -> String {
    if !fetched {
        return format!(
            "{affected} row{} affected",
            if affected == 1 { "" } else { "s" }
        );
    }
    match rows {
        [one] if one.len() <= 6 => one
            .iter()
            .map(|(k, v)| format!("{k} = {}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        _ => format!(
            "{} row{}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        ),
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A fixed-width text table in a code block, readable in any chat client.
pub fn table(rows: &[Map<String, Value>]) -> String {
    let Some(first) = rows.first() else {
        return "```\n(no rows)\n```".into();
    };
    let headers: Vec<&String> = first.keys().collect();
    let shown: Vec<Vec<String>> = rows
        .iter()
        .take(TABLE_ROWS)
        .map(|r| {
            headers
                .iter()
                .map(|h| cell(r.get(*h).unwrap_or(&Value::Null)).replace('`', "'"))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            shown
                .iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
                .min(40)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", c.chars().take(*w).collect::<String>(), w = *w))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.push(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.extend(shown.into_iter().map(line));
    if rows.len() > TABLE_ROWS {
        out.push(format!("… {} more rows", rows.len() - TABLE_ROWS));
    }
    format!("```\n{}\n```", out.join("\n"))
}

fn pg_row(row: &PgRow) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let v = match col.type_info().name() {
            "BOOL" => row
                .try_get::<Option<bool>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "INT8" => row
                .try_get::<Option<i64>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "FLOAT4" => row
                .try_get::<Option<f32>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "FLOAT8" => row
                .try_get::<Option<f64>, _>(i)
                .ok()
                .flatten()
                .map(Value::from),
            "JSON" | "JSONB" => row.try_get::<Option<Value>, _>(i).ok().flatten(),
            "TIMESTAMPTZ" => row
                .try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)
                .ok()
                .flatten()
                .map(|t| Value::from(t.to_rfc3339())),
            "TIMESTAMP" => row
                .try_get::<Option<chrono::NaiveDateTime>, _>(i)
                .ok()
                .flatten()
                .map(|t| Value::from(t.to_string())),
            // A function returning void (`select legalflow.emergency_lockdown($1)`).
            "VOID" => None,
            "DATE" => row
                .try_get::<Option<chrono::NaiveDate>, _>(i)
                .ok()
                .flatten()
                .map(|t| Value::from(t.to_string())),
            _ => match row.try_get::<Option<String>, _>(i) {
                Ok(v) => v.map(Value::from),
                Err(_) => Some(Value::from(format!("<{}>", col.type_info().name()))),
            },
        };
        out.insert(col.name().to_string(), v.unwrap_or(Value::Null));
    }
    out
}

fn sqlite_row(row: &SqliteRow) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let v = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map(Value::from)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map(Value::from)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map(Value::from)
        } else {
            Some(Value::from("<blob>"))
        };
        out.insert(col.name().to_string(), v.unwrap_or(Value::Null));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_return_rows_are_fetched() {
        for s in [
            "SELECT 1",
            "  select 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "UPDATE t SET a = 1 RETURNING id",
        ] {
            assert!(returns_rows(s), "{s}");
        }
        for s in [
            "UPDATE Companies SET x = 1",
            "DELETE FROM t",
            "INSERT INTO t VALUES (1)",
        ] {
            assert!(!returns_rows(s), "{s}");
        }
    }

    #[test]
    fn tables_align_and_cap_their_rows() {
        let rows: Vec<Map<String, Value>> = (0..25)
            .map(|i| {
                let mut m = Map::new();
                m.insert("company".into(), Value::from(format!("c{i}")));
                m.insert("errors".into(), Value::from(i));
                m
            })
            .collect();
        let t = table(&rows);
        assert!(
            t.starts_with("```\ncompany | errors\n--------+-------\nc0      | 0\n"),
            "{t}"
        );
        assert!(t.contains("… 5 more rows"));
        assert_eq!(table(&[]), "```\n(no rows)\n```");
    }
}
