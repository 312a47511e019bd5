//! A local fake of Discord that speaks the real wire format, so the Discord adapter
//! (serenity 0.12) is tested against something that refuses what Discord refuses.
//!
//! It owns one axum server per test on `127.0.0.1:0` with all state in memory:
//! the HTTP API v10 under `/api/v10/...` (reached through serenity's
//! `HttpBuilder::proxy`, see [`FakeDiscord::http`]) and the gateway WebSocket at
//! `/gateway`. Submodules: `state` (what the routes and the gateway share, under one
//! lock), `rest` (routing, auth, failure injection, recording, channel messages,
//! commands), `interactions` (callbacks and interaction webhooks), `messages` (stored
//! messages and their mentions), `validate` (Discord's message and command limits and
//! its `50035 Invalid Form Body` error tree), `gateway` (Hello / Identify / Ready /
//! Resume / heartbeats / dispatch) and `payloads` (JSON shapes and the builders).
//!
//! Discord behaviour reproduced:
//! - `Authorization: Bot <token>` on every route except the interaction callback and
//!   interaction webhooks (authenticated by the token in the path); 401 otherwise.
//! - Bulk command overwrite with Discord's validation (names, lengths, counts, option
//!   order, sub-command nesting, choices, duplicates, 8000-character size); command ids
//!   are kept across overwrites, as Discord does.
//! - Messages: content, embed, component and allowed-mention limits, empty messages
//!   (50006), unknown channels (10003) and messages (10008), editing another user's
//!   message (50005), history newest first with `before`/`after`/`limit`, mentions
//!   computed from content and `allowed_mentions`.
//! - Interactions: response types 1, 4, 5, 6, 7 checked against the interaction's type,
//!   one response only (40060), the 3 s deadline and unknown ids (10062), follow-ups only
//!   after the response, unknown webhooks (10015), expired tokens (50027), ephemeral
//!   messages kept out of channel history.
//! - 429s with Discord's body and `Retry-After` / `X-RateLimit-*` headers; 500 and 502
//!   (Cloudflare HTML); `X-RateLimit-*` headers on successes too.
//! - Gateway: Hello, Identify (token, shard, privileged intents: close codes 4004, 4010,
//!   4014), Ready and GUILD_CREATE, heartbeat acks, Resume with replay of missed events
//!   then RESUMED, op 9 for a lost session, close codes 4001/4002/4003/4005/4012, events
//!   filtered by intents and message content blanked without `MESSAGE_CONTENT`.
//! - Ed25519 signatures of interactions delivered over HTTP (`X-Signature-*`).
//!
//! - The *Embed Links* permission: a channel message (or edit) with embeds, in a
//!   channel where the bot lacks it, is 403 `50013 Missing Permissions`
//!   (discord/discord-api-docs: `EMBED_LINKS (1 << 14)` in
//!   `developers/topics/permissions.mdx`, 50013 "You lack permissions to perform that
//!   action" in `developers/topics/opcodes-and-status-codes.mdx`; the error body
//!   `{code, message}` is `ErrorResponse` in discord/discord-api-spec
//!   `specs/openapi.json`). The bot holds it nowhere unless granted.
//!
//! Not reproduced: real rate-limit buckets (429s only when injected), attachments and
//! multipart uploads (refused), modals, autocomplete and premium responses (type 8, 9,
//! 10, 12 are refused), Components V2, threads, reactions, permissions other than Embed
//! Links (the bot may post in every known channel), gateway compression (frames are plain text, which serenity
//! accepts even though it identifies with `compress: true`), identify rate limits and
//! sharding beyond one shard. Error codes and messages follow Discord's where known;
//! a few form-error codes for rarer rules are close approximations.

mod gateway;
mod interactions;
mod messages;
mod payloads;
mod rest;
mod state;
mod validate;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use state::{GatewayState, Live, Outbound, Session, State};

