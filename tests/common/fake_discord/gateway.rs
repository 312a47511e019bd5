//! The gateway WebSocket at `/gateway?v=10`: Hello, Identify → READY (+ GUILD_CREATE),
//! heartbeats, Resume → replay + RESUMED (or op 9), dispatches from the test, and
//! Discord's close codes for protocol errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State as Shared};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{intents, payloads, Live, Outbound, Session, State, BOT_USER_ID, TOKEN};

pub(super) async fn upgrade(
    Shared(shared): Shared<Arc<Mutex<State>>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| connection(shared, query, socket))
}

/// What handling one client frame asks of the connection.
#[derive(Default)]
struct Action {
    send: Vec<Value>,
    close: Option<(u16, &'static str)>,
}

impl Action {
    fn close(code: u16, reason: &'static str) -> Action {
        Action {
            send: Vec::new(),
            close: Some((code, reason)),
        }
    }
}

async fn connection(shared: Arc<Mutex<State>>, query: Option<String>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let lock = || shared.lock().expect("fake Discord lock");
    let (conn, hello) = {
        let mut state = lock();
        state.gateway.connections += 1;
        let hello = json!({
            "op": 10, "s": null, "t": null,
            "d": {"heartbeat_interval": state.gateway.heartbeat_interval_ms,
                  "_trace": ["[\"fake-discord-gateway\"]"]},
        });
        (state.gateway.connections, hello)
    };
    let version = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("v=").map(str::to_string));
    if version.as_deref() != Some("10") {
        close(&mut socket, 4012, "Invalid API version").await;
        return;
    }
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    let mut identified = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        close(&mut socket, 4002, "Error while decoding payload.").await;
                        break;
                    }
                    Some(Ok(Message::Close(_))) => {
                        // Reading on sends tungstenite's queued close reply; serenity
                        // waits for it before it reconnects or shuts down.
                        drain(&mut socket).await;
                        break;
                    }
                    Some(Err(_)) | None => break,
                };
                let action = on_frame(&mut lock(), conn, &tx, &mut identified, &text);
                let mut failed = false;
                for frame in &action.send {
                    failed |= send(&mut socket, frame).await.is_err();
                }
                if let Some((code, reason)) = action.close {
                    close(&mut socket, code, reason).await;
                    break;
                }
                if failed {
                    break;
                }
            }
            outgoing = rx.recv() => match outgoing {
                Some(Outbound::Frame(frame)) => {
                    if send(&mut socket, &frame).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code)) => {
                    close(&mut socket, code, "").await;
                    break;
                }
                None => break,
            },
        }
    }
    let mut state = lock();
    if state.gateway.live.as_ref().is_some_and(|l| l.conn == conn) {
        state.gateway.live = None;
    }
}

async fn send(socket: &mut WebSocket, frame: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(frame.to_string())).await
}

/// Sends a close frame, then reads until the client's reply so the close handshake
/// completes (serenity waits for it when it shuts a shard down).
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        drain(socket).await;
    }
}

/// Reads until the connection ends (bounded, so a silent client cannot hang a test).
async fn drain(socket: &mut WebSocket) {
    let read_all = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), read_all).await;
}

fn token_ok(d: &Value) -> bool {
    // Discord takes the token with or without serenity's "Bot " prefix.
    d["token"]
        .as_str()
        .is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == TOKEN)
}

fn on_frame(
    state: &mut State,
    conn: usize,
    tx: &mpsc::UnboundedSender<Outbound>,
    identified: &mut bool,
    text: &str,
) -> Action {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return Action::close(4002, "Error while decoding payload.");
    };
    let d = &frame["d"];
    match frame["op"].as_u64() {
        Some(1) => {
            state.gateway.heartbeats += 1;
            Action {
                send: vec![json!({"op": 11, "d": null, "s": null, "t": null})],
                close: None,
            }
        }
        Some(2) if *identified => Action::close(4005, "Already authenticated."),
        Some(2) => identify(state, conn, tx, identified, d),
        Some(6) if *identified => Action::close(4005, "Already authenticated."),
        Some(6) => resume(state, conn, tx, identified, d),
        // Presence, voice state, member and soundboard requests: accepted, not modelled.
        Some(3 | 4 | 8 | 31) if *identified => Action::default(),
        Some(3 | 4 | 8 | 31) => Action::close(4003, "Not authenticated."),
        _ => Action::close(4001, "Unknown opcode."),
    }
}

/// The next dispatch frame of a session, kept for replay on resume.
fn next_frame(session: &mut Session, event: &str, data: Value) -> Value {
    session.seq += 1;
    let frame = json!({"op": 0, "s": session.seq, "t": event, "d": data});
    session.events.push(frame.clone());
    frame
}

