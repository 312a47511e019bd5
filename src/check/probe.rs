//! `warroom check --probe`: tries what each runbook would reach, against the
//! configured targets, without changing anything, so a fictional subcommand or a
//! renamed column is found before an incident does (issue 13).
//!
//! - A program is run as `PROGRAM <its literal subcommand words> --help` (no
//!   arguments from chat, no placeholders), with the runbooks' cleared environment and
//!   a 10-second limit: a real CLI refuses an unknown subcommand even under `--help`
//!   (clap, commander, the vercel `arg` parser). A program not installed here is
//!   noted, not failed.
//! - Each SQL statement is checked inside a transaction that is rolled back:
//!   `EXPLAIN` for a query or DML without parameters, the server's own prepare (parse
//!   and analyse, no execution) for one with `$n` parameters. DDL is not executed
//!   (it would take its locks); it is noted.
//! - Each `GET` path is requested; any other method changes things and is noted.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::Executor;

use crate::actions::target::{HttpTarget, SqlTarget};
use crate::command::catalog::{Catalog, Problem};
use crate::config::Settings;
use crate::runbook::step::Action;

/// What one probe found: problems (as `check` reports them) and notes on what was
/// not probed.
#[derive(Debug, Default)]
pub struct Probed {
    pub problems: Vec<Problem>,
    pub notes: Vec<String>,
    pub ok: usize,
}