// Each test binary that includes `common` uses a different subset.
#[allow(unused_imports)]
pub use payloads::{
    button_interaction, command_id, command_interaction, guild_create, message_create,
    ping_interaction, user_json,
};

/// The bot token the fake accepts; serenity sends it as `Authorization: Bot <TOKEN>`.
pub const TOKEN: &str = "fake-discord-bot-token";
/// The application's id. Deliberately different from [`BOT_USER_ID`] (newer Discord
/// apps have them equal), so code that mixes them up fails here.
pub const APP_ID: u64 = 1_180_000_000_000_000_001;
/// The bot user's id.
pub const BOT_USER_ID: u64 = 1_180_000_000_000_000_002;
/// The one guild the bot is in.
pub const GUILD_ID: u64 = 1_180_000_000_000_000_003;
/// A text channel of [`GUILD_ID`] that exists from the start.
pub const CHANNEL_ID: u64 = 1_180_000_000_000_000_004;
/// The bot user's name.
pub const BOT_USERNAME: &str = "warroom";

/// Gateway intent bits the fake looks at.
pub mod intents {
    pub const GUILDS: u64 = 1;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    /// The intents an app must switch on in the developer portal.
    pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
}

/// How long `wait_*` helpers wait before failing the test. Long enough for serenity to
/// re-identify, which its shard queue delays by up to 5 s.
const WAIT: Duration = Duration::from_secs(15);

/// A failure injected into the next request that matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429 with Discord's body (`message`, `retry_after`, `global: false`, no `code`)
    /// and headers (`Retry-After`, `X-RateLimit-*`, scope `user`).
    RateLimited { retry_after: f64 },
    /// 500 with `{"message": "500: Internal Server Error", "code": 0}`.
    ServerError,
    /// 502 with Cloudflare's HTML page, as Discord's edge answers.
    BadGateway,
    /// Any status with any JSON body (e.g. 403 `Missing Permissions`).
    Status(u16, Value),
    /// The request is read and never answered (the connection stays open).
    NeverAnswers,
    /// The request is carried out (the message created) and its answer never comes.
    DoneButNeverAnswers,
}

/// One HTTP request the fake received, with the status it answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as received (`/api/v10/...`).
    pub path: String,
    pub auth: Option<String>,
    /// The JSON body; `Null` when empty, a string when it was not JSON.
    pub body: Value,
    pub status: u16,
    /// What the fake answered (`Null` for 204).
    pub response: Value,
    /// Whether the answer came from [`FakeDiscord::fail_next`].
    pub injected: bool,
}

/// A message as the fake stores it: its current state plus every accepted edit.
#[derive(Debug, Clone)]
pub struct FakeMessage {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    /// Discord's message type: 0 default, 20 reply to a slash command.
    pub kind: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    pub components: Vec<Value>,
    /// The last `allowed_mentions` sent for it, exactly as sent.
    pub allowed_mentions: Option<Value>,
    /// Message flags: 64 ephemeral, 128 loading (deferred), 4 suppress embeds, ...
    pub flags: u64,
    /// The request body of each accepted edit, oldest first.
    pub edits: Vec<Value>,
    pub deleted: bool,
    /// The interaction token when the message is an interaction response or follow-up.
    pub interaction_token: Option<String>,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
    /// The `nonce` it was created with, if any, and when (for `enforce_nonce`).
    pub nonce: Option<(String, std::time::Instant)>,
}

impl FakeMessage {
    /// Whether only the invoking user sees it.
    pub fn is_ephemeral(&self) -> bool {
        self.flags & 64 != 0
    }

    /// Every `custom_id` of the message's components, in order.
    pub fn custom_ids(&self) -> Vec<String> {
        messages::custom_ids(&self.components)
    }

    /// The users Discord would ping: `<@id>` in the content, filtered by
    /// `allowed_mentions` (all allowed when it is absent).
    pub fn mentioned_users(&self) -> Vec<u64> {
        messages::mentions(&self.content, self.allowed_mentions.as_ref()).users
    }

