//! Embedded demo databases: when a target's URL is not configured but the target names
//! a demo, warroom creates a SQLite file with the seed's schema and plausible data, so
//! a fresh clone can run real commands against something real.

use std::path::Path;

use crate::actions::target::SqlTarget;

/// Seed 001 (Kanban V2, chatia): companies with the `kanbanV2Enabled` flag in their
/// JSON settings, and recent kanban errors for a handful of them.
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
