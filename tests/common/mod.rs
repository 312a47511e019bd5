//! Test support: apps on a fresh state database (SQLite file or a new PostgreSQL
//! database), with the shipped or the fixture command packs, talking to a
//! recording chat.
#![allow(dead_code)]

pub mod alertmanager;
pub mod chromium;
pub mod fake_app;
pub mod fake_discord;
pub mod fake_slack;
pub mod grammar;
pub mod long;
pub mod scenario;
pub mod serve;
pub mod standins;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;
use warroom::app::{App, Incoming, Outcome};
use warroom::config::Settings;
use warroom::model::user::UserId;

// The crate's paths the tests use, named once here so a move in `src/` is a one-line fix.
pub use warroom::chat::recording::{Recorded, RecordingChat};
#[allow(unused_imports)]
pub use warroom::model::run::{Phase, RunState, StepState};

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
    // The creation time in the name lets `scripts/test` drop only databases left by
    // runs that are over, never those of a suite running beside it.
    let born = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let name = format!("warroom_t_{born}_{}", uuid::Uuid::new_v4().simple());
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
    /// The shipped `warroom.toml`, `commands/` and `templates/`, with nothing in the
    /// environment: only the embedded demo target is configured.
    pub async fn shipped(db: StateDb) -> Env {
        let shipped = std::fs::read_to_string(repo().join("warroom.toml")).expect("shipped config");
        let config = shipped
            .replace(
                "commands_dir = \"commands\"",
                &format!(
                    "commands_dir = {:?}",
                    repo().join("commands").display().to_string()
                ),
            )
            .replace(
                "templates_dir = \"templates\"",
                &format!(
                    "templates_dir = {:?}",
                    repo().join("templates").display().to_string()
                ),
            );
        Env::from_config(&config, db).await
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
        let config = format!(
            "[warroom]\ncommands_dir = {:?}\ntemplates_dir = {:?}\n\n[targets.chatia_db]\nkind = \"sql\"\ndemo = \"chatia\"\n{extra_toml}",
            commands.display().to_string(),
            templates.display().to_string()
        );
        Env::from_config(&config, db).await
    }

    async fn from_config(config: &str, db: StateDb) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("warroom.toml");
        std::fs::write(&path, config).expect("write config");
        let mut settings = Settings::load(Some(&path)).expect("test config loads");
        // Whatever the machine's environment holds, tests start with no real targets.
        for t in &mut settings.targets {
            t.url = None;
            t.token = None;
        }
        settings.database_url = SecretString::from(match db {
            StateDb::Sqlite => dir.path().join("state.db").display().to_string(),
            StateDb::Postgres => fresh_postgres().await,
        });
        Env { dir, settings }
    }

    pub async fn app(&self) -> (App, Arc<RecordingChat>) {
        self.app_on("console").await
    }

    /// The app as a chat platform runs it (runs requested there are decided there).
    pub async fn app_on(&self, platform: &str) -> (App, Arc<RecordingChat>) {
        let chat = Arc::new(RecordingChat::new());
        let app = App::build_on(platform, self.settings.clone(), chat.clone())
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

/// Copies a directory tree (command packs, templates) for a test to modify.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("dir entry").path();
        let dest = to.join(path.file_name().expect("file name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy file");
        }
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
    demo_value(
        env,
        "SELECT COALESCE(SUM(CASE WHEN json_extract(settings, '$.kanbanV2Enabled') THEN 1 ELSE 0 END), 0) FROM Companies",
    )
    .await
}

/// One value from the embedded demo database (the demo target's SQLite file).
pub async fn demo_value<T>(env: &Env, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + Unpin,
{
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", env.demo_db().display()))
        .await
        .expect("demo db");
    let v: T = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    v
}

/// A runbook pack wired to real services: a fresh PostgreSQL database loaded with the
/// pack's fixture schema, a Redis database of its own, the fake application, and the
/// stand-in CLIs on PATH.
pub struct Pack {
    pub env: Env,
    pub db_url: String,
    /// A second database with the same fixture, for targets mapped to "db2": a
    /// drill's staging twin, or the provider a database moves to. Its own database,
    /// so a test shows what reached which.
    pub db2_url: Option<String>,
    pub redis_url: String,
    pub web: fake_app::FakeApp,
    pub standins: standins::StandIns,
}

/// Redis databases 1-15 are handed out to tests in turn (0 is left alone).
pub fn redis_url() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base =
        std::env::var("WARROOM_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let pid_offset = std::process::id() as usize;
    format!(
        "{base}/{}",
        1 + (pid_offset + NEXT.fetch_add(1, Ordering::Relaxed)) % 15
    )
}

pub async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis must be running for these tests ({url}): {e}"))
}

impl Pack {
    /// `targets` maps each target name of the shipped `warroom.toml` to the service
    /// standing in for it: "db", "redis" or "web".
    pub async fn start(fixture: &str, targets: &[(&str, &str)]) -> Pack {
        Pack::start_in(Env::shipped(StateDb::Sqlite).await, fixture, targets).await
    }

