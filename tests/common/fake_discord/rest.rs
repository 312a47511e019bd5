//! The HTTP API under `/api/v10`: one handler that records, authenticates, applies
//! injected failures and routes; plus the routes that are not about interactions
//! (gateway info, current user and application, commands, channel messages).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{
    error_body, interactions, messages, payloads, validate, Failure, Request, State, APP_ID,
    BOT_USER_ID, GUILD_ID, TOKEN,
};

/// What a route answers. Small (the JSON is boxed) because it is also the error
/// side of every route's `Result`.
pub(super) struct Reply {
    pub status: u16,
    pub body: Body,
    pub headers: Vec<(&'static str, String)>,
}

pub(super) enum Body {
    Json(Box<Value>),
    /// Cloudflare's error pages in front of Discord.
    Html(String),
    Empty,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(Box::new(body)),
            headers: Vec::new(),
        }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }

    /// The body as [`Request::response`] records it.
    pub fn recorded(&self) -> Value {
        match &self.body {
            Body::Json(json) => (**json).clone(),
            Body::Html(html) => Value::String(html.clone()),
            Body::Empty => Value::Null,
        }
    }

    /// Discord's `{"message": ..., "code": ...}`.
    pub fn error(status: u16, code: u64, message: &str) -> Reply {
        Reply::json(status, error_body(code, message))
    }
}

/// Routes answer `Err` for the early exits (validation, unknown ids), so `?` reads
/// like Discord's own checks in order.
pub(super) type Answer = Result<Reply, Reply>;

/// Discord's rate-limit bucket hash for every route (buckets are not modelled).
const BUCKET: &str = "f4ke0b0c4e7b0c4e7b0c4e7b0c4e7b0c";

pub(super) async fn handle(
    shared: Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(shared, method, uri, headers, body) {
        Some(response) => response,
        // `Failure::NeverAnswers`: the connection stays open, unanswered.
        None => std::future::pending().await,
    }
}

fn answer(
    Shared(shared): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Option<Response> {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let parsed: Result<Value, ()> = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|_| ())
    };

    let mut state = shared.lock().expect("fake Discord lock");
    let key = format!("{method} {path}");
    let injected = state
        .failures
        .iter()
        .position(|(substring, _)| key.contains(substring.as_str()))
        .map(|i| state.failures.remove(i).1);
    let was_injected = injected.is_some();
    if injected == Some(Failure::NeverAnswers) {
        drop(state);
        return None;
    }
    if injected == Some(Failure::DoneButNeverAnswers) {
        if let Ok(body) = &parsed {
            let _ = route(
                &mut state,
                &method,
                uri.path(),
                uri.query(),
                auth.as_deref(),
                body,
            );
        }
        drop(state);
        return None;
    }
    let reply = match (injected, &parsed) {
        (Some(failure), _) => failure_reply(failure),
        (None, _) if multipart => Reply::error(
            400,
            0,
            "fake Discord: attachments (multipart bodies) are not modelled",
        ),
        (None, Err(())) => Reply::error(400, 50109, "The request body contains invalid JSON."),
        (None, Ok(body)) => route(
            &mut state,
            &method,
            uri.path(),
            uri.query(),
            auth.as_deref(),
            body,
        )
        .unwrap_or_else(|e| e),
    };
    state.requests.push(Request {
        method: method.to_string(),
        path,
        auth,
        body: parsed.unwrap_or_else(|()| Value::String(String::from_utf8_lossy(&body).into())),
        status: reply.status,
        response: reply.recorded(),
        injected: was_injected,
    });
    drop(state);
    Some(into_response(reply))
}

fn into_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).expect("valid status");
    let mut response = match reply.body {
        Body::Json(body) => (status, axum::Json(*body)).into_response(),
        Body::Html(html) => (status, axum::response::Html(html)).into_response(),
        Body::Empty => status.into_response(),
    };
    let mut headers = reply.headers;
    if reply.status < 400 {
        // Discord sends its bucket state on every answer.
        headers.extend([
            ("x-ratelimit-limit", "5".to_string()),
            ("x-ratelimit-remaining", "4".to_string()),
            ("x-ratelimit-reset", format!("{:.3}", now_secs() + 1.0)),
            ("x-ratelimit-reset-after", "1.000".to_string()),
            ("x-ratelimit-bucket", BUCKET.to_string()),
        ]);
    }
    for (name, value) in headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).expect("header value"),
        );
    }
    response
}

fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

fn failure_reply(failure: Failure) -> Reply {
    match failure {
        Failure::RateLimited { retry_after } => {
            let mut reply = Reply::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
            );
            reply.headers = vec![
                ("retry-after", (retry_after.ceil() as u64).to_string()),
                ("x-ratelimit-limit", "5".into()),
                ("x-ratelimit-remaining", "0".into()),
                (
                    "x-ratelimit-reset",
                    format!("{:.3}", now_secs() + retry_after),
                ),
                ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
                ("x-ratelimit-bucket", BUCKET.into()),
                ("x-ratelimit-scope", "user".into()),
            ];
            reply
        }
        Failure::ServerError => Reply::error(500, 0, "500: Internal Server Error"),
        Failure::BadGateway => Reply {
            status: 502,
            body: Body::Html(
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                 <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n\
                 </body>\r\n</html>\r\n"
                    .into(),
            ),
            headers: Vec::new(),
        },
        Failure::Status(status, body) => Reply::json(status, body),
        Failure::NeverAnswers | Failure::DoneButNeverAnswers => {
            unreachable!("answered by never answering")
        }
    }
}

fn route(
    state: &mut State,
    method: &Method,
    path: &str,
    query: Option<&str>,
    auth: Option<&str>,
    body: &Value,
) -> Answer {
    let Some(rest) = path.strip_prefix("/api/v10/") else {
        return Err(Reply::error(404, 0, "404: Not Found"));
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    // Interaction callbacks and webhooks are authenticated by the token in the path.
    let by_path_token = matches!(segments.first(), Some(&"interactions" | &"webhooks"));
    if !by_path_token && auth != Some(format!("Bot {TOKEN}").as_str()) {
        return Err(Reply::error(401, 0, "401: Unauthorized"));
    }
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => Ok(Reply::ok(json!({"url": state.gateway_url()}))),
        ("GET", ["gateway", "bot"]) => Ok(Reply::ok(json!({
            "url": state.gateway_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1
            }
        }))),
        ("GET", ["users", "@me"]) => Ok(Reply::ok(payloads::current_user_json())),
        ("GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]) => {
            Ok(Reply::ok(payloads::application_json(&state.verify_key)))
        }
        (m, ["applications", app, "commands"]) => commands(state, m, app, None, body),
        (m, ["applications", app, "guilds", guild, "commands"]) => {
            commands(state, m, app, Some(guild), body)
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            let id = snowflake("interaction_id", id)?;
            Ok(interactions::callback(state, id, token, body))
        }
        ("POST", ["webhooks", app, token]) => interactions::followup(state, app, token, body),
        (m, ["webhooks", app, token, "messages", message]) => {
            interactions::webhook_message(state, m, app, token, message, body)
        }
        ("POST", ["channels", channel, "messages"]) => create_message(state, channel, body),
        ("GET", ["channels", channel, "messages"]) => history(state, channel, query),
        (m, ["channels", channel, "messages", message]) => {
            channel_message(state, m, channel, message, body)
        }
        _ => Err(Reply::error(404, 0, "404: Not Found")),
    }
}

/// Parses an id from the path as Discord does (`NUMBER_TYPE_COERCE`).
pub(super) fn snowflake(field: &str, raw: &str) -> Result<u64, Reply> {
    raw.parse().map_err(|_| {
        let mut errors = validate::FormErrors::default();
        errors.add(
            field,
            "NUMBER_TYPE_COERCE",
            format!("Value \"{raw}\" is not snowflake."),
        );
        errors.reply()
    })
}

fn method_not_allowed() -> Reply {
    Reply::error(405, 0, "405: Method Not Allowed")
}

fn missing_access() -> Reply {
    Reply::error(403, 50001, "Missing Access")
}

pub(super) fn unknown_message() -> Reply {
    Reply::error(404, 10008, "Unknown Message")
}

fn empty_message() -> Reply {
    Reply::error(400, 50006, "Cannot send an empty message")
}

