//! Embedded demo databases: when a target's URL is not configured but the target names
//! a demo, warroom creates a SQLite file with the seed's schema and plausible data, so
//! a fresh clone can run real commands against something real.

use std::path::Path;

use crate::actions::target::SqlTarget;

/// Seed 001 (Kanban V2, chatia): companies with the `kanbanV2Enabled` flag in their
/// JSON settings, recent kanban errors for a handful of them, and the kanban tables
/// scenario 3 assesses and cleans, with the corruption it looks for (orphan tags,
/// invalid lanes, duplicate ticket tags), so `/kanban-cleanup` runs on the demo too.
const CHATIA_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS Companies (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    settings TEXT
);
CREATE TABLE IF NOT EXISTS ErrorLogs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    companyId TEXT NOT NULL,
    context   TEXT NOT NULL,
    createdAt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS Lanes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    companyId TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS Tags (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    companyId TEXT,
    name      TEXT NOT NULL,
    createdAt TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE IF NOT EXISTS Tickets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    companyId  TEXT NOT NULL,
    kanbanLane INTEGER
);
CREATE TABLE IF NOT EXISTS TicketTags (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    tagId    INTEGER NOT NULL,
    ticketId INTEGER NOT NULL
);
"#;

/// The kanban rows of `commands/chatia/fixture.sql`: 2 orphan tags, 2 tickets on
/// lanes of another company (or none), 3 duplicate ticket tags.
const CHATIA_KANBAN: &str = r#"
INSERT INTO Lanes (companyId) VALUES ('company-001'), ('company-001'), ('company-001'),
    ('company-002'), ('company-002'), ('company-002');
INSERT INTO Tags (companyId, name) VALUES
    ('company-001', 'urgent'), ('company-001', 'vip'), ('company-002', 'bug'),
    (NULL, 'orphan-null'), ('company-999', 'orphan-gone');
INSERT INTO Tickets (companyId, kanbanLane) VALUES
    ('company-001', 1), ('company-001', 2), ('company-002', 4),
    ('company-001', 5), ('company-002', 99), ('company-002', NULL);
INSERT INTO TicketTags (tagId, ticketId) VALUES (1, 1), (1, 1), (1, 1), (2, 2), (3, 3), (3, 3);
"#;

/// Opens (creating and seeding on first use) the demo database `name` at `path`.
pub async fn open(name: &str, path: &Path) -> Result<SqlTarget, String> {
    let url = secrecy::SecretString::from(path.display().to_string());
    let target = SqlTarget::open(&url)?;
    let SqlTarget::Sqlite(pool) = &target else {
        return Err("demo databases are SQLite".into());
    };
    match name {
        "chatia" => {
            sqlx::raw_sql(CHATIA_SCHEMA)
                .execute(pool)
                .await
                .map_err(|e| format!("creating demo database {}: {e}", path.display()))?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Companies")
                .fetch_one(pool)
                .await
                .map_err(|e| e.to_string())?;
            if count == 0 {
                seed_chatia(pool)
                    .await
                    .map_err(|e| format!("seeding demo database: {e}"))?;
            }
            // A demo file made before the kanban tables existed gets their rows once.
            let tags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM Lanes")
                .fetch_one(pool)
                .await
                .map_err(|e| e.to_string())?;
            if tags == 0 {
                sqlx::raw_sql(CHATIA_KANBAN)
                    .execute(pool)
                    .await
                    .map_err(|e| format!("seeding demo database: {e}"))?;
            }
        }
        other => return Err(format!("unknown demo `{other}` (known: chatia)")),
    }
    Ok(target)
}

async fn seed_chatia(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for i in 1..=40 {
        let enabled = i % 4 != 0;
        sqlx::query("INSERT INTO Companies (id, name, settings) VALUES (?1, ?2, ?3)")
            .bind(format!("company-{i:03}"))
            .bind(format!("Company {i}"))
            .bind(format!(
                r#"{{"kanbanV2Enabled": {enabled}, "plan": "pro"}}"#
            ))
            .execute(&mut *tx)
            .await?;
    }
    // Kanban errors in the last hour: companies 1-6 above the seed's threshold of 10.
    for (company, errors) in [(1, 40), (2, 33), (3, 25), (4, 18), (5, 14), (6, 12), (7, 4)] {
        for e in 0..errors {
            sqlx::query(
                "INSERT INTO ErrorLogs (companyId, context, createdAt)
                 VALUES (?1, 'kanban.socket', datetime('now', ?2))",
            )
            .bind(format!("company-{company:03}"))
            .bind(format!("-{} minutes", 1 + e % 50))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}