    /// The roles Discord would ping (`<@&id>`), filtered the same way.
    pub fn mentioned_roles(&self) -> Vec<u64> {
        messages::mentions(&self.content, self.allowed_mentions.as_ref()).roles
    }

    /// Whether `@everyone` / `@here` would ping.
    pub fn mentions_everyone(&self) -> bool {
        messages::mentions(&self.content, self.allowed_mentions.as_ref()).everyone
    }

    /// The message as Discord's REST API returns it.
    pub fn json(&self) -> Value {
        messages::message_json(self)
    }
}

/// A running fake Discord. Clones share the same server and state.
#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Mutex<State>>,
    addr: SocketAddr,
    signing_key: Arc<ed25519_dalek::SigningKey>,
}

impl FakeDiscord {
    /// Starts on a free port with the guild, [`CHANNEL_ID`], no commands, no messages.
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Discord");
        let addr = listener.local_addr().expect("fake Discord address");
        // A fixed seed: signatures are reproducible and no RNG is needed.
        let signing_key = Arc::new(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        let shared = Arc::new(Mutex::new(State {
            base: format!("http://{addr}"),
            verify_key: payloads::hex(signing_key.verifying_key().as_bytes()),
            requests: Vec::new(),
            failures: Vec::new(),
            last_snowflake: 0,
            channels: BTreeSet::from([CHANNEL_ID]),
            embed_links: BTreeSet::new(),
            messages: BTreeMap::new(),
            interactions: HashMap::new(),
            tokens: HashMap::new(),
            interaction_responses: Vec::new(),
            global_commands: Vec::new(),
            guild_commands: HashMap::new(),
            ack_deadline: Some(Duration::from_secs(3)),
            gateway: GatewayState {
                connections: 0,
                identify: None,
                identifies: 0,
                resumes: Vec::new(),
                heartbeats: 0,
                heartbeat_interval_ms: 41_250,
                privileged_allowed: intents::PRIVILEGED,
                session: None,
                live: None,
            },
        }));
        let app = axum::Router::new()
            .route("/gateway", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake Discord serves");
        });
        FakeDiscord {
            shared,
            addr,
            signing_key,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock().expect("fake Discord lock")
    }

    /// What replaces `https://discord.com` in serenity's `HttpBuilder::proxy`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway URL that `GET /api/v10/gateway` hands out.
    pub fn gateway_url(&self) -> String {
        self.state().gateway_url()
    }

    /// A serenity HTTP client pointed at the fake: proxied, rate limiter off (serenity's
    /// rate limiter ignores the proxy and would call discord.com), application id set.
    pub fn http(&self) -> serenity::http::Http {
        serenity::http::HttpBuilder::new(TOKEN)
            .proxy(self.url())
            .ratelimiter_disabled(true)
            .application_id(APP_ID.into())
            .build()
    }

    // ---- recording ----

    /// Every HTTP request received, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// The 4xx answers that were not injected: what Discord would have refused.
    pub fn rejections(&self) -> Vec<Request> {
        self.state()
            .requests
            .iter()
            .filter(|r| (400..500).contains(&r.status) && !r.injected)
            .cloned()
            .collect()
    }

    /// The messages of a channel as members see them (ephemeral ones excluded, deleted
    /// ones included and marked), oldest first.
    pub fn channel_messages(&self, channel_id: u64) -> Vec<FakeMessage> {
        self.state()
            .messages
            .values()
            .filter(|m| m.channel_id == channel_id && !m.is_ephemeral())
            .cloned()
            .collect()
    }

    /// Any stored message by id, ephemeral or not.
    pub fn message(&self, id: u64) -> Option<FakeMessage> {
        self.state().messages.get(&id).cloned()
    }

    /// Every accepted interaction response: (interaction id, token, body).
    pub fn interaction_responses(&self) -> Vec<(u64, String, Value)> {
        self.state().interaction_responses.clone()
    }

