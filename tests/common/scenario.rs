//! One driver for the runbook pack tests: a test is a table of `tests/scenarios/*.toml`,
//! a transcript of actions run in order. An action is a one-line TOML table named by
//! its verb: set-up (`standin`, `dir`, `exec`, `web`, ...), a chat line
//! (`{ as = "U_ONCALL", say = "/kanban-off ...", is = "Done" }`) or an expected effect
//! (stand-in argv `calls`, `sql` → value, `redis_*`, `posts`, `step`, `run_state`, ...).
//! Strings may name `{vars}`: `{today}`, `{db_name}`, `{web_url}`, `{standins}`, each
//! `dir`, `[pack.vars]`, and `{runN.incident}`. The verbs are listed in `act`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sqlx::{Column, Row, TypeInfo};
use toml::{Table, Value};

use super::{kanban_enabled, repo, say, App, Env, Pack, Recorded, RecordingChat, StateDb};
use warroom::incident::clock::ManualClock;

/// A pack's own set-up verb (`{ pm2 = [...] }`): returns false when `action` is not one.
pub type Hook = fn(&World, &Table) -> bool;

/// Tests generated from a list of scenario names, each run from `tests/scenarios/FILE`.
/// Every test also checks that each table of the file is in the list (an unlisted table
/// would never run).
#[allow(unused_macros)]
macro_rules! scenarios {
    ($file:literal, $hook:expr; $($name:ident),* $(,)?) => {
        $crate::common::scenario::scenarios!(@each $file, $hook, [$(stringify!($name)),*]; $($name),*);
    };
    (@each $file:literal, $hook:expr, $listed:tt; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::common::scenario::run($file, stringify!($name), $hook, &$listed).await;
            }
        )*
    };
}
#[allow(unused_imports)]
pub(crate) use scenarios;

/// What a scenario runs against: a pack's services, or only a state database (the
/// shipped or fixture commands on the embedded demo target).
pub struct World {
    pack: Option<Pack>,
    plain: Option<Env>,
    name: String,
    vars: Vec<(String, String)>,
    queries: Table,
    keep: Vec<tempfile::TempDir>,
    app: Option<(App, Arc<RecordingChat>)>,
    cwd: bool,
    memo: HashMap<String, Json>,
    /// How many of the actions are the `[pack] setup` (for naming one in a failure).
    setup: usize,
    /// The manual clock `tick` moves (created at the first tick).
    clock: Option<Arc<ManualClock>>,
}