fn commands(
    state: &mut State,
    method: &str,
    app: &str,
    guild: Option<&str>,
    body: &Value,
) -> Answer {
    if snowflake("application_id", app)? != APP_ID {
        return Err(missing_access());
    }
    let guild = guild.map(|g| snowflake("guild_id", g)).transpose()?;
    if guild.is_some_and(|g| g != GUILD_ID) {
        return Err(missing_access());
    }
    let current = match guild {
        Some(g) => state.guild_commands.get(&g).cloned().unwrap_or_default(),
        None => state.global_commands.clone(),
    };
    let new_set: Vec<Value> = match method {
        "GET" => return Ok(Reply::ok(Value::Array(current))),
        "PUT" => {
            validate::commands(body)?;
            body.as_array().cloned().unwrap_or_default()
        }
        "POST" => {
            // Create-or-overwrite one command: same name and type replaces it.
            validate::command(body)?;
            let kind = body["type"].as_u64().unwrap_or(1);
            let mut set: Vec<Value> = current
                .iter()
                .filter(|c| !(c["name"] == body["name"] && c["type"] == kind))
                .cloned()
                .collect();
            if set.len() >= 100 {
                return Err(Reply::error(
                    400,
                    30032,
                    "Maximum number of application commands reached (100)",
                ));
            }
            set.push(body.clone());
            set
        }
        _ => return Err(method_not_allowed()),
    };
    let mut stored = Vec::new();
    for command in &new_set {
        let kind = command["type"].as_u64().unwrap_or(1);
        let name = command["name"].as_str().unwrap_or_default();
        let previous = current
            .iter()
            .find(|c| c["name"] == name && c["type"] == kind);
        // Discord keeps a command's id across overwrites and bumps its version only
        // when it changed.
        let id = match (previous, guild) {
            (Some(p), _) => payloads::snowflake_of(&p["id"]).expect("stored id"),
            (None, None) => payloads::command_id(name),
            (None, Some(g)) => payloads::command_id(&format!("{g}/{name}")),
        };
        let mut json = payloads::command_json(command, id, 0, guild);
        json["version"] = match previous {
            Some(p) if payloads::same_command(p, &json) => p["version"].clone(),
            _ => state.snowflake().to_string().into(),
        };
        stored.push(json);
    }
    let answer = match method {
        "POST" => stored.last().cloned().expect("the created command"),
        _ => Value::Array(stored.clone()),
    };
    match guild {
        Some(g) => {
            state.guild_commands.insert(g, stored);
        }
        None => state.global_commands = stored,
    }
    Ok(Reply::ok(answer))
}

fn known_channel(state: &State, raw: &str) -> Result<u64, Reply> {
    let channel = snowflake("channel_id", raw)?;
    if state.channels.contains(&channel) {
        Ok(channel)
    } else {
        Err(Reply::error(404, 10003, "Unknown Channel"))
    }
}

/// Embeds need the *Embed Links* permission in the channel (see the module doc for
/// the published sources): without it, 403 with code 50013.
fn embed_links(state: &State, channel: u64, body: &Value) -> Result<(), Reply> {
    let has_embeds = body["embeds"].as_array().is_some_and(|e| !e.is_empty());
    if has_embeds && !state.embed_links.contains(&channel) {
        return Err(Reply::error(403, 50013, "Missing Permissions"));
    }
    Ok(())
}

/// Flags a bot may set on a channel message; Discord ignores the others.
const CHANNEL_FLAGS: u64 = 4 | 4096;

