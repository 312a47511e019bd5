//! Test support: apps on a fresh state database (SQLite file or a new PostgreSQL
//! database), with the shipped or the fixture command packs, talking to a
//! recording chat.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;
use warroom::app::{App, Incoming, Outcome};
use warroom::authz::UserId;
use warroom::chat::recording::RecordingChat;
use warroom::config::Settings;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The PostgreSQL server tests use. In CI a missing server fails the tests: they
/// never skip.
pub fn postgres_admin_url() -> String {
    std::env::var("WARROOM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty PostgreSQL database; returns its URL.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be running for these tests ({admin}): {e}"));
    let name = format!("warroom_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("URL has a database");
    format!("{base}/{name}")
}

pub enum StateDb {
    Sqlite,
    Postgres,
}

/// A temporary deployment: config file, state database and demo targets in a temp dir.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub settings: Settings,
}

impl Env {
    /// The shipped `commands/` and `templates/`.
    pub async fn shipped(db: StateDb) -> Env {
        Env::with(&repo().join("commands"), &repo().join("templates"), db, "").await
    }

    /// The test fixture pack (same templates).
    pub async fn fixtures(db: StateDb) -> Env {
        Env::with(
            &repo().join("tests/fixtures/commands"),
            &repo().join("templates"),
            db,
            "",
        )
        .await
    }

    pub async fn with(commands: &Path, templates: &Path, db: StateDb, extra_toml: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n\n[targets.chatia_db]\nkind = \"sql\"\ndemo = \"chatia\"\n{extra_toml}",
            commands.display().to_string(),
            templates.display().to_string()
        );
        let path = dir.path().join("warroom.toml");
        std::fs::write(&path, config).expect("write config");
        let mut settings = Settings::load(Some(&path)).expect("test config loads");
        settings.database_url = SecretString::from(match db {
            StateDb::Sqlite => dir.path().join("state.db").display().to_string(),
            StateDb::Postgres => fresh_postgres().await,
        });
        Env { dir, settings }
    }

    pub async fn app(&self) -> (App, Arc<RecordingChat>) {
        let chat = Arc::new(RecordingChat::new());
        let app = App::build(self.settings.clone(), chat.clone())
            .await
            .expect("app builds");
        (app, chat)
    }

    pub fn demo_db(&self) -> PathBuf {
        self.dir.path().join("warroom-demo-chatia.db")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("warroom.toml")
    }
}

pub fn msg(user: &str, text: &str) -> Incoming {
    Incoming {
        user: UserId::new("console", user),
        channel: "C_INC".into(),
        text: text.into(),
        dedup_key: None,
    }
}

pub async fn say(app: &App, user: &str, text: &str) -> Outcome {
    app.handle(&msg(user, text)).await
}

/// Number of demo companies with Kanban V2 on.
pub async fn kanban_enabled(env: &Env) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.demo_db().display()))
        .await
        .expect("demo db");
    let n: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(CASE WHEN json_extract(settings, '$.kanbanV2Enabled') THEN 1 ELSE 0 END), 0) FROM Companies",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    pool.close().await;
    n
}