/// Runs the scenario `name` of `tests/scenarios/file`, whose test file lists `listed`.
pub async fn run(file: &str, name: &str, hook: Option<Hook>, listed: &[&str]) {
    let path = repo().join("tests/scenarios").join(file);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let doc: Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let unlisted: Vec<&String> = doc
        .keys()
        .filter(|k| *k != "pack" && !listed.contains(&k.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "{file}: {unlisted:?} not in its test file's `scenarios!` list"
    );
    let pack = doc["pack"].as_table().expect("[pack]");
    let test = doc
        .get(name)
        .and_then(Value::as_table)
        .unwrap_or_else(|| panic!("{file} has no [{name}]"));
    let targets: Vec<(&str, &str)> = test
        .get("targets")
        .or(pack.get("targets"))
        .and_then(Value::as_table)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), s(v)))
        .collect();
    let mut world = World::new(name, pack);
    match pack.get("fixture") {
        Some(fixture) => world.start(Pack::start(s(fixture), &targets).await),
        None => {
            let db = match pack.get("state").map(s) {
                Some("postgres") => StateDb::Postgres,
                _ => StateDb::Sqlite,
            };
            world.plain = Some(match s(&pack["env"]) {
                "shipped" => Env::shipped(db).await,
                _ => Env::fixtures(db).await,
            });
        }
    }
    let defaults = pack.get("setup").and_then(Value::as_array);
    let script = test.get("script").and_then(Value::as_array);
    for (i, action) in defaults.into_iter().chain(script).flatten().enumerate() {
        let action = action.as_table().expect("an action is a table");
        if !hook.is_some_and(|h| h(&world, action)) {
            world.act(i, action).await;
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn n(v: &Value) -> i64 {
    v.as_integer()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array().expect("a list").iter().map(s).collect()
}

fn owned(v: &Value) -> Vec<String> {
    strs(v).into_iter().map(str::to_string).collect()
}

/// `[start, end)` of a list of `len` by the action's `from`/`to` (negative: from the end).
fn range(a: &Table, len: usize) -> std::ops::Range<usize> {
    let at = |k: &str, d: usize| {
        a.get(k).map_or(d, |v| {
            let i = n(v);
            if i < 0 {
                len.checked_add_signed(i as isize).expect("index in range")
            } else {
                i as usize
            }
        })
    };
    at("from", 0)..at("to", len)
}

fn debug(x: impl std::fmt::Debug) -> String {
    format!("{x:?}")
}

fn to_json(v: &Value) -> Json {
    serde_json::to_value(v).expect("TOML is JSON")
}

impl World {
    fn new(name: &str, spec: &Table) -> World {
        let mut vars = vec![(
            "today".into(),
            chrono::Utc::now().format("%Y%m%d").to_string(),
        )];
        for (k, v) in spec
            .get("vars")
            .and_then(Value::as_table)
            .into_iter()
            .flatten()
        {
            vars.push((k.clone(), s(v).to_string()));
        }
        World {
            pack: None,
            plain: None,
            name: name.into(),
            vars,
            queries: spec
                .get("queries")
                .and_then(Value::as_table)
                .cloned()
                .unwrap_or_default(),
            keep: Vec::new(),
            app: None,
            cwd: spec.get("cwd").and_then(Value::as_bool).unwrap_or(false),
            memo: HashMap::new(),
            setup: spec
                .get("setup")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            clock: None,
        }
    }

    fn start(&mut self, pack: Pack) {
        let db_name = pack.db_url.rsplit('/').next().expect("db name");
        self.vars.extend([
            ("db_name".into(), db_name.to_string()),
            (
                "db2_name".into(),
                pack.db2_url
                    .as_deref()
                    .and_then(|u| u.rsplit('/').next())
                    .unwrap_or("")
                    .to_string(),
            ),
            ("web_url".into(), pack.web.url()),
            ("standins".into(), pack.standins.path()),
        ]);
        self.pack = Some(pack);
    }

    /// The pack's services (a `[pack]` with a `fixture`).
    pub fn pack(&self) -> &Pack {
        self.pack
            .as_ref()
            .expect("this verb needs a [pack] fixture")
    }

    fn pack_mut(&mut self) -> &mut Pack {
        self.pack
            .as_mut()
            .expect("this verb needs a [pack] fixture")
    }

    pub fn env(&self) -> &Env {
        self.plain.as_ref().unwrap_or_else(|| &self.pack().env)
    }

    fn env_mut(&mut self) -> &mut Env {
        match (&mut self.plain, &mut self.pack) {
            (Some(env), _) => env,
            (None, Some(pack)) => &mut pack.env,
            (None, None) => panic!("a world has a pack or an env"),
        }
    }

    fn var(&self, name: &str) -> &str {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {{{name}}}"))
    }

    /// `text` with every `{var}` filled in (`{runN.incident}` from the store).
    pub async fn fill(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        while let Some(at) = out.find("{run") {
            let Some(end) = out[at..].find(".incident}") else {
                break;
            };
            let id: i64 = out[at + 4..at + end].parse().expect("{runN.incident}");
            let run = self.app().await.0.store.run(id).await.unwrap();
            let incident = run.expect("the run exists").incident_id;
            out.replace_range(at..at + end + ".incident}".len(), &incident);
        }
        out
    }

    async fn fill_json(&mut self, v: &Json) -> Json {
        match v {
            Json::String(t) => Json::String(self.fill(t).await),
            Json::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.push(Box::pin(self.fill_json(i)).await);
                }
                Json::Array(out)
            }
            Json::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, i) in map {
                    out.insert(k.clone(), Box::pin(self.fill_json(i)).await);
                }
                Json::Object(out)
            }
            other => other.clone(),
        }
    }

    async fn text(&mut self, a: &Table, key: &str) -> Option<String> {
        match a.get(key) {
            Some(v) => Some(self.fill(s(v)).await),
            None => None,
        }
    }

    async fn texts(&mut self, a: &Table, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for t in a.get(key).map(strs).unwrap_or_default() {
            out.push(self.fill(t).await);
        }
        out
    }

    /// The app (built on first use, after the set-up) and its recording chat.
    pub async fn app(&mut self) -> &(App, Arc<RecordingChat>) {
        if self.app.is_none() {
            self.app = Some(self.env().app().await);
        }
        self.app.as_ref().expect("app")
    }

    fn transcript(&self) -> String {
        self.app
            .as_ref()
            .map(|(_, chat)| chat.transcript())
            .unwrap_or_default()
    }

    /// A stand-in that records its argv (and, in a `cwd` pack, the directory it ran in).
    pub fn standin(&self, name: &str, stdout: &str, code: i32) {
        self.standin_answering(name, stdout, code, &[]);
    }

    fn standin_answering(
        &self,
        name: &str,
        stdout: &str,
        code: i32,
        once: &[(String, i32, String)],
    ) {
        self.pack().standins.add_answering(name, stdout, code, once);
        if !self.cwd {
            return;
        }
        let dir = PathBuf::from(self.pack().standins.path());
        let script = dir.join(name);
        let text = std::fs::read_to_string(&script).expect("stand-in");
        let note = format!(
            "#!/bin/sh\nprintf '%s %s\\n' \"$(basename \"$0\")\" \"$(pwd -P)\" >> '{}'\n",
            dir.join("cwd.log").display()
        );
        std::fs::write(&script, text.replacen("#!/bin/sh\n", &note, 1)).expect("stand-in");
    }

    /// `program directory` per call, with the `{repo}` directory shown as `REPO`.
    fn cwds(&self) -> Vec<String> {
        let log = Path::new(&self.pack().standins.path()).join("cwd.log");
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace(self.var("repo"), "REPO"))
            .collect()
    }

    /// Rows of `sql` (a `[pack.queries]` name or the SQL itself), each a list of columns.
    async fn rows(&mut self, a: &Table, bind: Option<&str>) -> Result<Vec<Vec<Json>>, String> {
        let sql = s(&a["sql"]);
        let sql = self.queries.get(sql).map_or(sql, s).to_string();
        let sql = self.fill(&sql).await;
        // `on = "db2"`: the second database (a drill's staging twin, a new provider).
        let pool = match a.get("on").map(s) {
            Some("db2") => self.pack().pg2().await,
            _ => self.pack().pg().await,
        };
        let mut q = sqlx::query(&sql);
        if let Some(b) = bind {
            q = q.bind(b.to_string());
        }
        let rows = q.fetch_all(&pool).await.map_err(|e| format!("{sql}: {e}"));
        pool.close().await;
        Ok(rows?.iter().map(columns).collect())
    }

    /// Which action `i` is: of the `[pack] setup` or of the test's `script`.
    fn at(&self, i: usize) -> String {
        match i.checked_sub(self.setup) {
            Some(j) => format!("[{}] script action {j}", self.name),
            None => format!("[{}] [pack] setup action {i}", self.name),
        }
    }

    fn fail(&self, i: usize, a: &Table, what: String) -> ! {
        let why = a.get("why").map(s).unwrap_or("");
        panic!(
            "{} `{a}`: {what}\n{why}\n--- transcript ---\n{}",
            self.at(i),
            self.transcript()
        )
    }

    fn check(&self, i: usize, a: &Table, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(i, a, what());
        }
    }

    fn same<T: PartialEq + std::fmt::Debug>(&self, i: usize, a: &Table, got: T, want: T) {
        self.check(i, a, got == want, || {
            format!("got {got:?}, expected {want:?}")
        });
    }

    /// Text checks shared by posts, step outputs and files: `text`, `starts`, `ends`,
    /// `contains`, `lacks`.
    async fn text_checks(&mut self, i: usize, a: &Table, got: &str) {
        if let Some(want) = self.text(a, "text").await {
            self.same(i, a, got, want.as_str());
        }
        if let Some(p) = self.text(a, "starts").await {
            self.check(i, a, got.starts_with(&p), || {
                format!("{got:?} starts with {p:?}")
            });
        }
        if let Some(p) = self.text(a, "ends_trimmed").await {
            let got = got.trim_end();
            self.check(i, a, got.ends_with(&p), || {
                format!("{got:?} ends with {p:?}")
            });
        }
        if let Some(p) = self.text(a, "ends").await {
            self.check(i, a, got.ends_with(&p), || {
                format!("{got:?} ends with {p:?}")
            });
        }
        for p in self.texts(a, "contains").await {
            self.check(i, a, got.contains(&p), || format!("{got:?} contains {p:?}"));
        }
        for p in self.texts(a, "lacks").await {
            self.check(i, a, !got.contains(&p), || format!("{got:?} lacks {p:?}"));
        }
        let any = self.texts(a, "any").await;
        if !any.is_empty() {
            let ok = any.iter().any(|p| got.contains(p.as_str()));
            self.check(i, a, ok, || format!("{got:?} contains one of {any:?}"));
        }
        if let Some(re) = a.get("lines") {
            let re = regex::Regex::new(s(re)).expect("regex");
            let with = a.get("lines_with").map_or("", s);
            let lines: Vec<&str> = got
                .lines()
                .filter(|l| re.is_match(l) && l.contains(with))
                .collect();
            if let Some(end) = a.get("line_any_ends") {
                let ok = lines.iter().any(|l| l.ends_with(s(end)));
                self.check(i, a, ok, || format!("{lines:?}"));
            }
            if let Some(end) = a.get("line_last_ends") {
                let ok = lines.last().is_some_and(|l| l.ends_with(s(end)));
                self.check(i, a, ok, || format!("{lines:?}"));
            }
            if let Some(c) = a.get("line_count") {
                self.same(i, a, lines.len() as i64, n(c));
            }
            for (l, end) in lines
                .iter()
                .zip(strs(a.get("line_ends").unwrap_or(&Value::Array(vec![]))))
            {
                self.check(i, a, l.ends_with(end), || {
                    format!("{l:?} ends with {end:?}")
                });
            }
        }
        let order = self.texts(a, "order").await;
        let at: Vec<Option<usize>> = order.iter().map(|p| got.find(p.as_str())).collect();
        let ok = at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]);
        self.check(i, a, ok, || format!("{got:?} has {order:?} in this order"));
    }

    async fn act(&mut self, i: usize, a: &Table) {
        let verb = VERBS
            .iter()
            .find(|v| a.contains_key(**v))
            .unwrap_or_else(|| panic!("{} `{a}` has no verb", self.at(i)))
            .to_string();
        let unknown: Vec<&String> = a
            .keys()
            .filter(|k| !VERBS.contains(&k.as_str()) && !DETAILS.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            panic!("{} `{a}`: unknown {unknown:?}", self.at(i));
        }
        match verb.as_str() {
            "say" => self.say(i, a).await,
            "dir" => {
                let mut b = tempfile::Builder::new();
                let prefix = a.get("prefix").map(s).unwrap_or(".tmp");
                let dir = b.prefix(prefix).tempdir().expect("temp dir");
                for sub in a.get("subdirs").map(strs).unwrap_or_default() {
                    std::fs::create_dir_all(dir.path().join(sub)).expect("subdir");
                }
                let mut path = dir.path().to_path_buf();
                if a.get("canonical").and_then(Value::as_bool) == Some(true) {
                    path = std::fs::canonicalize(&path).expect("canonical");
                }
                let real = std::fs::canonicalize(&path).expect("canonical");
                let name = s(&a["dir"]).to_string();
                self.vars.push((name.clone(), path.display().to_string()));
                self.vars
                    .push((format!("{name}.real"), real.display().to_string()));
                if let Some(var) = a.get("var") {
                    self.pack_mut().var(s(var), &path.display().to_string());
                }
                self.keep.push(dir);
            }
            "var" => {
                let value = self.text(a, "value").await.expect("value");
                match a.get("drill").map(s) {
                    // `drill = "pfa-rollback"`: a var of that drill (its staging checkout).
                    Some(drill) => {
                        let d = self
                            .pack_mut()
                            .env
                            .settings
                            .file
                            .drills
                            .get_mut(drill)
                            .unwrap_or_else(|| panic!("no drill {drill} in warroom.toml"));
                        // `var = "@run"`: the line it rehearses (a shorter settle).
                        match s(&a["var"]) {
                            "@run" => d.run = value,
                            var => {
                                d.vars.insert(var.to_string(), value);
                            }
                        }
                    }
                    None => self.pack_mut().var(s(&a["var"]), &value),
                }
            }
            "standin" => {
                let stdout = self.text(a, "stdout").await.unwrap_or_default();
                let code = a.get("code").map_or(0, n) as i32;
                // `once = [["db:health-check", 1, "ECONNREFUSED"]]`: the first call
                // with that argument answers so; later ones as usual.
                let once: Vec<(String, i32, String)> = a
                    .get("once")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|x| {
                                let x = x.as_array().expect("[word, code, stdout]");
                                (s(&x[0]).to_string(), n(&x[1]) as i32, s(&x[2]).to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.standin_answering(s(&a["standin"]), &stdout, code, &once);
            }
            "sleeper" => {
                self.pack()
                    .standins
                    .add_sleeper(s(&a["sleeper"]), n(&a["seconds"]) as u32);
            }
            "script" => {
                let path = self.text(a, "script").await.expect("path");
                let body = self.text(a, "body").await.expect("body");
                self.pack().standins.script_at(Path::new(&path), &body);
            }
            "web" => {
                let (method, path) = s(&a["web"]).split_once(' ').expect("METHOD /path");
                let answers = match a.get("answers") {
                    Some(list) => list.as_array().expect("answers").clone(),
                    None => vec![Value::Array(vec![a["status"].clone(), a["body"].clone()])],
                };
                let answers = answers
                    .iter()
                    .map(|x| {
                        let x = x.as_array().expect("[status, body]");
                        (n(&x[0]) as u16, to_json(&x[1]))
                    })
                    .collect();
                self.pack().web.sequence(method, path, answers);
            }
            "exec" => {
                let pool = match a.get("on").map(s) {
                    Some("db2") => self.pack().pg2().await,
                    _ => self.pack().pg().await,
                };
                sqlx::raw_sql(s(&a["exec"]))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| self.fail(i, a, e.to_string()));
                pool.close().await;
            }
            "patch" => {
                let dir =
                    self.pack_mut()
                        .patch_commands(s(&a["patch"]), s(&a["from"]), s(&a["to"]));
                self.keep.push(dir);
            }
            "commands" => self.commands(a),
            "redis_set" => {
                let _: () = redis::cmd("SET")
                    .arg(s(&a["redis_set"]))
                    .arg(s(&a["value"]))
                    .query_async(&mut self.pack().redis().await)
                    .await
                    .expect("SET");
            }
            "write" => {
                let path = self.text(a, "write").await.expect("path");
                std::fs::write(&path, s(&a["text"])).expect("write file");
                if let Some(when) = a.get("mtime") {
                    let touched = std::process::Command::new("touch")
                        .args(["-d", s(when)])
                        .arg(&path)
                        .status()
                        .expect("touch");
                    assert!(touched.success());
                }
            }
            "dump" => {
                let path = self.text(a, "dump").await.expect("path");
                // `format = "custom"`: a pg_dump archive (what pg_restore -t reads).
                let custom = a.get("format").map(s) == Some("custom");
                let out = std::process::Command::new("pg_dump")
                    .args(if custom {
                        &["-Fc"][..]
                    } else {
                        &["--clean", "--if-exists"][..]
                    })
                    .args(["--no-owner", "-f", &path])
                    .args(["-d", &self.pack().db_url])
                    .output()
                    .expect("pg_dump runs");
                assert!(out.status.success(), "{out:?}");
            }
            "sleep_ms" => tokio::time::sleep(Duration::from_millis(n(&a["sleep_ms"]) as u64)).await,
            _ => self.expect(i, a, &verb).await,
        }
    }

    /// A copy of the named files of `commands/`, side by side, with one edit.
    fn commands(&mut self, a: &Table) {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in strs(&a["commands"]) {
            let from = repo().join("commands").join(file);
            let to = dir.path().join(from.file_name().expect("file name"));
            let mut text = std::fs::read_to_string(&from).expect("command file");
            if a.get("edit").map(s) == Some(file) {
                let (old, new) = (s(&a["from"]), s(&a["to"]));
                assert!(text.contains(old), "{file} has no `{old}`");
                text = text.replacen(old, new, 1);
            }
            std::fs::write(to, text).expect("write command file");
        }
        self.env_mut().settings.file.warroom.commands_dir = dir.path().display().to_string();
        self.keep.push(dir);
    }

    /// `say` as `as` (each of `each`, filling `{}` or `{0}`, `{1}`), expecting `is`,
    /// `is_not` or one of `is_any`, within `within_ms`.
    async fn say(&mut self, i: usize, a: &Table) {
        let items: Vec<Vec<String>> = match a.get("each") {
            None => vec![vec![]],
            Some(list) => list
                .as_array()
                .expect("each")
                .iter()
                .map(|v| match v {
                    Value::Array(xs) => xs.iter().map(|x| s(x).to_string()).collect(),
                    x => vec![s(x).to_string()],
                })
                .collect(),
        };
        for item in items {
            let mut user = s(&a["as"]).to_string();
            let mut line = s(&a["say"]).to_string();
            for (k, v) in item.iter().enumerate() {
                user = user.replace(&format!("{{{k}}}"), v);
                line = line.replace(&format!("{{{k}}}"), v);
            }
            if let [only] = item.as_slice() {
                user = user.replace("{}", only);
                line = line.replace("{}", only);
            }
            let line = self.fill(&line).await;
            if a.contains_key("reply") {
                self.app().await.1.clear();
            }
            self.app().await;
            let started = Instant::now();
            let got = debug(say(&self.app().await.0, &user, &line).await);
            let took = started.elapsed();
            let ctx = || format!("{user}: {line}");
            if let Some(want) = a.get("is") {
                self.check(i, a, got == s(want), || format!("{}: got {got}", ctx()));
            }
            if let Some(not) = a.get("is_not") {
                self.check(i, a, got != s(not), || format!("{}: got {got}", ctx()));
            }
            if let Some(any) = a.get("is_any") {
                let ok = strs(any).contains(&got.as_str());
                self.check(i, a, ok, || format!("{}: got {got}", ctx()));
            }
            if let Some(reply) = self.text(a, "reply").await {
                let posts = self.app().await.1.posts();
                let ok = posts.len() == 1 && posts[0].text().contains(&reply);
                self.check(i, a, ok, || {
                    format!("{}: one reply saying {reply:?}", ctx())
                });
            }
            if let Some(ms) = a.get("within_ms") {
                let ok = took < Duration::from_millis(n(ms) as u64);
                self.check(i, a, ok, || format!("{}: took {took:?}", ctx()));
            }
        }
    }

    async fn expect(&mut self, i: usize, a: &Table, verb: &str) {
        let run = a.get("run").map_or(1, n);
        match verb {
            "calls" | "calls_of" => {
                let calls = match a.get("calls_of") {
                    Some(p) => self.pack().standins.calls_of(s(p)),
                    None => self.pack().standins.calls(),
                };
                if let Some(count) = a.get("count") {
                    self.same(i, a, calls.len() as i64, n(count));
                }
                let Some(want) = a.get("calls").or(a.get("is")) else {
                    return;
                };
                let mut expected = Vec::new();
                for c in want.as_array().expect("calls") {
                    let mut argv = Vec::new();
                    for x in strs(c) {
                        argv.push(self.fill(x).await);
                    }
                    expected.push(argv);
                }
                if a.get("prefix").and_then(Value::as_bool) == Some(true) {
                    let cut: Vec<Vec<String>> = calls
                        .iter()
                        .zip(&expected)
                        .map(|(c, e)| c[..e.len().min(c.len())].to_vec())
                        .collect();
                    self.same(i, a, calls.len(), expected.len());
                    self.same(i, a, cut, expected);
                } else {
                    let r = range(a, calls.len());
                    self.same(i, a, calls[r].to_vec(), expected);
                }
            }
            "calls_count" => {
                self.same(i, a, self.pack().standins.calls().len() as i64, n(&a[verb]))
            }
            "remember_calls" => {
                let len = self.pack().standins.calls().len();
                self.memo.insert(s(&a[verb]).into(), Json::from(len));
            }
            "calls_count_as" => {
                let len = Json::from(self.pack().standins.calls().len());
                self.same(i, a, len, self.memo[s(&a[verb])].clone());
            }
            "arg" => {
                let calls = self.pack().standins.calls_of(s(&a["of"]));
                let call = &calls[a.get("call").map_or(0, n) as usize];
                let arg = call[n(&a[verb]) as usize].as_str();
                if let Some(re) = a.get("matches") {
                    let re = regex::Regex::new(s(re)).expect("regex");
                    self.check(i, a, re.is_match(arg), || arg.to_string());
                }
                if let Some(at) = a.get("dated") {
                    let at: Vec<usize> = at
                        .as_array()
                        .expect("[from, to]")
                        .iter()
                        .map(|x| n(x) as usize)
                        .collect();
                    let now = chrono::Utc::now().format("%Y%m%d").to_string();
                    let day = &arg[at[0]..at[1]];
                    let ok = day == self.var("today") || day == now;
                    self.check(i, a, ok, || format!("{arg} is dated today (UTC)"));
                }
            }
            "cwds" => {
                let got = self.cwds();
                let r = range(a, got.len());
                self.same(i, a, got[r].to_vec(), owned(&a[verb]));
            }
            "web_paths" => self.same(i, a, self.pack().web.paths(), owned(&a[verb])),
            "web_has" => {
                let paths = self.pack().web.paths();
                let want = s(&a[verb]).to_string();
                self.check(i, a, paths.contains(&want), || format!("{paths:?}"));
            }
            "web_count" => {
                let path = s(&a[verb]);
                let count = self
                    .pack()
                    .web
                    .paths()
                    .iter()
                    .filter(|p| *p == path)
                    .count();
                self.same(i, a, count as i64, n(&a["is"]));
            }
            "requests_to" => {
                let path = s(&a[verb]);
                let hits: Vec<_> = self
                    .pack()
                    .web
                    .requests()
                    .into_iter()
                    .filter(|r| r.path == path)
                    .collect();
                self.same(i, a, hits.len() as i64, n(&a["count"]));
                if let Some(auth) = a.get("auth").map(s) {
                    let ok = hits
                        .iter()
                        .all(|r| r.authorization.as_deref() == Some(auth));
                    self.check(i, a, ok, || format!("{hits:?}"));
                }
            }
            "request" => {
                let requests = self.pack().web.requests();
                if let Some(total) = a.get("total") {
                    self.same(i, a, requests.len() as i64, n(total));
                }
                let r = &requests[n(&a[verb]) as usize];
                if let Some(path) = a.get("path") {
                    self.same(i, a, r.path.as_str(), s(path));
                }
                if let Some(auth) = a.get("auth") {
                    self.same(i, a, r.authorization.as_deref(), Some(s(auth)));
                }
                if let Some(body) = a.get("json") {
                    let got: Json = serde_json::from_str(&r.body).expect("JSON body");
                    self.same(i, a, got, to_json(body));
                }
            }
            "requests_auth" => {
                let requests = self.pack().web.requests();
                let auth = Some(s(&a[verb]));
                self.check(
                    i,
                    a,
                    requests.iter().all(|r| r.authorization.as_deref() == auth),
                    || format!("{requests:?}"),
                );
            }
            "steps" | "step" | "steps_from" | "states" | "steps_in" => {
                self.steps(i, a, verb, run).await
            }
            "run_state" => {
                let got = self
                    .app()
                    .await
                    .0
                    .store
                    .run(run)
                    .await
                    .unwrap()
                    .expect("the run");
                self.same(i, a, debug(got.state), s(&a[verb]).to_string());
                if let Some(detail) = a.get("detail") {
                    self.same(i, a, got.detail.as_deref(), Some(s(detail)));
                }
            }
            "kanban" => {
                self.app().await; // the app seeds the demo database
                let got = kanban_enabled(self.env()).await;
                self.same(i, a, got, n(&a[verb]));
            }
            "clear" => self.app().await.1.clear(),
            "post_count" => {
                let got = self.app().await.1.posts().len() as i64;
                self.same(i, a, got, n(&a[verb]));
            }
            "close_store" => self.app().await.0.store.close().await,
            "tick" => {
                // The application's heartbeat on a manual clock that starts now and
                // moves only by `tick` (as tests/lifecycle.rs drives the clocks).
                let by =
                    warroom::model::duration::parse_duration(s(&a[verb])).expect("tick = \"16m\"");
                let clock = self
                    .clock
                    .get_or_insert_with(|| Arc::new(ManualClock::new(chrono::Utc::now())))
                    .clone();
                clock.advance(by);
                let app = &self.app().await.0;
                warroom::app::ticker::tick(app, clock.as_ref())
                    .await
                    .expect("tick");
            }
            "export" => {
                let id = self.fill(s(&a[verb])).await;
                let store = &self.app().await.0.store;
                let got =
                    warroom::export::export(store, &id, warroom::export::Format::Markdown, |_| {
                        None
                    })
                    .await
                    .unwrap_or_else(|e| panic!("export {id}: {e}"));
                self.text_checks(i, a, &got).await;
            }
            "recorded" | "recorded_count" | "recorded_all" => {
                let got = self.app().await.0.store.commands().await.unwrap();
                if let Some(c) = a.get("recorded_count") {
                    self.same(i, a, got.len() as i64, n(c));
                }
                if let Some(o) = a.get("recorded_all") {
                    let ok = got.iter().all(|(_, outcome, _)| outcome == s(o));
                    self.check(i, a, ok, || format!("{got:?}"));
                }
                if let Some(want) = a.get("recorded") {
                    let pairs: Vec<(&str, &str)> = got
                        .iter()
                        .map(|(t, o, _)| (t.as_str(), o.as_str()))
                        .collect();
                    let want: Vec<Vec<&str>> =
                        want.as_array().expect("rows").iter().map(strs).collect();
                    let want: Vec<(&str, &str)> = want.iter().map(|r| (r[0], r[1])).collect();
                    self.same(i, a, pairs, want);
                }
                if let Some(p) = a.get("detail_of_post") {
                    let post = self.app().await.1.posts()[n(p) as usize].text().to_string();
                    let details: Vec<Option<&str>> = got.iter().map(|c| c.2.as_deref()).collect();
                    self.same(i, a, details, vec![Some(post.as_str())]);
                }
            }
            "timeline_has"
            | "timeline_kinds"
            | "timeline_kinds_include"
            | "roles"
            | "action_item" => self.incident_records(i, a, verb).await,
            "no_run" => {
                let got = self.app().await.0.store.run(n(&a[verb])).await.unwrap();
                self.check(i, a, got.is_none(), || format!("{got:?}"));
            }
            "same_incident" => {
                let ids = a[verb].as_array().expect("runs");
                let first = self.fill(&format!("{{run{}.incident}}", n(&ids[0]))).await;
                let second = self.fill(&format!("{{run{}.incident}}", n(&ids[1]))).await;
                self.same(i, a, first, second);
            }
            "incident" | "open_incident" => {
                let id = match a.get("incident") {
                    Some(Value::String(id)) => Some(self.fill(id).await),
                    _ => None,
                };
                let store = &self.app().await.0.store;
                let found = if verb == "open_incident" {
                    store.open_incident(s(&a[verb])).await.unwrap()
                } else if let Some(id) = id {
                    store.incident(&id).await.unwrap()
                } else {
                    let id = store
                        .run(n(&a[verb]))
                        .await
                        .unwrap()
                        .expect("the run")
                        .incident_id;
                    store.incident(&id).await.unwrap()
                };
                if a.get("none").and_then(Value::as_bool) == Some(true) {
                    return self.check(i, a, found.is_none(), || format!("{found:?}"));
                }
                let found = found.expect("the incident");
                let timers = store.timers(&found.id).await.unwrap();
                if let Some(status) = a.get("status") {
                    self.same(i, a, found.status.as_str(), s(status));
                }
                if let Some(severity) = a.get("severity") {
                    self.same(i, a, found.severity.as_str(), s(severity));
                }
                let (starts, ends) = (
                    a.get("id_starts").map_or("", s),
                    a.get("id_ends").map_or("", s),
                );
                let ok = found.id.starts_with(starts) && found.id.ends_with(ends);
                self.check(i, a, ok, || found.id.clone());
                if let Some(m) = a.get("mitigated") {
                    self.same(
                        i,
                        a,
                        found.mitigated_at.is_some(),
                        m.as_bool() == Some(true),
                    );
                }
                if a.get("timers_done").and_then(Value::as_bool) == Some(true) {
                    let ok = timers
                        .iter()
                        .all(|(_, _, fired, cancelled)| *fired || *cancelled);
                    self.check(i, a, ok, || format!("every clock stopped: {timers:?}"));
                }
                let kinds: Vec<&str> = timers.iter().map(|t| t.0.as_str()).collect();
                for k in a.get("timers_include").map(strs).unwrap_or_default() {
                    self.check(i, a, kinds.contains(&k), || {
                        format!("{k} missing from {kinds:?}")
                    });
                }
                if let Some(name) = a.get("timer") {
                    let at = timers.iter().find(|t| t.0 == s(name)).expect("the timer").1;
                    let minutes = (at - found.detected_at).num_minutes();
                    self.same(i, a, minutes, n(&a["minutes"]));
                }
            }
            "posts" => self.posts(i, a).await,
            "transcript" => {
                let got = self.transcript();
                self.text_checks(i, a, &got).await;
            }
            "sql" => self.sql(i, a).await,
            "table" => {
                let name = s(&a[verb]);
                let pool = self.pack().pg().await;
                let found: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(name)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                self.same(i, a, found, a["exists"].as_bool().expect("exists"));
            }
            "redis_keys" => {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg("*")
                    .query_async(&mut self.pack().redis().await)
                    .await
                    .unwrap();
                self.same(i, a, keys, owned(&a[verb]));
            }
            "redis_get" => {
                let got: Option<String> = redis::cmd("GET")
                    .arg(s(&a[verb]))
                    .query_async(&mut self.pack().redis().await)
                    .await
                    .unwrap();
                self.same(i, a, got.as_deref(), Some(s(&a["is"])));
            }
            "redis_ttl" => {
                let ttl: i64 = redis::cmd("TTL")
                    .arg(s(&a[verb]))
                    .query_async(&mut self.pack().redis().await)
                    .await
                    .unwrap();
                self.check(i, a, (n(&a["min"])..=n(&a["max"])).contains(&ttl), || {
                    format!("ttl {ttl}")
                });
            }
            "file" => {
                let path = self.text(a, verb).await.expect("path");
                let got = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| self.fail(i, a, e.to_string()));
                self.text_checks(i, a, &got).await;
            }
            "same_mtime" => {
                let paths = self.texts(a, verb).await;
                let mtime = |p: &str| std::fs::metadata(p).unwrap().modified().unwrap();
                self.same(i, a, mtime(&paths[0]), mtime(&paths[1]));
            }
            "dir_count" => {
                let path = self.text(a, verb).await.expect("path");
                let count = std::fs::read_dir(path).unwrap().count();
                self.same(i, a, count as i64, n(&a["is"]));
            }
            "first_file_in" => {
                let path = self.text(a, verb).await.expect("path");
                let file = std::fs::read_dir(path)
                    .unwrap()
                    .next()
                    .expect("a file")
                    .unwrap()
                    .path();
                let name = file.file_name().unwrap().to_string_lossy().to_string();
                let starts = a.get("name_starts").map_or("", s);
                let ends = a.get("name_ends").map_or("", s);
                self.check(
                    i,
                    a,
                    name.starts_with(starts) && name.ends_with(ends),
                    || name.clone(),
                );
                let got = std::fs::read_to_string(&file).unwrap();
                self.text_checks(i, a, &got).await;
            }
            other => self.fail(i, a, format!("unknown verb {other}")),
        }
    }

    async fn steps(&mut self, i: usize, a: &Table, verb: &str, run: i64) {
        let steps: Vec<Step> = self
            .app()
            .await
            .0
            .store
            .steps(run)
            .await
            .unwrap()
            .into_iter()
            .map(|st| Step {
                timed: st.duration_ms().is_some(),
                state: debug(st.state),
                name: st.name,
                output: st.output,
            })
            .collect();
        let state = |st: &Step| st.state.clone();
        match verb {
            "steps" => {
                if let Some(count) = a[verb].as_integer() {
                    self.same(i, a, steps.len() as i64, count);
                }
                if let Some(want) = a.get("all") {
                    let ok = steps.iter().all(|st| state(st) == s(want));
                    self.check(i, a, ok, || format!("{steps:?}"));
                }
                if a.get("timed").and_then(Value::as_bool) == Some(true) {
                    let ok = steps.iter().all(|st| st.timed);
                    self.check(i, a, ok, || format!("{steps:?}"));
                }
            }
            "states" => {
                if let Some(names) = a.get("names") {
                    let got: Vec<&str> = steps.iter().map(|st| st.name.as_str()).collect();
                    self.same(i, a, got, strs(names));
                }
                let got: Vec<String> = steps.iter().map(state).collect();
                self.same(i, a, got, owned(&a[verb]));
            }
            "steps_from" => {
                let from = n(&a[verb]) as usize;
                let ok = steps[from..].iter().all(|st| {
                    a.get("state").is_none_or(|w| state(st) == s(w))
                        && a.get("output")
                            .is_none_or(|w| st.output.as_deref() == Some(s(w)))
                });
                self.check(i, a, ok, || format!("{steps:?}"));
            }
            "steps_in" => {
                let picked: Vec<_> = steps.iter().filter(|st| state(st) == s(&a[verb])).collect();
                self.same(i, a, picked.len() as i64, n(&a["count"]));
                let starts = a.get("names_start").map(strs).unwrap_or_default();
                let ok = picked
                    .iter()
                    .all(|st| starts.iter().any(|p| st.name.starts_with(p)));
                self.check(i, a, ok, || format!("{picked:?}"));
                if let Some(out) = a.get("first_output") {
                    self.same(i, a, picked[0].output.as_deref(), Some(s(out)));
                }
            }
            _ => {
                let st = &steps[n(&a[verb]) as usize];
                if let Some(name) = a.get("name") {
                    self.same(i, a, st.name.as_str(), s(name));
                }
                if let Some(want) = a.get("state") {
                    self.same(i, a, state(st), s(want).to_string());
                }
                if let Some(out) = self.text(a, "output").await {
                    self.same(i, a, st.output.as_deref(), Some(out.as_str()));
                }
                let output = st.output.clone();
                if ["starts", "ends", "contains", "lacks", "text"]
                    .iter()
                    .any(|k| a.contains_key(*k))
                {
                    let got = output.unwrap_or_else(|| self.fail(i, a, "no output".into()));
                    self.text_checks(i, a, &got).await;
                }
            }
        }
    }

    /// The open incident's timeline, roles and action items.
    async fn incident_records(&mut self, i: usize, a: &Table, verb: &str) {
        let store = &self.app().await.0.store;
        let incident = store
            .open_incident("C_INC")
            .await
            .unwrap()
            .expect("an open incident");
        let timeline = store.timeline(&incident.id).await.unwrap();
        let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
        match verb {
            "timeline_has" => {
                let actor = a.get("actor").map(s);
                let ok = timeline.iter().any(|e| {
                    e.text == s(&a[verb]) && actor.is_none_or(|w| e.actor.as_deref() == Some(w))
                });
                self.check(i, a, ok, || format!("{timeline:?}"));
            }
            "timeline_kinds" => self.same(i, a, kinds, strs(&a[verb])),
            "timeline_kinds_include" => {
                let ok = strs(&a[verb]).iter().all(|k| kinds.contains(k));
                self.check(i, a, ok, || format!("{kinds:?}"));
            }
            "roles" => {
                let got = store.incident_roles(&incident.id).await.unwrap();
                let want: Vec<(String, String)> = a[verb]
                    .as_array()
                    .expect("rows")
                    .iter()
                    .map(|r| (s(&r[0]).to_string(), s(&r[1]).to_string()))
                    .collect();
                self.same(i, a, got, want);
            }
            _ => {
                let items = store.action_items(&incident.id).await.unwrap();
                let item = &items[n(&a[verb]) as usize];
                let got = (
                    item.text.as_str(),
                    item.owner.as_deref(),
                    item.due.as_deref(),
                );
                let want = strs(&a["is"]);
                self.same(i, a, got, (want[0], Some(want[1]), Some(want[2])));
            }
        }
    }

    /// Posts of `kind` (`channel`, `with` a text), then `count`, and text checks on the
    /// one at `index` (negative: from the end), or on `every` one of them.
    async fn posts(&mut self, i: usize, a: &Table) {
        let chat = self.app().await.1.clone();
        let with = self.text(a, "with").await;
        let picked: Vec<Recorded> = chat
            .posts()
            .into_iter()
            .filter(|p| s(&a["posts"]) == "*" || debug(p.post.kind) == s(&a["posts"]))
            .filter(|p| a.get("channel").is_none_or(|c| p.post.channel == s(c)))
            .filter(|p| with.as_ref().is_none_or(|w| p.text().contains(w.as_str())))
            .collect();
        if let Some(count) = a.get("count") {
            self.same(i, a, picked.len() as i64, n(count));
        }
        let every = a.get("every").and_then(Value::as_bool) == Some(true);
        let chosen: Vec<&Recorded> = if every {
            picked.iter().collect()
        } else if !a.contains_key("index") && a.keys().all(|k| POST_PICKS.contains(&k.as_str())) {
            Vec::new() // only a `count`: no post to check
        } else {
            let r = range(
                &Table::from_iter([(
                    "from".to_string(),
                    a.get("index").cloned().unwrap_or(Value::Integer(0)),
                )]),
                picked.len(),
            );
            let post = picked
                .get(r.start)
                .unwrap_or_else(|| self.fail(i, a, "no such post".into()));
            vec![post]
        };
        for post in chosen {
            // `version`: the text as first posted (0), after its first edit (1), ...;
            // negative from the newest. Without it, the text as it reads now.
            let text = match a.get("version").map(n) {
                None => post.text().to_string(),
                Some(v) => {
                    let all: Vec<&String> = std::iter::once(&post.post.text)
                        .chain(&post.edits)
                        .collect();
                    let at = if v < 0 { all.len() as i64 + v } else { v };
                    all.get(at as usize)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| self.fail(i, a, format!("{} versions", all.len())))
                }
            };
            self.text_checks(i, a, &text).await;
            if let Some(e) = a.get("ephemeral") {
                self.same(
                    i,
                    a,
                    post.post.ephemeral_to.is_some(),
                    e.as_bool() == Some(true),
                );
            }
            if let Some(b) = a.get("buttons") {
                let got: Vec<&str> = post
                    .post
                    .buttons
                    .iter()
                    .map(|b| b.command.as_str())
                    .collect();
                self.same(i, a, got, strs(b));
            }
            if let Some(b) = a.get("first_button") {
                self.same(i, a, post.post.buttons[0].command.as_str(), s(b));
            }
            if let Some(c) = a.get("in") {
                self.same(i, a, post.post.channel.as_str(), s(c));
            }
            if let Some(b) = a.get("button_count") {
                self.same(i, a, post.post.buttons.len() as i64, n(b));
            }
            if let Some(e) = a.get("edits_at_least") {
                let ok = post.edits.len() as i64 >= n(e);
                self.check(i, a, ok, || format!("{} edits", post.edits.len()));
            }
            if let Some(m) = a.get("mentions") {
                self.same(i, a, post.post.mentions.clone(), owned(m));
            }
        }
    }

    /// `sql` → `is` (one row: a value, or a list of its columns), `rows` (one value a
    /// row), `fails`; `bind` or `bind_each`; JSON `pointers` and `strings` on `rows`.
    async fn sql(&mut self, i: usize, a: &Table) {
        let binds: Vec<Option<String>> = match a.get("bind_each") {
            Some(list) => strs(list)
                .into_iter()
                .map(|b| Some(b.to_string()))
                .collect(),
            None => vec![a.get("bind").map(|b| s(b).to_string())],
        };
        for bind in binds {
            let rows = self.rows(a, bind.as_deref()).await;
            if a.get("fails").and_then(Value::as_bool) == Some(true) {
                self.check(i, a, rows.is_err(), || format!("{rows:?}"));
                continue;
            }
            let rows = rows.unwrap_or_else(|e| self.fail(i, a, e));
            let flat: Vec<Json> = rows
                .iter()
                .map(|r| {
                    if r.len() == 1 {
                        r[0].clone()
                    } else {
                        Json::Array(r.clone())
                    }
                })
                .collect();
            if let Some(count) = a.get("count") {
                self.same(i, a, flat.len() as i64, n(count));
            }
            if let Some(want) = a.get("is") {
                let want = self.fill_json(&to_json(want)).await;
                self.same(i, a, flat.len(), 1);
                self.same(i, a, &flat[0], &want);
            }
            if let Some(want) = a.get("rows") {
                let want = self.fill_json(&to_json(want)).await;
                self.same(i, a, Json::Array(flat.clone()), want);
            }
            if let Some(name) = a.get("remember") {
                self.memo.insert(s(name).into(), Json::Array(flat.clone()));
            }
            if let Some(name) = a.get("same_as") {
                self.same(i, a, Json::Array(flat.clone()), self.memo[s(name)].clone());
            }
            let all = Json::Array(flat);
            for (ptr, want) in a
                .get("pointers")
                .and_then(Value::as_table)
                .into_iter()
                .flatten()
            {
                let want = self.fill_json(&to_json(want)).await;
                self.same(i, a, all.pointer(ptr), Some(&want));
            }
            for ptr in a.get("strings").map(strs).unwrap_or_default() {
                self.check(i, a, all.pointer(ptr).is_some_and(Json::is_string), || {
                    format!("{ptr} in {all}")
                });
            }
        }
    }
}

