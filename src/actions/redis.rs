//! The `redis` action: one plain command against a named Redis target, as argv items
//! (never a command string). `FLUSHDB`/`FLUSHALL` run only where the step allows it.

use serde::Deserialize;

use super::expect;
use super::placeholder::{self, Encoding, Scope};
use super::target::RedisTarget;
use super::{ActionError, ActionOutput};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSpec {
    pub target: String,
    /// e.g. `["SET", "kanban:emergency:write-block", "true", "EX", "3600"]`.
    pub command: Vec<String>,
    /// Expected reply: `"OK"`, a number, or an operator expression.
    #[serde(default)]
    pub expect: Option<toml::Value>,
    /// Required for FLUSHDB / FLUSHALL: the runbook must say so explicitly.
    #[serde(default)]
    pub allow_flush: bool,
}

/// Commands that never run from a runbook.
const FORBIDDEN: &[&str] = &[
    "SHUTDOWN",
    "DEBUG",
    "CONFIG",
    "SCRIPT",
    "EVAL",
    "EVALSHA",
    "FUNCTION",
    "MODULE",
    "MIGRATE",
    "REPLICAOF",
    "SLAVEOF",
    "ACL",
    "MONITOR",
    "SUBSCRIBE",
    "PSUBSCRIBE",
];

/// Why a command may not run, if it may not.
pub fn refuse(spec: &RedisSpec) -> Option<String> {
    let name = spec.command.first()?.to_ascii_uppercase();
    if FORBIDDEN.contains(&name.as_str()) {
        return Some(format!("Redis {name} is not allowed in a runbook"));
    }
    if (name == "FLUSHDB" || name == "FLUSHALL") && !spec.allow_flush {
        return Some(format!(
            "Redis {name} needs `allow_flush = true` in the step"
        ));
    }
    None
}

fn argv(spec: &RedisSpec, scope: &Scope<'_>) -> Result<Vec<String>, String> {
    spec.command
        .iter()
        .map(|a| placeholder::expand(a, scope, Encoding::Plain))
        .collect()
}

pub fn describe(spec: &RedisSpec, scope: &Scope<'_>) -> String {
    let shown = argv(spec, scope).unwrap_or_else(|_| spec.command.clone());
    format!("Redis `{}`: {}", spec.target, shown.join(" "))
}

pub async fn run(
    spec: &RedisSpec,
    target: &RedisTarget,
    scope: &Scope<'_>,
) -> Result<ActionOutput, ActionError> {
    if let Some(why) = refuse(spec) {
        return Err(ActionError::Failed(why));
    }
    let items = argv(spec, scope).map_err(ActionError::Failed)?;
    let (name, rest) = items
        .split_first()
        .ok_or_else(|| ActionError::Failed("empty Redis command".into()))?;
    let mut conn = target
        .connection()
        .await
        .map_err(|_| ActionError::Failed(format!("Redis `{}` is unreachable", spec.target)))?;
    let mut cmd = redis::cmd(name);
    for a in rest {
        cmd.arg(a);
    }
    let reply: redis::Value = cmd.query_async(&mut conn).await.map_err(|e| {
        ActionError::Failed(format!(
            "Redis {name}: {}",
            e.detail().unwrap_or("command failed")
        ))
    })?;
    let shown = show(&reply);
    if let Some(want) = &spec.expect {
        expect::check(&serde_json::Value::String(shown.clone()), want)
            .map_err(|e| ActionError::Failed(format!("Redis {name}: {e}")))?;
    }
    Ok(ActionOutput {
        summary: format!("{name} → {shown}"),
        table: None,
    })
}

fn show(v: &redis::Value) -> String {
    match v {
        redis::Value::Nil => "(nil)".into(),
        redis::Value::Int(n) => n.to_string(),
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::Okay => "OK".into(),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        }
        redis::Value::Double(d) => d.to_string(),
        redis::Value::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cmd: &[&str], allow_flush: bool) -> RedisSpec {
        RedisSpec {
            target: "c".into(),
            command: cmd.iter().map(|s| s.to_string()).collect(),
            expect: None,
            allow_flush,
        }
    }

    #[test]
    fn dangerous_commands_are_refused() {
        assert!(refuse(&spec(&["FLUSHDB"], false)).is_some());
        assert!(refuse(&spec(&["flushall"], false)).is_some());
        assert!(refuse(&spec(&["FLUSHDB"], true)).is_none());
        assert!(refuse(&spec(&["CONFIG", "SET", "dir", "/"], true)).is_some());
        assert!(refuse(&spec(&["eval", "return 1", "0"], true)).is_some());
        assert!(refuse(&spec(&["SET", "k", "v", "EX", "3600"], false)).is_none());
    }
}