    /// The follow-up messages sent with an interaction token, oldest first.
    pub fn followups(&self, token: &str) -> Vec<FakeMessage> {
        let state = self.state();
        let Some(interaction) = state
            .tokens
            .get(token)
            .and_then(|id| state.interactions.get(id))
        else {
            return Vec::new();
        };
        interaction
            .followups
            .iter()
            .filter_map(|id| state.messages.get(id).cloned())
            .collect()
    }

    /// The interaction's original response message: the reply (type 4/5) or, for a
    /// component acknowledged with type 6/7, the message the component is on.
    pub fn original(&self, token: &str) -> Option<FakeMessage> {
        let state = self.state();
        let interaction = state.interactions.get(state.tokens.get(token)?)?;
        state.messages.get(&interaction.original?).cloned()
    }

    /// The last accepted set of global commands, as Discord returned them.
    pub fn registered_commands(&self) -> Value {
        Value::Array(self.state().global_commands.clone())
    }

    /// The last accepted set of a guild's commands.
    pub fn registered_guild_commands(&self, guild_id: u64) -> Value {
        Value::Array(
            self.state()
                .guild_commands
                .get(&guild_id)
                .cloned()
                .unwrap_or_default(),
        )
    }

    // ---- test hooks ----

    /// The next request whose `METHOD /path?query` contains `route_substring` gets
    /// `failure` and changes nothing. Several injections are used in order.
    pub fn fail_next(&self, route_substring: &str, failure: Failure) {
        self.state()
            .failures
            .push((route_substring.to_string(), failure));
    }

    /// Makes a channel exist (posting elsewhere is `10003 Unknown Channel`).
    pub fn add_channel(&self, channel_id: u64) {
        self.state().channels.insert(channel_id);
    }

    /// Grants the bot *Embed Links* in `channel`. Without it (the default, as in a
    /// channel where `@everyone` lacks it and the bot was invited with the
    /// permissions README lists), a message with embeds is refused: 403, code 50013.
    pub fn allow_embed_links(&self, channel_id: u64) {
        self.state().embed_links.insert(channel_id);
    }

    /// Adds a message by someone else to a channel's history; returns its id.
    pub fn add_history(&self, channel_id: u64, author_id: u64, content: &str) -> u64 {
        let mut state = self.state();
        state.channels.insert(channel_id);
        let id = state.snowflake();
        let message = messages::new_message(id, channel_id, author_id, content);
        state.messages.insert(id, message);
        id
    }

    /// Makes an interaction payload's id and token known, for interactions delivered
    /// over HTTP rather than dispatched on the gateway.
    pub fn register_interaction(&self, payload: &Value) {
        self.state().register_interaction(payload);
    }

    /// Ends an interaction token's 15 minutes: its webhook routes answer
    /// `401 Invalid Webhook Token (50027)`.
    pub fn expire_token(&self, token: &str) {
        let mut state = self.state();
        let id = *state
            .tokens
            .get(token)
            .expect("expire_token: unknown token");
        state
            .interactions
            .get_mut(&id)
            .expect("known interaction")
            .expired = true;
    }

    /// How long after delivery an interaction may still be answered (3 s, as Discord);
    /// `None` disables the check.
    pub fn set_ack_deadline(&self, deadline: Option<Duration>) {
        self.state().ack_deadline = deadline;
    }

    /// The application's public key (hex), as in the application object's `verify_key`.
    pub fn verify_key(&self) -> String {
        self.state().verify_key.clone()
    }