/// A step of a run, as the checks see it.
#[derive(Debug)]
struct Step {
    name: String,
    state: String,
    output: Option<String>,
    timed: bool,
}

/// The words that name what an action does; every other key is a detail of it.
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "say", "dir", "var", "standin", "sleeper", "script", "web", "exec", "patch", "commands",
    "redis_set", "write", "dump", "sleep_ms", "calls", "calls_of", "calls_count", "arg",
    "remember_calls", "calls_count_as", "cwds", "web_paths", "web_has", "web_count", "requests_to",
    "request", "requests_auth", "steps", "step", "steps_from", "states", "steps_in",
    "run_state", "no_run", "same_incident", "incident", "open_incident", "posts",
    "transcript", "sql", "table", "redis_keys", "redis_get", "redis_ttl", "file",
    "same_mtime", "dir_count", "first_file_in", "kanban", "clear", "post_count", "close_store",
    "recorded", "recorded_count", "recorded_all", "timeline_has", "timeline_kinds",
    "timeline_kinds_include", "roles", "action_item", "tick", "export",
];

/// The details of `posts` that pick posts rather than check one.
const POST_PICKS: &[&str] = &["posts", "channel", "with", "count", "why"];

/// The details an action may give beside its verb; any other key is a mistake.
#[rustfmt::skip]
const DETAILS: &[&str] = &[
    "actor", "all", "answers", "any", "as", "auth", "bind", "bind_each", "body", "button_count",
    "buttons", "call", "canonical", "channel", "code", "contains", "count", "dated", "detail",
    "detail_of_post", "drill", "each", "edit", "edits_at_least", "ends", "ends_trimmed", "ephemeral",
    "every", "exists", "fails", "first_button", "format", "first_output", "from", "id_ends", "id_starts",
    "in", "index", "is", "is_any", "is_not", "json", "lacks", "line_any_ends", "line_count",
    "line_ends", "line_last_ends", "lines", "lines_with", "matches", "max", "mentions", "min",
    "minutes", "mitigated", "mtime", "name", "name_ends", "name_starts", "names", "names_start",
    "none", "of", "on", "once", "order", "output", "path", "pointers", "prefix", "remember", "reply", "rows",
    "run", "same_as", "seconds", "severity", "starts", "state", "status", "stdout", "strings",
    "subdirs", "text", "timed", "timer", "timers_done", "timers_include", "to", "total", "value", "version", "why",
    "with", "within_ms",
];

/// A row's columns as JSON, by their PostgreSQL type.
fn columns(row: &sqlx::postgres::PgRow) -> Vec<Json> {
    (0..row.columns().len())
        .map(|c| {
            let ty = row.column(c).type_info().name().to_string();
            let got = match ty.as_str() {
                "INT2" => row.try_get::<Option<i16>, _>(c).map(|v| v.map(Json::from)),
                "INT4" => row.try_get::<Option<i32>, _>(c).map(|v| v.map(Json::from)),
                "INT8" => row.try_get::<Option<i64>, _>(c).map(|v| v.map(Json::from)),
                "BOOL" => row.try_get::<Option<bool>, _>(c).map(|v| v.map(Json::from)),
                "JSON" | "JSONB" => row.try_get::<Option<Json>, _>(c),
                _ => row
                    .try_get::<Option<String>, _>(c)
                    .map(|v| v.map(Json::from)),
            };
            got.unwrap_or_else(|e| panic!("column {c} ({ty}): {e}"))
                .unwrap_or(Json::Null)
        })
        .collect()
}
