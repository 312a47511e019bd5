//! Socket Mode: the WebSocket endpoint a ticket from `apps.connections.open` opens,
//! and the test's side of it: envelopes out, acks back, `disconnect` to make the
//! client reconnect.
//!
//! Envelopes go to the newest live connection (Slack spreads them over all of an
//! app's connections; tests run one). Pings are answered by the WebSocket layer as
//! long as the connection is being read, which it always is.

use std::collections::{HashMap, HashSet};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{FakeSlack, APP_ID};

/// The Socket Mode side of the fake's state.
#[derive(Default)]
pub(super) struct SocketState {
    /// Handed out by `apps.connections.open`; each opens one connection.
    pub tickets: HashSet<String>,
    /// Open connections, oldest first.
    live: Vec<Connection>,
    /// Connections ever opened.
    pub connections: usize,
    /// Every frame the client sent, parsed; a frame that is not JSON is kept as a
    /// string.
    pub received: Vec<Value>,
    pub pings: usize,
    next_id: u64,
}

impl SocketState {
    pub fn live(&self) -> usize {
        self.live.len()
    }
}

struct Connection {
    id: u64,
    outgoing: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Text(String),
    Close,
}

/// What Slack sends on a connection's first frame.
fn hello(num_connections: usize) -> Value {
    json!({
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": "applink-fake",
            "build_number": 1,
            "approximate_connection_time": 18060
        },
        "connection_info": {"app_id": APP_ID}
    })
}

/// `GET /socket?ticket=...`: the ticket must come from `apps.connections.open` and
/// works once.
pub(super) async fn upgrade(
    State(fake): State<FakeSlack>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let valid = query
        .get("ticket")
        .is_some_and(|ticket| fake.state().socket.tickets.remove(ticket));
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            "unknown or already used Socket Mode ticket",
        )
            .into_response();
    }
    ws.on_upgrade(move |socket| serve(fake, socket))
}

async fn serve(fake: FakeSlack, socket: WebSocket) {
    let (sender, mut outgoing) = mpsc::unbounded_channel();
    let (id, live) = {
        let mut state = fake.state();
        let socket_state = &mut state.socket;
        socket_state.next_id += 1;
        socket_state.connections += 1;
        socket_state.live.push(Connection {
            id: socket_state.next_id,
            outgoing: sender,
        });
        (socket_state.next_id, socket_state.live.len())
    };
    let (mut sink, mut stream) = socket.split();
    if sink
        .send(Message::Text(hello(live).to_string()))
        .await
        .is_ok()
    {
        // Only now may envelopes flow: Slack always says hello first.
        fake.notify();
        loop {
            tokio::select! {
                out = outgoing.recv() => match out {
                    Some(Outgoing::Text(text)) => {
                        if sink.send(Message::Text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Close) | None => {
                        let _ = sink.send(Message::Close(None)).await;
                        break;
                    }
                },
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => fake.receive(&text),
                    // The pong is already queued by the WebSocket layer.
                    Some(Ok(Message::Ping(_))) => fake.state().socket.pings += 1,
                    Some(Ok(Message::Pong(_) | Message::Binary(_))) => {}
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                },
            }
        }
    }
    fake.state().socket.live.retain(|c| c.id != id);
    fake.notify();
}

impl FakeSlack {
    fn receive(&self, text: &str) {
        let frame = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
        self.state().socket.received.push(frame);
        self.notify();
    }

    /// Sends a Socket Mode envelope (`slash_commands`, `interactive` or `events_api`)
    /// and waits for the client's ack, which it returns.
    pub async fn send_envelope(&self, kind: &str, payload: Value) -> Value {
        let envelope_id = self.push_envelope(kind, payload).await;
        self.wait_ack(&envelope_id).await
    }

    /// Sends an envelope without waiting for its ack; returns its `envelope_id`.
    pub async fn push_envelope(&self, kind: &str, payload: Value) -> String {
        let envelope_id = uuid::Uuid::new_v4().to_string();
        self.push(envelope(kind, payload, &envelope_id, 0)).await;
        envelope_id
    }

    /// Redelivers an `events_api` envelope as Slack does when it saw no ack in time:
    /// same `envelope_id`, `retry_attempt` > 0, `retry_reason: "timeout"`. Waits for
    /// and returns the new ack.
    pub async fn send_retry(
        &self,
        kind: &str,
        payload: Value,
        envelope_id: &str,
        attempt: u32,
    ) -> Value {
        assert_eq!(
            kind, "events_api",
            "Slack redelivers only events_api envelopes"
        );
        assert!(attempt > 0, "a redelivery has retry_attempt > 0");
        let earlier = self.acks_of(envelope_id).len();
        self.push(envelope(kind, payload, envelope_id, attempt))
            .await;
        self.wait_until(&format!("a new ack of envelope {envelope_id}"), |state| {
            acks_in(&state.socket.received, envelope_id)
                .nth(earlier)
                .cloned()
        })
        .await
    }

