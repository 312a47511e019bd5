//! The `shell` action: an external program run from an argv array, never through a
//! shell. Its environment is built from scratch (the bot's secrets do not leak into
//! it), it is killed with its whole process group on timeout, and its output is kept
//! truncated.

mod spawner;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::placeholder::{self, Encoding, Scope};
use super::{truncate, ActionError, ActionOutput};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellSpec {
    /// Program and arguments, one item each: `["pm2", "stop", "{vars.worker}"]`.
    pub argv: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Sets PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE from this SQL target's
    /// URL, for `pg_dump` and friends, without the URL appearing in argv.
    #[serde(default)]
    pub pg_env: Option<String>,
    /// The exit code (or codes, e.g. `[0, 3]` for `systemctl status` of a failed
    /// unit) that count as success.
    #[serde(default)]
    pub expect_exit: ExitCodes,
    /// A regex the combined stdout and stderr must match.
    #[serde(default)]
    pub expect_output: Option<String>,
    /// A regex the combined stdout and stderr must NOT match ("no critical errors").
    #[serde(default)]
    pub reject_output: Option<String>,
    /// The number of output lines matching a regex, against an expectation: seed
    /// 001's `pm2 logs | grep -i error | wc -l` "should be < 5" is
    /// `count_lines = { matching = "(?i)error", expect = "< 5" }`.
    #[serde(default)]
    pub count_lines: Option<CountLines>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountLines {
    pub matching: String,
    /// `"< 5"`, `"= 0"`: as SQL and HTTP expectations are written.
    pub expect: String,
}

/// How many lines of `text` match `pattern`, checked against `expect`: the count,
/// or why it fails.
pub fn count_lines(text: &str, c: &CountLines) -> Result<usize, String> {
    let re = Regex::new(&c.matching).map_err(|e| format!("bad count_lines.matching: {e}"))?;
    let n = text.lines().filter(|l| re.is_match(l)).count();
    super::expect::check(
        &serde_json::Value::from(n),
        &toml::Value::String(c.expect.clone()),
    )
    .map(|()| n)
    .map_err(|e| format!("{n} lines match /{}/: {e}", c.matching))
}

/// One exit code or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExitCodes {
    One(i32),
    Many(Vec<i32>),
}

impl Default for ExitCodes {
    fn default() -> Self {
        ExitCodes::One(0)
    }
}

impl ExitCodes {
    pub fn accepts(&self, code: i32) -> bool {
        match self {
            ExitCodes::One(c) => *c == code,
            ExitCodes::Many(cs) => cs.contains(&code),
        }
    }
}

impl std::fmt::Display for ExitCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitCodes::One(c) => write!(f, "{c}"),
            ExitCodes::Many(cs) => write!(
                f,
                "{}",
                cs.iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        }
    }
}

/// What a child process may inherit: set once from the bot's own environment (in
/// config) and passed down explicitly.
#[derive(Debug, Clone, Default)]
pub struct ChildEnv {
    pub vars: BTreeMap<String, String>,
}

/// Output kept per stream.
const KEEP: usize = 16 * 1024;

pub fn argv(spec: &ShellSpec, scope: &Scope<'_>) -> Result<Vec<String>, String> {
    spec.argv
        .iter()
        .map(|a| placeholder::expand(a, scope, Encoding::Plain))
        .collect()
}

pub fn describe(spec: &ShellSpec, scope: &Scope<'_>) -> String {
    let items = argv(spec, scope).unwrap_or_else(|_| spec.argv.clone());
    let quoted: Vec<String> = items
        .iter()
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect();
    let mut out = format!("Run `{}`", quoted.join(" "));
    if let Some(cwd) = &spec.cwd {
        out.push_str(&format!(
            " in `{}`",
            placeholder::expand(cwd, scope, Encoding::Plain).unwrap_or_else(|_| cwd.clone())
        ));
    }
    out.push_str(&format!(" → expect exit {}", spec.expect_exit));
    if let Some(re) = &spec.expect_output {
        out.push_str(&format!(", output matching /{re}/"));
    }
    if let Some(c) = &spec.count_lines {
        out.push_str(&format!(", lines matching /{}/ {}", c.matching, c.expect));
    }
    out
}

