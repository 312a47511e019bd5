//! The `http` action: a request to a named HTTP target, checked by status and by
//! JSON-pointer expectations (`/errorRate < 0.1`), retried with backoff when declared.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::expect;
use super::placeholder::{self, Encoding, Scope};
use super::target::HttpTarget;
use super::{ActionError, ActionOutput};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    pub target: String,
    #[serde(default = "default_method")]
    pub method: String,
    /// Path (and query) under the target's base URL; placeholders are percent-encoded.
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body; string values may hold placeholders.
    #[serde(default)]
    pub json: Option<toml::Value>,
    #[serde(default = "default_status")]
    pub expect_status: u16,
    /// JSON pointer → expectation, e.g. `"/errorRate" = "< 0.1"`.
    #[serde(default)]
    pub checks: BTreeMap<String, toml::Value>,
    /// A regex the response body must match (an HTML page, a version marker).
    #[serde(default)]
    pub expect_body: Option<String>,
    /// Extra attempts after a failure, waiting `backoff`, doubling each time.
    /// Put the response body (its first 200 characters) in the step's output, as
    /// the seeds' `curl ... | jq` shows it to the people reading.
    #[serde(default)]
    pub show: bool,
    #[serde(default)]
    pub retries: u32,
    #[serde(default)]
    pub backoff: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}
fn default_status() -> u16 {
    200
}

pub fn describe(spec: &HttpSpec, scope: &Scope<'_>) -> String {
    let path = placeholder::expand(&spec.path, scope, Encoding::Url)
        .unwrap_or_else(|e| format!("{} ({e})", spec.path));
    let mut out = format!(
        "HTTP {} `{}`{path} → expect {}",
        spec.method.to_ascii_uppercase(),
        spec.target,
        spec.expect_status
    );
    for (ptr, want) in &spec.checks {
        out.push_str(&format!(", {ptr} {}", super::expect::show_expect(want)));
    }
    if let Some(body) = &spec.json {
        if let Ok(b) = body_json(body, scope) {
            out.push_str(&format!("\nbody: {b}"));
        }
    }
    if spec.retries > 0 {
        out.push_str(&format!(" (up to {} retries)", spec.retries));
    }
    out
}

fn body_json(v: &toml::Value, scope: &Scope<'_>) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(placeholder::expand(s, scope, Encoding::Plain)?),
        toml::Value::Integer(n) => (*n).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| body_json(x, scope))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, x)| Ok((k.clone(), body_json(x, scope)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

pub async fn run(
    spec: &HttpSpec,
    target: &HttpTarget,
    scope: &Scope<'_>,
) -> Result<ActionOutput, ActionError> {
    let path =
        placeholder::expand(&spec.path, scope, Encoding::Url).map_err(ActionError::Failed)?;
    let body = spec
        .json
        .as_ref()
        .map(|b| body_json(b, scope))
        .transpose()
        .map_err(ActionError::Failed)?;
    let mut wait = spec
        .backoff
        .as_deref()
        .and_then(crate::model::duration::parse_duration)
        .unwrap_or(Duration::from_millis(500));
    let mut attempt = 0;
    loop {
        let result = once(spec, target, &path, body.as_ref()).await;
        match result {
            Ok(out) => return Ok(out),
            Err(e) if attempt >= spec.retries => {
                let tries = if attempt > 0 {
                    format!(" (after {} attempts)", attempt + 1)
                } else {
                    String::new()
                };
                return Err(ActionError::Failed(format!("{e}{tries}")));
            }
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
    }
}

async fn once(
    spec: &HttpSpec,
    target: &HttpTarget,
    path: &str,
    body: Option<&Value>,
) -> Result<ActionOutput, String> {
    let method = reqwest::Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("bad method {}", spec.method))?;
    let mut req = target.client.request(method, target.url(path));
    if let Some(token) = target.bearer() {
        req = req.bearer_auth(token);
    }
    for (k, v) in &spec.headers {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    // reqwest errors carry the URL; say what failed without it.
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("`{}` did not answer in time (timed out)", spec.target)
        } else if refused(&e) {
            format!(
                "`{}` is unreachable (it refused the connection: nothing listens at its \
                 address and port)",
                spec.target
            )
        } else {
            format!("`{}` is unreachable", spec.target)
        }
    })?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let excerpt: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .replace('\n', " ");
    if status != spec.expect_status {
        return Err(format!(
            "HTTP {status}, expected {}: {excerpt}",
            spec.expect_status
        ));
    }
    if let Some(pattern) = &spec.expect_body {
        let re = regex::Regex::new(pattern).map_err(|e| format!("bad expect_body: {e}"))?;
        if !re.is_match(&text) {
            return Err(format!(
                "HTTP {status} but the body does not match /{pattern}/: {excerpt}"
            ));
        }
    }
    let mut seen = Vec::new();
    if !spec.checks.is_empty() {
        let json: Value = serde_json::from_str(&text)
            .map_err(|_| format!("HTTP {status} but the body is not JSON: {excerpt}"))?;
        for (ptr, want) in &spec.checks {
            let got = json.pointer(ptr).cloned().unwrap_or(Value::Null);
            expect::check(&got, want).map_err(|e| format!("{ptr}: {e}"))?;
            seen.push(format!("{ptr} = {got}"));
        }
    }
    let mut summary = if seen.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}, {}", seen.join(", "))
    };
    if spec.show && !excerpt.is_empty() {
        summary = format!("{summary}: {excerpt}");
    }
    Ok(ActionOutput {
        summary,
        table: None,
    })
}

/// Whether a request failed because the host refused the TCP connection (not a
/// timeout, not DNS): the io error is somewhere in reqwest's chain of sources.
fn refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = s.source();
    }
    false
}
