//! The tamper-evident audit trail on both backends: intact after an incident, and
//! each kind of tampering (a row edited, deleted, two rows swapped; the chain's own
//! entries edited or deleted) named by `verify` at the first entry that no longer
//! holds. Tampering goes straight at the database, as an attacker with its
//! credentials would.

mod common;

use common::{say, Env, StateDb};
use secrecy::ExposeSecret;
use warroom::app::{App, Outcome};
use warroom::store::AuditVerdict;

/// An incident with commands, a refusal, notes, a two-person approval and a run.
async fn incident(app: &App) {
    assert_eq!(say(app, "U_ONCALL", "/corrupt").await, Outcome::Waiting);
    assert_eq!(
        say(app, "U_STRANGER", "/approve RUN-1").await,
        Outcome::Denied
    );
    assert_eq!(say(app, "U_LEAD", "/approve RUN-1").await, Outcome::Waiting);
    assert_eq!(say(app, "U_DBA", "/approve RUN-1").await, Outcome::Done);
    assert_eq!(
        say(app, "U_IC", "/note \"rollback done\"").await,
        Outcome::Done
    );
}

async fn raw(env: &Env) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = env.settings.database_url.expose_secret().to_string();
    let url = if url.starts_with("postgres") {
        url
    } else {
        format!("sqlite://{url}")
    };
    sqlx::AnyPool::connect(&url).await.expect("state database")
}

async fn sealed(db: StateDb) -> (Env, App) {
    let env = Env::fixtures(db).await;
    let (app, _) = env.app().await;
    incident(&app).await;
    let n = app.store.seal_audit(chrono::Utc::now()).await.unwrap();
    assert!(n >= 10, "commands, events and votes are sealed: {n}");
    match app.store.verify_audit().await.unwrap() {
        AuditVerdict::Intact { entries, head } => {
            assert_eq!(entries as usize, n);
            assert_eq!(head.len(), 64);
        }
        broken => panic!("untouched chain reads {broken:?}"),
    }
    // Sealing again adds nothing; what comes later is appended.
    assert_eq!(app.store.seal_audit(chrono::Utc::now()).await.unwrap(), 0);
    (env, app)
}

fn broken_at(v: AuditVerdict) -> (i64, String) {
    match v {
        AuditVerdict::Broken { seq, what } => (seq, what),
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

/// The seq of the chain entry covering a timeline row with this text.
async fn entry_of(app: &App, text: &str) -> i64 {
    app.store
        .audit_entries(None, None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.source == "timeline" && e.content.contains(text))
        .map(|e| e.seq)
        .expect("the event is in the chain")
}

/// One way of tampering: the statements an attacker runs, where the break must be
/// named (a chain position, or the entry covering the timeline row with this text),
/// and what `verify` must say.
struct Tampering {
    sql: &'static [&'static str],
    at: At,
    says: &'static str,
}

enum At {
    Seq(i64),
    EventWith(&'static str),
}

const TAMPERING: &[Tampering] = &[
    // A timeline row edited after it was sealed.
    Tampering {
        sql: &[
            "UPDATE timeline SET text = 'U_IC: nothing happened' WHERE text LIKE '%rollback done%'",
        ],
        at: At::EventWith("rollback done"),
        says: "was changed after it was sealed",
    },
    // A timeline row deleted.
    Tampering {
        sql: &["DELETE FROM timeline WHERE text LIKE '%fully approved%'"],
        at: At::EventWith("fully approved"),
        says: "was deleted",
    },
    // Two chain entries swapped (their places in the order exchanged).
    Tampering {
        sql: &[
            "UPDATE audit SET seq = -1 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = 4",
            "UPDATE audit SET seq = 4 WHERE seq = -1",
        ],
        at: At::Seq(3),
        says: "removed or reordered",
    },
    // Two chain entries' own content edited: the first is named.
    Tampering {
        sql: &[
            "UPDATE audit SET content = REPLACE(content, 'U_DBA', 'U_LEAD') WHERE seq = 5",
            "UPDATE audit SET content = content || ' ' WHERE seq = 2",
        ],
        at: At::Seq(2),
        says: "was changed in the audit table",
    },
    // A chain entry deleted.
    Tampering {
        sql: &["DELETE FROM audit WHERE seq = 6"],
        at: At::Seq(6),
        says: "missing",
    },
];

async fn tampering_is_named(db: fn() -> StateDb) {
    for t in TAMPERING {
        let (env, app) = sealed(db()).await;
        let seq = match t.at {
            At::Seq(n) => n,
            At::EventWith(text) => entry_of(&app, text).await,
        };
        let pool = raw(&env).await;
        for sql in t.sql {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        let (at, what) = broken_at(app.store.verify_audit().await.unwrap());
        assert_eq!(at, seq, "{:?}: {what}", t.sql);
        assert!(what.contains(t.says), "{:?}: {what}", t.sql);
    }
}

#[tokio::test]
async fn the_audit_chain_holds_on_sqlite_and_names_the_first_entry_tampered_with() {
    tampering_is_named(|| StateDb::Sqlite).await;
}

#[tokio::test]
async fn the_audit_chain_holds_on_postgres_and_names_the_first_entry_tampered_with() {
    tampering_is_named(|| StateDb::Postgres).await;
}

/// The documented check an auditor runs without warroom: each exported line's
/// `hash` is `sha256(prev + "\n" + content)` and its `prev` is the line before's
/// `hash`; the last line is the head. Through the binary, as DESIGN.md §6 says:
/// `warroom audit verify` exits 0 when intact and 1 naming the entry.
#[tokio::test]
async fn the_exported_evidence_checks_out_with_sha256_alone_and_verify_exits_by_the_contract() {
    let (env, app) = sealed(StateDb::Sqlite).await;
    let bin = env!("CARGO_BIN_EXE_warroom");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--config")
            .arg(env.config_path())
            .env(
                "WARROOM_DATABASE_URL",
                env.settings.database_url.expose_secret(),
            )
            .output()
            .expect("warroom runs")
    };
    let out = run(&["audit", "export", "--since", "2000-01-01"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let (head, entries) = lines.split_last().expect("a head line");
    let mut prev = warroom::store::GENESIS.to_string();
    for e in entries {
        use sha2::Digest;
        let content = e["content"].as_str().unwrap();
        assert_eq!(e["prev"].as_str().unwrap(), prev);
        let digest = sha2::Sha256::digest(format!("{prev}\n{content}").as_bytes());
        let hash = format!("{digest:x}");
        assert_eq!(e["hash"].as_str().unwrap(), hash);
        prev = hash;
    }
    assert_eq!(head["head"]["hash"].as_str().unwrap(), prev);
    assert_eq!(head["entries"].as_u64().unwrap() as usize, entries.len());

    let ok = run(&["audit", "verify"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok: the audit chain holds"));
    sqlx::query("UPDATE commands_received SET text = '/status' WHERE id = 1")
        .execute(&raw(&env).await)
        .await
        .unwrap();
    let bad = run(&["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let said = String::from_utf8_lossy(&bad.stdout);
    assert!(
        said.contains("(command 1)") && said.contains("changed"),
        "{said}"
    );
    drop(app);
}
