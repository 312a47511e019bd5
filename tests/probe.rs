//! `warroom check --probe` (issue 13) against real services: a real PostgreSQL with
//! seed 001's fixture schema, stand-in CLIs that accept only the real tools' grammar
//! (`common/grammar.rs`, built from vercel/vercel, railwayapp/cli and supabase/cli),
//! and the fake application HTTP server. Nothing the probe touches may change.

mod common;

use common::Pack;

const CHATIA: &str = "commands/chatia/fixture.sql";
const TARGETS: &[(&str, &str)] = &[("chatia_db", "db"), ("chatia_api", "web")];

fn problems(p: &warroom::check::probe::Probed) -> String {
    p.problems
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_shipped_runbooks_probe_clean_where_their_tools_and_targets_are_real() {
    let pack = Pack::start(CHATIA, TARGETS).await;
    for tool in ["vercel", "railway", "supabase", "pm2"] {
        pack.standins.add(tool, "", 0);
    }
    let probed = warroom::check::probe::probe(&pack.env.settings).await;
    let chatia: Vec<_> = probed
        .problems
        .iter()
        .filter(|p| {
            p.file.contains("chatia")
                || p.message.contains("vercel")
                || p.message.contains("railway")
                || p.message.contains("supabase")
        })
        .collect();
    assert!(chatia.is_empty(), "{}", problems(&probed));
    assert!(probed.ok >= 20, "{} checks: {:?}", probed.ok, probed.notes);
    // Every seed 001 SQL statement was checked on the real database; the DDL-free
    // runbook left the data as it was.
    let pool = pack.pg().await;
    let enabled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM Companies WHERE COALESCE(settings->>'kanbanV2Enabled', 'false')::boolean",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        enabled, 30,
        "EXPLAIN in a rolled-back transaction changed nothing"
    );
}

#[tokio::test]
async fn a_fictional_subcommand_and_a_wrong_column_are_reported_before_an_incident() {
    let mut pack = Pack::start(CHATIA, TARGETS).await;
    pack.standins.add("railway", "", 0);
    pack.standins.add("vercel", "", 0);
    // Seed 003 as written: `railway rollback` (no such subcommand in railwayapp/cli).
    let _a = pack.patch_commands(
        "webapp/backend.toml",
        r#"argv = ["railway", "down", "--yes"]"#,
        r#"argv = ["railway", "rollback"]"#,
    );
    let dir = _a.path().to_path_buf();
    // A column the fixture does not have.
    let kanban = dir.join("chatia/kanban-verify.toml");
    let text = std::fs::read_to_string(&kanban).unwrap();
    std::fs::write(
        &kanban,
        text.replace(
            "FROM Companies\n",
            "FROM Companies WHERE archived_at IS NULL\n",
        ),
    )
    .unwrap();
    let probed = warroom::check::probe::probe(&pack.env.settings).await;
    let all = problems(&probed);
    assert!(
        all.contains("webapp/backend.toml")
            && all.contains(
                "`railway rollback --help` exited 2: error: unrecognized subcommand 'rollback'"
            ),
        "{all}"
    );
    assert!(
        all.contains("chatia/kanban-verify.toml")
            && all.contains("column \"archived_at\" does not exist"),
        "{all}"
    );
    assert!(
        !all.contains("vercel"),
        "vercel's real subcommands pass: {all}"
    );
}
