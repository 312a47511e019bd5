//! A local HTTP server playing the application under repair: `/health`, `/metrics`
//! and whatever a test sets. It records every request it receives.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as received.
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct Shared {
    /// (METHOD, path) → queue of (status, body); the last entry repeats.
    routes: HashMap<(String, String), Vec<(u16, Value)>>,
    log: Vec<Request>,
}

#[derive(Clone)]
pub struct FakeApp {
    shared: Arc<Mutex<Shared>>,
    pub addr: SocketAddr,
}

impl FakeApp {
    /// Starts on a free port with a healthy application.
    pub async fn start() -> FakeApp {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake app serves");
        });
        let fake = FakeApp { shared, addr };
        fake.set("GET", "/health", 200, json!({"status": "healthy"}));
        fake.set("GET", "/health/db", 200, json!({"status": "healthy"}));
        fake.set(
            "GET",
            "/metrics",
            200,
            json!({"errorRate": 0.05, "p95": 180}),
        );
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request to `method path` answers `status` with `body` from now on.
    pub fn set(&self, method: &str, path: &str, status: u16, body: Value) {
        self.sequence(method, path, vec![(status, body)]);
    }

    /// Answers in turn; the last answer repeats.
    pub fn sequence(&self, method: &str, path: &str, answers: Vec<(u16, Value)>) {
        let mut s = self.shared.lock().expect("fake app lock");
        s.routes
            .insert((method.to_string(), path.to_string()), answers);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().expect("fake app lock").log.clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

async fn handle(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = uri
        .path_and_query()
        .map_or(uri.path().to_string(), |p| p.to_string());
    let mut s = shared.lock().expect("fake app lock");
    s.log.push(Request {
        method: method.to_string(),
        path: path.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let key = (method.to_string(), uri.path().to_string());
    match s.routes.get_mut(&key) {
        Some(answers) => {
            let (status, body) = if answers.len() > 1 {
                answers.remove(0)
            } else {
                answers[0].clone()
            };
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                axum::Json(body),
            )
                .into_response()
        }
        None => (StatusCode::OK, axum::Json(json!({"ok": true}))).into_response(),
    }
}
