//! The HTTP side of the Web API: reading a request the ways Slack reads one (JSON,
//! form or query string; the token from the header or a form field), answering
//! injected failures, recording every call, and writing answers with Slack's status
//! codes and headers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use url::form_urlencoded;

use super::{methods, ApiCall, Failure, FakeSlack};

/// A call's arguments and token, wherever Slack would have found them.
pub(super) struct Request {
    pub token: Option<String>,
    pub params: Map<String, Value>,
    /// Warnings Slack adds to a successful answer, e.g. `missing_charset`.
    pub warnings: Vec<&'static str>,
}

/// `/api/<method>`: every method, every HTTP verb, as Slack routes them.
pub(super) async fn handle(
    fake: State<FakeSlack>,
    method: Path<String>,
    http_method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(fake, method, http_method, uri, headers, body) {
        Some(response) => response,
        // `Failure::NeverAnswers`: the connection stays open, unanswered.
        None => std::future::pending().await,
    }
}

fn answer(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    http_method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Option<Response> {
    let request = decode(&uri, &headers, &body);
    let mut state = fake.state();
    let injected = state
        .failures
        .get_mut(&method)
        .and_then(|queue| queue.pop_front());
    let (token, params) = match &request {
        Ok(r) => (r.token.clone(), Value::Object(r.params.clone())),
        Err(_) => (None, Value::Null),
    };
    if injected == Some(Failure::NeverAnswers) {
        state.calls.push(ApiCall {
            method,
            http_method: http_method.to_string(),
            content_type: None,
            token,
            params,
            status: 0,
            ok: false,
            error: Some("never answered".into()),
            injected: true,
        });
        drop(state);
        return None;
    }
    if injected == Some(Failure::DoneButNeverAnswers) {
        if let Ok(r) = &request {
            methods::call(&mut state, &fake.socket_url(), &method, r);
        }
        state.calls.push(ApiCall {
            method,
            http_method: http_method.to_string(),
            content_type: None,
            token,
            params,
            status: 0,
            ok: true,
            error: Some("carried out, never answered".into()),
            injected: true,
        });
        drop(state);
        return None;
    }
    let (answer, is_injected) = match injected {
        Some(failure) => (Answer::injected(failure), true),
        None => {
            let body = match &request {
                Ok(r) => methods::call(&mut state, &fake.socket_url(), &method, r),
                Err(code) => json!({"ok": false, "error": code}),
            };
            (Answer::json(StatusCode::OK, body), false)
        }
    };
    state.calls.push(ApiCall {
        method,
        http_method: http_method.to_string(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        token,
        params,
        status: answer.status.as_u16(),
        ok: answer.body["ok"] == json!(true),
        error: answer.body["error"].as_str().map(str::to_string),
        injected: is_injected,
    });
    drop(state);
    Some(answer.into_response())
}

/// Reads the arguments the way Slack does. The query string always counts; a body
/// counts as JSON or as a form. A token is read from `Authorization: Bearer` or from
/// a form field, never from a JSON body or the query string.
fn decode(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Request, &'static str> {
    let mut params = Map::new();
    let mut warnings = Vec::new();
    if let Some(query) = uri.query() {
        // A `token` here stays an ordinary argument: Slack stopped reading
        // query-string tokens for apps created after February 2021.
        insert_form_fields(&mut params, form_urlencoded::parse(query.as_bytes()));
    }
    let mut token = bearer(headers);
    if !body.is_empty() {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime {
            "application/json" => {
                if !content_type.contains("charset") {
                    warnings.push("missing_charset");
                }
                let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
                    return Err("invalid_json");
                };
                // As sent, `token` included: JSON calls authenticate by header only.
                params.extend(fields);
            }
            "application/x-www-form-urlencoded" => {
                let mut fields = Map::new();
                insert_form_fields(&mut fields, form_urlencoded::parse(body));
                if let Some(Value::String(form_token)) = fields.remove("token") {
                    token = token.or(Some(form_token));
                }
                params.extend(fields);
            }
            // Multipart and the rest are real Slack input the fake does not read; an
            // error that names the fake beats a misleading Slack one.
            _ => return Err("fake_slack_unsupported_content_type"),
        }
    }
    Ok(Request {
        token: token.filter(|t| !t.is_empty()),
        params,
        warnings,
    })
}

/// Form fields are strings, except `blocks`, which Slack takes as a JSON string and
/// which is far easier to assert on decoded.
fn insert_form_fields<'a>(
    params: &mut Map<String, Value>,
    fields: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) {
    for (name, value) in fields {
        let value = match name.as_ref() {
            "blocks" => serde_json::from_str(&value).unwrap_or(Value::String(value.into())),
            _ => Value::String(value.into()),
        };
        params.insert(name.into_owned(), value);
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// What goes back over HTTP.
struct Answer {
    status: StatusCode,
    /// JSON bodies; `Value::String` for the plain-text body of a 500.
    body: Value,
    retry_after: Option<u64>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }

    fn injected(failure: Failure) -> Answer {
        match failure {
            Failure::RateLimited { retry_after_secs } => Answer {
                status: StatusCode::TOO_MANY_REQUESTS,
                body: json!({"ok": false, "error": "ratelimited"}),
                retry_after: Some(retry_after_secs),
            },
            Failure::ServerError => Answer::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                Value::String("Internal Server Error".into()),
            ),
            Failure::Api(code) => Answer::json(StatusCode::OK, json!({"ok": false, "error": code})),
            Failure::NeverAnswers | Failure::DoneButNeverAnswers => {
                unreachable!("answered by never answering")
            }
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Value::String(text) => (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text,
            )
                .into_response(),
            body => (
                self.status,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                body.to_string(),
            )
                .into_response(),
        };
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                secs.to_string().parse().expect("digits"),
            );
        }
        response
    }
}