fn identify(
    state: &mut State,
    conn: usize,
    tx: &mpsc::UnboundedSender<Outbound>,
    identified: &mut bool,
    d: &Value,
) -> Action {
    if !token_ok(d) {
        return Action::close(4004, "Authentication failed.");
    }
    let Some(wanted) = d["intents"].as_u64() else {
        return Action::close(4013, "Invalid intent(s).");
    };
    if wanted & intents::PRIVILEGED & !state.gateway.privileged_allowed != 0 {
        return Action::close(4014, "Disallowed intent(s).");
    }
    let shard = match &d["shard"] {
        Value::Null => json!([0, 1]),
        shard => shard.clone(),
    };
    let valid_shard = matches!(
        (shard[0].as_u64(), shard[1].as_u64()),
        (Some(id), Some(total)) if total >= 1 && id < total
    );
    if !valid_shard {
        return Action::close(4010, "Invalid shard.");
    }
    *identified = true;
    state.gateway.identify = Some(d.clone());
    state.gateway.identifies += 1;
    let mut session = Session {
        id: uuid::Uuid::new_v4().simple().to_string(),
        seq: 0,
        intents: wanted,
        events: Vec::new(),
    };
    let ready = payloads::ready_json(&session.id, &state.gateway_url(), shard);
    let mut send = vec![next_frame(&mut session, "READY", ready)];
    if wanted & intents::GUILDS != 0 {
        let channels: Vec<u64> = state.channels.iter().copied().collect();
        send.push(next_frame(
            &mut session,
            "GUILD_CREATE",
            payloads::guild_create(&channels),
        ));
    }
    state.gateway.session = Some(session);
    state.gateway.live = Some(Live {
        conn,
        tx: tx.clone(),
    });
    Action { send, close: None }
}

fn resume(
    state: &mut State,
    conn: usize,
    tx: &mpsc::UnboundedSender<Outbound>,
    identified: &mut bool,
    d: &Value,
) -> Action {
    if !token_ok(d) {
        return Action::close(4004, "Authentication failed.");
    }
    state.gateway.resumes.push(d.clone());
    let seq = d["seq"].as_u64().unwrap_or(0);
    let Some(session) = state
        .gateway
        .session
        .as_mut()
        .filter(|s| d["session_id"] == s.id.as_str())
    else {
        // Not resumable: the client must identify again.
        return Action {
            send: vec![json!({"op": 9, "d": false, "s": null, "t": null})],
            close: None,
        };
    };
    if seq > session.seq {
        return Action::close(4007, "Invalid seq.");
    }
    let mut send: Vec<Value> = session
        .events
        .iter()
        .filter(|frame| frame["s"].as_u64().is_some_and(|s| s > seq))
        .cloned()
        .collect();
    send.push(next_frame(
        session,
        "RESUMED",
        json!({"_trace": ["[\"fake-discord-gateway\"]"]}),
    ));
    *identified = true;
    state.gateway.live = Some(Live {
        conn,
        tx: tx.clone(),
    });
    Action { send, close: None }
}

/// Which intent an event needs, for the events the fake knows; others always pass.
fn needed_intent(event: &str, data: &Value) -> Option<u64> {
    match event {
        "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE"
        | "CHANNEL_DELETE" | "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" | "GUILD_ROLE_DELETE" => {
            Some(intents::GUILDS)
        }
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => {
            Some(if data["guild_id"].is_null() {
                intents::DIRECT_MESSAGES
            } else {
                intents::GUILD_MESSAGES
            })
        }
        "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => {
            Some(intents::GUILD_MEMBERS)
        }
        "PRESENCE_UPDATE" => Some(intents::GUILD_PRESENCES),
        _ => None,
    }
}

/// Without MESSAGE_CONTENT a bot gets guild messages with content, embeds,
/// attachments and components blanked, unless it wrote them or is mentioned.
fn blank_content(mut data: Value, granted: u64) -> Value {
    let mine = data["author"]["id"] == BOT_USER_ID.to_string().as_str();
    let mentioned = data["mentions"].as_array().is_some_and(|m| {
        m.iter()
            .any(|u| u["id"] == BOT_USER_ID.to_string().as_str())
    });
    if granted & intents::MESSAGE_CONTENT == 0 && !data["guild_id"].is_null() && !mine && !mentioned
    {
        data["content"] = "".into();
        for key in ["embeds", "attachments", "components"] {
            data[key] = json!([]);
        }
        if let Some(fields) = data.as_object_mut() {
            fields.remove("poll");
        }
    }
    data
}

/// Adds `event` to the session and sends it on the live connection, if any; see
/// [`super::FakeDiscord::dispatch`].
pub(super) fn dispatch(state: &mut State, event: &str, data: Value) -> bool {
    let granted = state
        .gateway
        .session
        .as_ref()
        .expect("dispatch: the bot has not identified")
        .intents;
    if needed_intent(event, &data).is_some_and(|needed| granted & needed == 0) {
        return false;
    }
    let data = match event {
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" => blank_content(data, granted),
        _ => data,
    };
    if event == "INTERACTION_CREATE" {
        state.register_interaction(&data);
    }
    let session = state.gateway.session.as_mut().expect("checked above");
    let frame = next_frame(session, event, data);
    if let Some(live) = &state.gateway.live {
        // A connection that just dropped keeps the event for replay on resume.
        let _ = live.tx.send(Outbound::Frame(frame));
    }
    true
}