    /// The same, with the test fixture commands (`tests/fixtures/commands`).
    pub async fn fixtures(fixture: &str, targets: &[(&str, &str)]) -> Pack {
        Pack::start_in(Env::fixtures(StateDb::Sqlite).await, fixture, targets).await
    }

    async fn start_in(mut env: Env, fixture: &str, targets: &[(&str, &str)]) -> Pack {
        let sql = std::fs::read_to_string(repo().join(fixture)).expect("fixture file");
        let loaded = |url: String| {
            let sql = sql.clone();
            async move {
                let pool = sqlx::PgPool::connect(&url).await.expect("fixture db");
                sqlx::raw_sql(&sql)
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("fixture {fixture}: {e}"));
                pool.close().await;
                url
            }
        };
        let db_url = loaded(fresh_postgres().await).await;
        let db2_url = match targets.iter().any(|(_, what)| *what == "db2") {
            true => Some(loaded(fresh_postgres().await).await),
            false => None,
        };
        let redis_url = redis_url();
        let _: () = redis::cmd("FLUSHDB")
            .query_async(&mut redis_conn(&redis_url).await)
            .await
            .expect("flush test db");
        let web = fake_app::FakeApp::start().await;
        let standins = standins::StandIns::new();
        // The shipped targets, each pointed at its stand-in service.
        let shipped = Settings::load(Some(&repo().join("warroom.toml"))).expect("shipped config");
        env.settings.file.targets = shipped.file.targets.clone();
        env.settings.file.vars = shipped.file.vars.clone();
        env.settings.file.drills = shipped.file.drills.clone();
        env.settings.targets = shipped
            .targets
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.demo = None;
                t.url = targets
                    .iter()
                    .find(|(name, _)| *name == t.name)
                    .map(|(_, what)| {
                        SecretString::from(match *what {
                            "db" => db_url.clone(),
                            "db2" => db2_url.clone().expect("a second database"),
                            "redis" => redis_url.clone(),
                            "web" => web.url(),
                            other => panic!("unknown stand-in service {other}"),
                        })
                    });
                t.token = t
                    .url
                    .as_ref()
                    .and(Some(SecretString::from("test-token".to_string())));
                t
            })
            .collect();
        let path = env
            .settings
            .child_env
            .vars
            .get("PATH")
            .cloned()
            .unwrap_or_default();
        env.settings
            .child_env
            .vars
            .insert("PATH".into(), format!("{}:{path}", standins.path()));
        Pack {
            env,
            db_url,
            db2_url,
            redis_url,
            web,
            standins,
        }
    }

    pub async fn app(&self) -> (App, Arc<RecordingChat>) {
        self.env.app().await
    }

    pub async fn pg(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.db_url).await.expect("pack db")
    }

    /// The second database ("db2").
    pub async fn pg2(&self) -> sqlx::PgPool {
        let url = self
            .db2_url
            .as_deref()
            .expect("the test maps a target to db2");
        sqlx::PgPool::connect(url).await.expect("pack db2")
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis_conn(&self.redis_url).await
    }

    /// Points the pack at a copy of `commands/` where `file` has `from` replaced by
    /// `to` (a short step timeout, so a timeout test takes a second, not minutes).
    pub fn patch_commands(&mut self, file: &str, from: &str, to: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&repo().join("commands"), dir.path());
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).expect("command file");
        assert!(text.contains(from), "{file} has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write command file");
        self.env.settings.file.warroom.commands_dir = dir.path().display().to_string();
        dir
    }

    /// Sets a deployment var (a `[vars]` entry of warroom.toml), e.g. a repo path.
    pub fn var(&mut self, name: &str, value: &str) {
        self.env
            .settings
            .file
            .vars
            .insert(name.into(), value.into());
    }
}

/// The fixture pack plus `/waiting`: sql, a wait of `wait`, sql.
#[allow(dead_code)]
pub async fn with_a_wait(db: StateDb, wait: &str) -> (Env, tempfile::TempDir) {
    let commands = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/commands"), commands.path());
    std::fs::write(
        commands.path().join("waiting.toml"),
        format!(
            r#"[command]
name = "waiting"
help = "sql, wait, sql"
scenario = "p0"
[[steps]]
name = "Before"
[steps.sql]
target = "chatia_db"
statement = "SELECT 1 AS ok"
[[steps]]
name = "Let it settle"
[steps.wait]
duration = "{wait}"
[[steps]]
name = "After"
[steps.sql]
target = "chatia_db"
sqlite = "UPDATE Companies SET name = 'after' WHERE id = 'company-002'"
expect_rows = "= 1"
"#
        ),
    )
    .unwrap();
    let env = Env::with(commands.path(), &repo().join("templates"), db, "").await;
    (env, commands)
}

/// A fresh state database in SQLite, in a temp dir that lives as long as it.
#[allow(dead_code)]
pub async fn sqlite_store() -> (warroom::store::Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = warroom::store::Store::connect(&dir.path().join("s.db").display().to_string())
        .await
        .unwrap();
    (store, dir)
}