pub async fn run(
    spec: &ShellSpec,
    scope: &Scope<'_>,
    base_env: &ChildEnv,
    pg_env: Option<BTreeMap<String, String>>,
    timeout: Duration,
) -> Result<ActionOutput, ActionError> {
    let items = argv(spec, scope).map_err(ActionError::Failed)?;
    let (program, args) = items
        .split_first()
        .ok_or_else(|| ActionError::Failed("empty argv".into()))?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(&base_env.vars)
        .envs(pg_env.unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for (k, v) in &spec.env {
        cmd.env(
            k,
            placeholder::expand(v, scope, Encoding::Plain).map_err(ActionError::Failed)?,
        );
    }
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(
            placeholder::expand(cwd, scope, Encoding::Plain).map_err(ActionError::Failed)?,
        );
    }
    let mut child = spawner::spawn(cmd)
        .await
        .map_err(|e| ActionError::Failed(format!("cannot start `{program}`: {e}")))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let work = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (a, b, status) = tokio::join!(
            read_capped(&mut stdout, &mut out),
            read_capped(&mut stderr, &mut err),
            child.wait()
        );
        a.and(b)
            .map_err(|e| ActionError::Failed(format!("reading `{program}` output: {e}")))?;
        let status =
            status.map_err(|e| ActionError::Failed(format!("waiting for `{program}`: {e}")))?;
        Ok::<_, ActionError>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r?,
        Err(_) => {
            kill_group(pid);
            return Err(ActionError::Timeout(timeout));
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    let code = status.code().unwrap_or(-1);
    let tail = truncate(text.trim(), 400);
    if !spec.expect_exit.accepts(code) {
        return Err(ActionError::Failed(format!(
            "`{program}` exited {code}, expected {}: {tail}",
            spec.expect_exit
        )));
    }
    if let Some(pattern) = &spec.expect_output {
        let re = Regex::new(pattern)
            .map_err(|e| ActionError::Failed(format!("bad expect_output: {e}")))?;
        if !re.is_match(&text) {
            return Err(ActionError::Failed(format!(
                "`{program}` output does not match /{pattern}/: {tail}"
            )));
        }
    }
    let counted = match &spec.count_lines {
        Some(c) => {
            let n = count_lines(&text, c)
                .map_err(|e| ActionError::Failed(format!("`{program}` output: {e}: {tail}")))?;
            format!(" ({n} lines match /{}/, expected {})", c.matching, c.expect)
        }
        None => String::new(),
    };
    let summary = if tail.is_empty() {
        format!("`{program}` exited {code}{counted}")
    } else {
        format!("`{program}` exited {code}{counted}: {tail}")
    };
    Ok(ActionOutput {
        summary,
        table: None,
    })
}

/// Reads a stream to its end, keeping only the first `KEEP` bytes (the rest is
/// drained so the child never blocks on a full pipe).
async fn read_capped(
    r: &mut (impl AsyncReadExt + Unpin),
    keep: &mut Vec<u8>,
) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let room = KEEP.saturating_sub(keep.len());
        keep.extend_from_slice(&buf[..n.min(room)]);
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: killpg only sends a signal; the group was created for this child
        // (process_group(0)), so no unrelated process is hit.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

/// PG* variables from a PostgreSQL URL.
pub fn pg_env_from_url(url: &str) -> Result<BTreeMap<String, String>, String> {
    let u = url::Url::parse(url).map_err(|_| "the target URL is not a valid URL".to_string())?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err("pg_env needs a PostgreSQL target".into());
    }
    let mut env = BTreeMap::new();
    if let Some(h) = u.host_str() {
        env.insert("PGHOST".into(), h.to_string());
    }
    env.insert("PGPORT".into(), u.port().unwrap_or(5432).to_string());
    if !u.username().is_empty() {
        env.insert(
            "PGUSER".into(),
            percent_encoding::percent_decode_str(u.username())
                .decode_utf8_lossy()
                .into_owned(),
        );
    }
    if let Some(p) = u.password() {
        env.insert(
            "PGPASSWORD".into(),
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned(),
        );
    }
    let db = u.path().trim_start_matches('/');
    if !db.is_empty() {
        env.insert("PGDATABASE".into(), db.to_string());
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_become_pg_variables() {
        let env = pg_env_from_url("postgres://app:s%40cret@db.internal:6543/chatia_db").unwrap();
        assert_eq!(env["PGHOST"], "db.internal");
        assert_eq!(env["PGPORT"], "6543");
        assert_eq!(env["PGUSER"], "app");
        assert_eq!(env["PGPASSWORD"], "s@cret");
        assert_eq!(env["PGDATABASE"], "chatia_db");
        assert!(pg_env_from_url("sqlite://x.db").is_err());
    }

    /// Seed 001 V2: `pm2 logs --lines 100 | grep -i error | wc -l` "should be < 5".
    #[test]
    fn output_lines_are_counted_against_an_expectation() {
        let c = CountLines {
            matching: "(?i)error".into(),
            expect: "< 5".into(),
        };
        let few = "ok\nERROR: a\nwarn\nerror b\n";
        assert_eq!(count_lines(few, &c), Ok(2));
        let many = "Error\n".repeat(5);
        assert_eq!(
            count_lines(&many, &c),
            Err("5 lines match /(?i)error/: expected < 5, got 5".into())
        );
        let bad = CountLines {
            matching: "(".into(),
            expect: "< 5".into(),
        };
        assert!(count_lines(few, &bad).is_err());
    }
}
