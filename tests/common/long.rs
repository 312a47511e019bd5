//! Content too long for one chat message, shared by the Slack and Discord
//! long-post tests.

/// A runbook whose one step shows a 30-column, 20-row result (the widest table
/// `show = true` posts: 40 characters a column).
pub fn wide_table_runbook() -> String {
    let columns: Vec<String> = (1..=30)
        .map(|c| {
            format!(
                "printf('r%02d-c{c:02}-%s', i, substr('{}', 1, 32)) AS col_{c:02}",
                "x".repeat(32)
            )
        })
        .collect();
    format!(
        r#"[command]
name = "wide-table"
help = "Show a 30-column result"
scenario = "verification"
severity = "P3"
title = "Wide table"

[[steps]]
name = "Thirty columns"
[steps.sql]
target = "chatia_db"
show = true
statement = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
SELECT {} FROM n
"""
"#,
        columns.join(", ")
    )
}