fn create_message(state: &mut State, channel: &str, body: &Value) -> Answer {
    let channel = known_channel(state, channel)?;
    validate::message(body, validate::Mode::Create)?;
    embed_links(state, channel, body)?;
    // Discord's "Create Message": `nonce` (integer or string, up to 25 characters)
    // and `enforce_nonce`: "If true and nonce is present, it will be checked for
    // uniqueness in the past few minutes. If another message was created by the
    // same author with the same nonce, that message will be returned and no new
    // message will be created."
    let nonce = match &body["nonce"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if nonce.as_ref().is_some_and(|n| n.chars().count() > 25) {
        let mut e = validate::FormErrors::default();
        e.add(
            "nonce",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        );
        return Err(e.reply());
    }
    if let (Some(nonce), true) = (&nonce, body["enforce_nonce"] == Value::Bool(true)) {
        let recent = std::time::Duration::from_secs(120);
        if let Some(earlier) = state.messages.values().find(|m| {
            m.author_id == BOT_USER_ID
                && m.nonce
                    .as_ref()
                    .is_some_and(|(n, at)| n == nonce && at.elapsed() < recent)
        }) {
            return Ok(Reply::ok(earlier.json()));
        }
    }
    let id = state.snowflake();
    let mut message = messages::new_message(id, channel, BOT_USER_ID, "");
    message.nonce = nonce.map(|n| (n, std::time::Instant::now()));
    messages::apply_fields(&mut message, body, CHANNEL_FLAGS);
    let json = message.json();
    state.messages.insert(id, message);
    Ok(Reply::ok(json))
}

fn channel_message(
    state: &mut State,
    method: &str,
    channel: &str,
    message: &str,
    body: &Value,
) -> Answer {
    let channel = known_channel(state, channel)?;
    let id = snowflake("message_id", message)?;
    let Some(current) = state
        .messages
        .get(&id)
        .filter(|m| m.channel_id == channel && !m.deleted && !m.is_ephemeral())
        .cloned()
    else {
        return Err(unknown_message());
    };
    match method {
        "GET" => Ok(Reply::ok(current.json())),
        "DELETE" => {
            state.messages.get_mut(&id).expect("found above").deleted = true;
            Ok(Reply::no_content())
        }
        "PATCH" => {
            if current.author_id != BOT_USER_ID {
                return Err(Reply::error(
                    403,
                    50005,
                    "Cannot edit a message authored by another user",
                ));
            }
            validate::message(body, validate::Mode::Edit)?;
            embed_links(state, channel, body)?;
            let edited = edit(current, body, 4)?;
            let json = edited.json();
            state.messages.insert(id, edited);
            Ok(Reply::ok(json))
        }
        _ => Err(method_not_allowed()),
    }
}

/// Applies an edit body to a copy, refusing a result with nothing left to show.
pub(super) fn edit(
    mut message: super::FakeMessage,
    body: &Value,
    settable_flags: u64,
) -> Result<super::FakeMessage, Reply> {
    messages::apply_fields(&mut message, body, settable_flags);
    if messages::is_empty(&message) {
        return Err(empty_message());
    }
    message.edits.push(body.clone());
    message.edited_timestamp = Some(payloads::timestamp_now());
    Ok(message)
}

fn history(state: &mut State, channel: &str, query: Option<&str>) -> Answer {
    let channel = known_channel(state, channel)?;
    let mut errors = validate::FormErrors::default();
    let (mut limit, mut before, mut after, mut around) = (50usize, None, None, None);
    // serenity writes `?&limit=..`: empty pairs are skipped, as Discord does.
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "limit" => match value.parse::<i64>() {
                Ok(n) if n > 100 => errors.add(
                    "limit",
                    "NUMBER_TYPE_MAX",
                    "int value should be less than or equal to 100.",
                ),
                Ok(n) if n < 1 => errors.add(
                    "limit",
                    "NUMBER_TYPE_MIN",
                    "int value should be greater than or equal to 1.",
                ),
                Ok(n) => limit = n as usize,
                Err(_) => errors.add(
                    "limit",
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{value}\" is not int."),
                ),
            },
            "before" => before = Some(snowflake("before", value)?),
            "after" => after = Some(snowflake("after", value)?),
            "around" => around = Some(snowflake("around", value)?),
            _ => {}
        }
    }
    errors.check()?;
    let visible: Vec<&super::FakeMessage> = state
        .messages
        .values()
        .filter(|m| m.channel_id == channel && !m.deleted && !m.is_ephemeral())
        .collect();
    // `visible` is oldest first (ids are time-ordered); Discord answers newest first.
    let mut page: Vec<&super::FakeMessage> = if let Some(before) = before {
        let older: Vec<_> = visible.into_iter().filter(|m| m.id < before).collect();
        older[older.len().saturating_sub(limit)..].to_vec()
    } else if let Some(after) = after {
        visible
            .into_iter()
            .filter(|m| m.id > after)
            .take(limit)
            .collect()
    } else if let Some(around) = around {
        let split = visible.partition_point(|m| m.id <= around);
        let start = split.saturating_sub(limit.div_ceil(2));
        visible[start..(start + limit).min(visible.len())].to_vec()
    } else {
        visible[visible.len().saturating_sub(limit)..].to_vec()
    };
    page.reverse();
    Ok(Reply::ok(Value::Array(
        page.into_iter().map(|m| m.json()).collect(),
    )))
}