    /// Waits for the client's first ack of `envelope_id`.
    pub async fn wait_ack(&self, envelope_id: &str) -> Value {
        self.wait_until(&format!("the ack of envelope {envelope_id}"), |state| {
            acks_in(&state.socket.received, envelope_id).next().cloned()
        })
        .await
    }

    /// Every ack received so far (frames carrying an `envelope_id`).
    pub fn acks(&self) -> Vec<Value> {
        self.state()
            .socket
            .received
            .iter()
            .filter(|f| f.get("envelope_id").is_some())
            .cloned()
            .collect()
    }

    /// The acks of one envelope so far.
    pub fn acks_of(&self, envelope_id: &str) -> Vec<Value> {
        acks_in(&self.state().socket.received, envelope_id)
            .cloned()
            .collect()
    }

    /// Sends Slack's `disconnect` (`refresh_requested`) on the newest connection and
    /// closes it, as Slack does before it recycles a connection.
    pub async fn disconnect(&self) {
        let frame = json!({
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-fake"}
        })
        .to_string();
        self.close_newest("a live connection to disconnect", Some(frame))
            .await;
    }

    /// Closes the newest connection without a word, as a network failure would.
    pub async fn drop_connection(&self) {
        self.close_newest("a live connection to drop", None).await;
    }

    /// How many connections the client has opened so far.
    pub fn connections(&self) -> usize {
        self.state().socket.connections
    }

    /// How many connections are open now.
    pub fn live_connections(&self) -> usize {
        self.state().socket.live()
    }

    /// How many WebSocket pings the client has sent.
    pub fn pings(&self) -> usize {
        self.state().socket.pings
    }

    /// Waits until the client has opened `n` connections in all.
    pub async fn wait_for_connections(&self, n: usize) {
        self.wait_until(&format!("{n} Socket Mode connection(s) in all"), |state| {
            (state.socket.connections >= n).then_some(())
        })
        .await;
    }

    /// Waits until exactly `n` connections are open.
    pub async fn wait_for_live_connections(&self, n: usize) {
        self.wait_until(&format!("{n} open Socket Mode connection(s)"), |state| {
            (state.socket.live() == n).then_some(())
        })
        .await;
    }

    async fn push(&self, frame: Value) {
        let text = frame.to_string();
        self.wait_until("a live Socket Mode connection to send on", |state| {
            // A connection whose task has ended is dropped and the next one tried.
            while let Some(connection) = state.socket.live.last() {
                if connection
                    .outgoing
                    .send(Outgoing::Text(text.clone()))
                    .is_ok()
                {
                    return Some(());
                }
                state.socket.live.pop();
            }
            None
        })
        .await;
    }

    async fn close_newest(&self, what: &str, last_words: Option<String>) {
        self.wait_until(what, |state| {
            // Out of `live` at once, so nothing more is sent on it.
            let connection = state.socket.live.pop()?;
            if let Some(text) = last_words.clone() {
                let _ = connection.outgoing.send(Outgoing::Text(text));
            }
            let _ = connection.outgoing.send(Outgoing::Close);
            Some(())
        })
        .await;
    }
}

fn acks_in<'a>(received: &'a [Value], envelope_id: &'a str) -> impl Iterator<Item = &'a Value> {
    received
        .iter()
        .filter(move |f| f.get("envelope_id").and_then(Value::as_str) == Some(envelope_id))
}

/// An envelope as Slack sends it. A response payload is accepted for slash commands,
/// `view_submission` and `block_suggestion`; not for events nor `block_actions`.
/// Only `events_api` envelopes carry retry fields, since only events are redelivered.
fn envelope(kind: &str, payload: Value, envelope_id: &str, attempt: u32) -> Value {
    let accepts_response_payload = match kind {
        "slash_commands" => true,
        "interactive" => matches!(
            payload["type"].as_str(),
            Some("view_submission" | "block_suggestion")
        ),
        "events_api" => false,
        other => panic!("Socket Mode has no {other:?} envelopes"),
    };
    let mut envelope = json!({
        "envelope_id": envelope_id,
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts_response_payload
    });
    if kind == "events_api" {
        envelope["retry_attempt"] = json!(attempt);
        envelope["retry_reason"] = json!(if attempt > 0 { "timeout" } else { "" });
    }
    envelope
}