    /// Discord's `X-Signature-Ed25519` for a body sent at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        use ed25519_dalek::Signer;
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        payloads::hex(&self.signing_key.sign(&message).to_bytes())
    }

    /// Delivers an interaction to the bot's interactions endpoint as Discord does:
    /// registered first, then POSTed with `X-Signature-Ed25519` and
    /// `X-Signature-Timestamp`. A 200 answer carrying an interaction response is applied
    /// like a callback and recorded (path ending in `(HTTP response)`), so a malformed
    /// one shows in [`rejections`](Self::rejections). Returns the bot's status and body.
    pub async fn post_interaction(&self, url: &str, payload: &Value) -> (u16, Value) {
        self.register_interaction(payload);
        let body = serde_json::to_vec(payload).expect("payload serializes");
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                "Discord-Interactions/1.0 (+https://discord.com)",
            )
            .header("x-signature-ed25519", self.sign(&timestamp, &body))
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await
            .expect("bot's interactions endpoint answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let answer = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status == 200 && answer.get("type").is_some() {
            let id = payloads::snowflake_of(&payload["id"]).expect("interaction id");
            let token = payload["token"].as_str().expect("interaction token");
            let mut state = self.state();
            let reply = interactions::callback(&mut state, id, token, &answer);
            state.requests.push(Request {
                method: "POST".into(),
                path: format!("/api/v10/interactions/{id}/{token}/callback (HTTP response)"),
                auth: None,
                body: answer.clone(),
                status: reply.status,
                response: reply.recorded(),
                injected: false,
            });
        }
        (status, answer)
    }

    // ---- gateway ----

    /// The `heartbeat_interval` the next Hello announces (41250 ms by default).
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.state().gateway.heartbeat_interval_ms = ms;
    }

    /// Which privileged intents the app has switched on (all by default); identifying
    /// with others closes the gateway with 4014 as Discord does.
    pub fn set_privileged_intents(&self, bits: u64) {
        self.state().gateway.privileged_allowed = bits;
    }

    /// Waits until a connection holds a ready or resumed session.
    pub async fn wait_ready(&self) {
        self.wait_for("a ready gateway session", |f| {
            f.state().gateway.live.is_some()
        })
        .await;
    }

    /// Polls `cond` until it holds; panics naming `what` after 15 s.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&FakeDiscord) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "fake Discord: timed out after {WAIT:?} waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends a dispatch (op 0) with the next sequence number on the live session,
    /// waiting for one. Returns false when the session's intents exclude the event (Discord
    /// would not send it). INTERACTION_CREATE registers the interaction.
    pub async fn dispatch(&self, event: &str, data: Value) -> bool {
        self.wait_ready().await;
        gateway::dispatch(&mut self.state(), event, data)
    }

    /// Like [`dispatch`](Self::dispatch) without waiting: with no live connection the
    /// event is only kept in the session, and the next Resume replays it, as Discord
    /// does for events that happen while a bot is reconnecting. Panics before the
    /// first Identify.
    pub fn dispatch_now(&self, event: &str, data: Value) -> bool {
        gateway::dispatch(&mut self.state(), event, data)
    }

    /// Closes the live connection with 4000 (resumable), as Discord does when it moves a
    /// session; serenity should reconnect and resume.
    pub fn disconnect(&self) {
        let live = self.state().gateway.live.take();
        let live = live.expect("disconnect: no live gateway connection");
        let _ = live.tx.send(Outbound::Close(4000));
    }

    /// Forgets the session, so the next Resume gets op 9 (not resumable).
    pub fn expire_session(&self) {
        self.state().gateway.session = None;
    }

    /// The last Identify payload (`d`), token included.
    pub fn identify(&self) -> Option<Value> {
        self.state().gateway.identify.clone()
    }

    /// How many Identifies were accepted.
    pub fn identifies(&self) -> usize {
        self.state().gateway.identifies
    }

    /// Every Resume payload (`d`) received.
    pub fn resumes(&self) -> Vec<Value> {
        self.state().gateway.resumes.clone()
    }

    /// How many WebSocket connections were opened.
    pub fn connections(&self) -> usize {
        self.state().gateway.connections
    }

    /// How many heartbeats were acknowledged.
    pub fn heartbeats(&self) -> usize {
        self.state().gateway.heartbeats
    }
}

/// Discord's plain error body.
fn error_body(code: u64, message: &str) -> Value {
    json!({"message": message, "code": code})
}