/// Probes every runbook of the catalog at `settings`.
pub async fn probe(settings: &Settings) -> Probed {
    let mut out = Probed::default();
    let (catalog, problems) = Catalog::load(&settings.commands_dir(), crate::app::handlers::NAMES);
    out.problems.extend(problems);
    let Some(catalog) = catalog.map(|c| c.with_vars(&settings.file.vars)) else {
        return out;
    };
    let mut programs: BTreeSet<Vec<String>> = BTreeSet::new();
    for spec in catalog.specs() {
        for step in &spec.file.steps {
            let at = |out: &mut Probed, message: String| {
                out.problems.push(Problem {
                    file: spec.path.clone(),
                    line: crate::command::catalog::find_line(
                        &std::fs::read_to_string(&spec.path).unwrap_or_default(),
                        &format!("\"{}\"", step.name),
                    ),
                    message: format!("probe: step `{}`: {message}", step.name),
                })
            };
            match step.action() {
                Ok(Action::Shell(sh)) => {
                    let words = literal_words(&sh.argv);
                    if programs.insert(words.clone()) {
                        match program(settings, &words).await {
                            Ok(None) => out.ok += 1,
                            Ok(Some(note)) => out.notes.push(note),
                            Err(e) => at(&mut out, e),
                        }
                    }
                }
                Ok(Action::Sql(sql)) => {
                    let Some(target) = sql_target(settings, &sql.target) else {
                        out.notes.push(format!(
                            "{}: `{}` not configured, SQL not probed",
                            spec.full_name(),
                            sql.target
                        ));
                        continue;
                    };
                    let pg = target.is_postgres();
                    let mut statements: Vec<&str> = sql.statement_for(pg).into_iter().collect();
                    statements.extend(sql.transaction.iter().map(String::as_str));
                    statements.extend(sql.validate.iter().map(|v| v.statement.as_str()));
                    for s in statements {
                        match statement(&target, s).await {
                            Ok(true) => out.ok += 1,
                            Ok(false) => out.notes.push(format!(
                                "{}: DDL not executed by the probe: {}",
                                spec.full_name(),
                                first_line(s)
                            )),
                            Err(e) => at(&mut out, e),
                        }
                    }
                }
                Ok(Action::Http(h)) => {
                    let Some(t) = http_target(settings, &h.target) else {
                        out.notes.push(format!(
                            "{}: `{}` not configured, {} not probed",
                            spec.full_name(),
                            h.target,
                            h.path
                        ));
                        continue;
                    };
                    if !h.method.eq_ignore_ascii_case("GET") || h.path.contains('{') {
                        out.notes.push(format!(
                            "{}: {} {} not probed (it would change things or needs arguments)",
                            spec.full_name(),
                            h.method,
                            h.path
                        ));
                        continue;
                    }
                    match get(&t, &h.path).await {
                        Ok(status) if status == h.expect_status => out.ok += 1,
                        Ok(status) => at(
                            &mut out,
                            format!(
                                "GET {} answered {status}, the step expects {}",
                                h.path, h.expect_status
                            ),
                        ),
                        Err(e) => at(&mut out, format!("GET {}: {e}", h.path)),
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The program and the subcommand words written in the runbook, up to the first
/// option or placeholder: `vercel rollback`, `supabase backups restore`.
fn literal_words(argv: &[String]) -> Vec<String> {
    let mut out: Vec<String> = argv.iter().take(1).cloned().collect();
    out.extend(
        argv.iter()
            .skip(1)
            .take_while(|a| {
                !a.starts_with('-') && !a.contains('{') && !a.contains('/') && !a.contains('.')
            })
            .cloned(),
    );
    out
}

fn first_line(s: &str) -> String {
    s.trim()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(80)
        .collect()
}

/// `Ok(None)`: the program took `--help`; `Ok(Some(note))`: not probed here.
async fn program(settings: &Settings, words: &[String]) -> Result<Option<String>, String> {
    let name = &words[0];
    if name.contains('/') {
        return Ok(Some(format!(
            "`{name}` is a path in a checkout: not probed"
        )));
    }
    let env = &settings.child_env.vars;
    let path = env.get("PATH").cloned().unwrap_or_default();
    let found = path
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file());
    let Some(exe) = found else {
        return Ok(Some(format!("`{name}` is not installed here: not probed")));
    };
    // Each tool's own side-effect-free help: `aws s3 cp help` (aws-cli), `git
    // checkout -h` (exit 129 with its usage), `--help` elsewhere. npx would fetch the
    // package it is asked to run, so it is not probed.
    let (help, ok): (&str, &[i32]) = match name.as_str() {
        "npx" => {
            return Ok(Some(
                "`npx` would download the package it runs: not probed".to_string(),
            ))
        }
        "aws" => ("help", &[0]),
        "git" => ("-h", &[0, 129]),
        _ => ("--help", &[0]),
    };
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(&words[1..])
        .arg(help)
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let shown = words.join(" ");
    match tokio::time::timeout(Duration::from_secs(10), cmd.output()).await {
        Err(_) => Err(format!("`{shown} {help}` did not answer within 10 s")),
        Ok(Err(e)) => Err(format!("`{shown} {help}` could not start: {e}")),
        Ok(Ok(o)) if o.status.code().is_some_and(|c| ok.contains(&c)) => Ok(None),
        Ok(Ok(o)) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let said = err
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            Err(format!(
                "`{shown} {help}` exited {}: {said} (the real tool refuses this command)",
                o.status.code().unwrap_or(-1)
            ))
        }
    }
}

fn sql_target(settings: &Settings, name: &str) -> Option<SqlTarget> {
    let t = settings.targets.iter().find(|t| t.name == name)?;
    SqlTarget::open(t.url.as_ref()?).ok()
}

fn http_target(settings: &Settings, name: &str) -> Option<HttpTarget> {
    let t = settings.targets.iter().find(|t| t.name == name)?;
    HttpTarget::new(t.url.clone()?, t.token.clone()).ok()
}

fn is_ddl(s: &str) -> bool {
    let head = s.trim_start().to_ascii_uppercase();
    [
        "CREATE", "DROP", "ALTER", "TRUNCATE", "REINDEX", "GRANT", "REVOKE", "COMMENT", "VACUUM",
    ]
    .iter()
    .any(|k| head.starts_with(k))
}

/// Checks one statement in a transaction that is always rolled back. `Ok(false)`:
/// DDL, not executed.
async fn statement(target: &SqlTarget, s: &str) -> Result<bool, String> {
    if is_ddl(s) {
        return Ok(false);
    }
    let has_params = s.contains('$');
    let said = |e: sqlx::Error| format!("{e} in `{}`", first_line(s));
    match target {
        SqlTarget::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(said)?;
            let done = if has_params {
                (&mut *tx).describe(s).await.map(|_| ())
            } else {
                sqlx::query(&format!("EXPLAIN {s}"))
                    .execute(&mut *tx)
                    .await
                    .map(|_| ())
            };
            let _ = tx.rollback().await;
            done.map(|_| true).map_err(said)
        }
        SqlTarget::Sqlite(pool) => {
            let mut tx = pool.begin().await.map_err(said)?;
            let done = sqlx::query(&format!("EXPLAIN {s}"))
                .execute(&mut *tx)
                .await
                .map(|_| ());
            let _ = tx.rollback().await;
            done.map(|_| true).map_err(said)
        }
    }
}

async fn get(t: &HttpTarget, path: &str) -> Result<u16, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.get(t.url(path));
    if let Some(token) = t.bearer() {
        req = req.bearer_auth(token);
    }
    req.send().await.map(|r| r.status().as_u16()).map_err(|e| {
        if e.is_connect() {
            "connection refused".into()
        } else {
            e.to_string()
        }
    })
}
