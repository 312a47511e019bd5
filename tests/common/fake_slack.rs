//! A local fake of Slack that speaks Slack's wire format: the Web API at
//! `/api/<method>` and Socket Mode over a WebSocket. It owns the in-memory workspace
//! a test talks to (messages, ephemerals, seeded history, users), the record of every
//! call, failure injection, and the Socket Mode connection the bot holds.
//!
//! # What it reproduces
//! - Authentication as Slack does it: the token goes in `Authorization: Bearer`, or as
//!   a `token` field of a form-encoded body. A token in a JSON body or in the query
//!   string is ignored (Slack has refused query-string tokens for apps created since
//!   February 2021), so such a call is `not_authed`. A wrong token is `invalid_auth`;
//!   a bot token on `apps.connections.open`, or the app token anywhere else, is
//!   `not_allowed_token_type`. Every refusal is HTTP 200 with `ok:false`.
//! - JSON (`application/json`, with a `missing_charset` warning if the charset is
//!   left out), form-encoded and query-string arguments, `blocks` as JSON or as a JSON
//!   string.
//! - `auth.test`, `chat.postMessage`, `chat.update`, `chat.postEphemeral`,
//!   `conversations.history` (newest first, `limit`, `cursor`, `oldest`, `latest`,
//!   `inclusive`), `users.info`, `conversations.join`, `conversations.info`,
//!   `usergroups.users.list`, `apps.connections.open`; anything else is
//!   `unknown_method`.
//! - `ts` values shaped like Slack's (`1763900000.000100`), strictly increasing, and
//!   always later than any seeded history.
//! - Block Kit checks for the blocks the bot uses (see [`blocks`]), answered with
//!   `invalid_blocks` and an `errors` list carrying JSON pointers, as Slack answers;
//!   `msg_too_long` past 40,000 characters; `no_text`.
//! - 429 with `Retry-After`, 500, and `ok:false` errors on demand ([`Failure`]),
//!   and a call carried out whose answer is lost.
//! - Message metadata (docs.slack.dev "Using message metadata"; @slack/types
//!   `MessageMetadata`): `chat.postMessage` takes `metadata` as a JSON object or a
//!   JSON string with a string `event_type` and an object `event_payload`, else
//!   `invalid_metadata_format`; `conversations.history` returns a message's
//!   `metadata` only when asked with `include_all_metadata`.
//! - Socket Mode: single-use tickets, `hello`, envelopes with Slack's fields,
//!   redelivery with `retry_attempt`, acks, `disconnect` with `refresh_requested`,
//!   pings answered.
//!
//! - Channels and membership: the bot is in a channel it joined
//!   (`conversations.join`, public channels only) or was invited to
//!   ([`FakeSlack::invite`]). Posting elsewhere is `not_in_channel` (public) or
//!   `channel_not_found` (private: `G…` ids or [`FakeSlack::private_channel`]), as the
//!   Web API spec lists them. `conversations.info` answers `is_member`.
//! - `msg_blocks_too_long` past 12,000 characters of block text in one message.
//! - User groups: `usergroups.users.list` ([`FakeSlack::add_user_group`]).
//!
//! # What it does not
//! - Channel names, archiving, and members other than the bot.
//! - Rate limits of its own: it throttles only when told to.
//! - Block Kit beyond the block types listed in [`blocks`]; other block types are
//!   refused with an error saying the fake does not model them. A button must have an
//!   `action_id` here, although Slack would make one up: a button the bot cannot
//!   route is a bug.
//! - Block ids and text normalisation: messages come back with their blocks as sent.
//! - Threads beyond storing `thread_ts` (replies stay out of history unless
//!   broadcast), files, reactions, multipart bodies, `response_url` posts.

mod blocks;
mod manifest;
mod methods;
mod payloads;
mod socket;
mod web_api;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

// Each test binary compiles `common` whole, and most use none of these.
#[allow(unused_imports)]
pub use manifest::validate_manifest;
#[allow(unused_imports)]
pub use payloads::{block_actions, message_event, slash_command, user};

/// The bot token the fake accepts for every method but `apps.connections.open`.
pub const BOT_TOKEN: &str = "xoxb-fake-bot-token";
/// The app-level token the fake accepts for `apps.connections.open`.
pub const APP_TOKEN: &str = "xapp-fake-app-token";
/// The workspace.
pub const TEAM_ID: &str = "T_FAKE";
/// The workspace's subdomain, as in `team_domain` and `auth.test`'s `url`.
pub const TEAM_DOMAIN: &str = "warroom-fake";
/// The bot's user id (`auth.test`'s `user_id`, the author of what the bot posts).
pub const BOT_USER_ID: &str = "U_WARROOM_BOT";
/// The bot's bot id.
pub const BOT_ID: &str = "B_WARROOM";
/// The app the tokens belong to.
pub const APP_ID: &str = "A_FAKE";

/// How long any wait on the fake lasts before the test panics.
const WAIT: Duration = Duration::from_secs(10);

/// A failure [`FakeSlack::fail_next`] makes the next call of a method answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429, `Retry-After: N`, body `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 500 with a plain-text body, as Slack's edge answers when it falls over.
    ServerError,
    /// HTTP 200 with `{"ok":false,"error":<code>}`, e.g. `channel_not_found`.
    Api(String),
    /// The request is read and never answered (the connection stays open), as
    /// issue 14 saw Slack do for 100 s.
    NeverAnswers,
    /// The call is carried out (the message stored) and its answer never comes:
    /// a response lost after Slack acted (issue 14: 19 of 33 posts sent twice).
    DoneButNeverAnswers,
}

/// One Web API call as the fake received and answered it.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub method: String,
    /// `GET`, `POST`...
    pub http_method: String,
    /// The `Content-Type` header as sent, if any.
    pub content_type: Option<String>,
    /// The token that authenticated the call, wherever Slack would have read it.
    pub token: Option<String>,
    /// The arguments: a JSON body as sent; form and query fields as strings, except
    /// `blocks`, which is decoded when it holds JSON. A `token` shows here only
    /// where Slack does not read it (a JSON body, the query string).
    pub params: Value,
    pub status: u16,
    pub ok: bool,
    pub error: Option<String>,
    /// Whether the answer came from [`FakeSlack::fail_next`] rather than the request.
    pub injected: bool,
}

/// A message the bot posted, in its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMessage {
    pub channel: String,
    pub ts: String,
    /// The current text; empty if only blocks were sent.
    pub text: String,
    /// The current blocks as sent, or `Null` if the message has none.
    pub blocks: Value,
    pub thread_ts: Option<String>,
    /// The `username` override, if the bot sent one.
    pub username: Option<String>,
    /// The arguments of each successful `chat.update`, oldest first.
    pub edits: Vec<Value>,
    /// The `ts` Slack stamps as `edited.ts` on the latest update.
    pub edited_ts: Option<String>,
    /// `reply_broadcast`: a thread reply also shown in the channel.
    pub broadcast: bool,
    /// Message metadata as posted (`{"event_type", "event_payload"}`), or `Null`.
    pub metadata: Value,
}

/// An ephemeral message: shown to one user, never part of channel history.
#[derive(Debug, Clone, PartialEq)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub blocks: Value,
    pub thread_ts: Option<String>,
    /// The `message_ts` Slack answered with.
    pub ts: String,
}

/// A running fake; clones share the same server and state.
#[derive(Clone)]
pub struct FakeSlack {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State>,
    /// Bumped whenever a connection comes or goes or a client frame arrives, so
    /// waiters re-check the state.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    calls: Vec<ApiCall>,
    failures: HashMap<String, VecDeque<Failure>>,
    messages: Vec<FakeMessage>,
    /// Seeded by [`FakeSlack::set_history`], by channel, as given.
    history: HashMap<String, Vec<Value>>,
    ephemerals: Vec<Ephemeral>,
    users: HashMap<String, Value>,
    /// Channels the bot joined with `conversations.join`, in order.
    joined: Vec<String>,
    /// Channels the bot was invited to ([`FakeSlack::invite`]).
    invited: std::collections::HashSet<String>,
    /// Channels marked private besides `G…` ids ([`FakeSlack::private_channel`]).
    private: std::collections::HashSet<String>,
    /// User groups (`S…`) and their members, for `usergroups.users.list`.
    user_groups: HashMap<String, Vec<String>>,
    /// The latest `ts` handed out or seeded, in microseconds.
    clock: u64,
    socket: socket::SocketState,
}

impl State {
    fn is_member(&self, channel: &str) -> bool {
        self.invited.contains(channel) || self.joined.iter().any(|c| c == channel)
    }

    fn is_private(&self, channel: &str) -> bool {
        channel.starts_with('G') || self.private.contains(channel)
    }
}

impl FakeSlack {
    /// Starts a fake on a free port of 127.0.0.1.
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack");
        let addr = listener.local_addr().expect("fake Slack address");
        let fake = FakeSlack {
            inner: Arc::new(Inner {
                addr,
                state: Mutex::new(State {
                    clock: methods::CLOCK_START,
                    ..State::default()
                }),
                changed: watch::channel(0).0,
            }),
        };
        let app = axum::Router::new()
            .route("/api/:method", axum::routing::any(web_api::handle))
            .route("/socket", axum::routing::get(socket::upgrade))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack serves");
        });
        fake
    }

    /// The Web API base in the form slack-morphism's `with_slack_api_url` takes: no
    /// trailing slash, since it appends `/<method>`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.inner.addr)
    }

    /// The Socket Mode endpoint; `apps.connections.open` hands out this URL with a
    /// single-use `ticket`.
    pub fn socket_url(&self) -> String {
        format!("ws://{}/socket", self.inner.addr)
    }

    /// How many injected failures of `method` are still waiting for a call.
    #[allow(dead_code)]
    pub fn failures_waiting(&self, method: &str) -> usize {
        self.state().failures.get(method).map_or(0, |q| q.len())
    }

    /// Makes the next call of `method` fail; each call queues one more failure.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        self.state()
            .failures
            .entry(method.to_string())
            .or_default()
            .push_back(failure);
    }

    /// Seeds a channel's history with messages in Slack's shape (each needs a `ts`).
    /// `conversations.history` serves them together with what the bot posts there.
    pub fn set_history(&self, channel: &str, messages: Vec<Value>) {
        let mut state = self.state();
        for message in &messages {
            let ts = message["ts"]
                .as_str()
                .unwrap_or_else(|| panic!("a seeded history message needs a string ts: {message}"));
            let micros = methods::ts_micros(ts)
                .unwrap_or_else(|| panic!("seeded ts {ts:?} is not shaped like 1763900000.000100"));
            // Whatever the bot posts afterwards is newer, as it would be on Slack.
            state.clock = state.clock.max(micros);
        }
        state.history.insert(channel.to_string(), messages);
    }

    /// Adds a user for `users.info` (see [`user`] for Slack's shape); needs an `id`.
    pub fn add_user(&self, user: Value) {
        let id = user["id"]
            .as_str()
            .unwrap_or_else(|| panic!("a user needs a string id: {user}"))
            .to_string();
        self.state().users.insert(id, user);
    }

    /// Every Web API call so far, in arrival order.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.state().calls.clone()
    }

    /// The calls of one method.
    pub fn calls_to(&self, method: &str) -> Vec<ApiCall> {
        self.state()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// The calls Slack would have refused because of the request itself (injected
    /// failures excluded): an adapter test asserts this is empty.
    pub fn rejections(&self) -> Vec<ApiCall> {
        self.state()
            .calls
            .iter()
            .filter(|c| !c.ok && !c.injected)
            .cloned()
            .collect()
    }

    /// The bot's messages in `channel`, in post order, as they stand now.
    pub fn messages(&self, channel: &str) -> Vec<FakeMessage> {
        self.state()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    /// The one message `ts` in `channel`; panics if the bot posted no such message.
    pub fn message(&self, channel: &str, ts: &str) -> FakeMessage {
        self.messages(channel)
            .into_iter()
            .find(|m| m.ts == ts)
            .unwrap_or_else(|| panic!("the bot posted no message {ts} in {channel}"))
    }

    /// Every ephemeral message, in post order.
    pub fn ephemerals(&self) -> Vec<Ephemeral> {
        self.state().ephemerals.clone()
    }

    /// Channels the bot joined (`conversations.join`), in order.
    pub fn joined(&self) -> Vec<String> {
        self.state().joined.clone()
    }

    /// Someone invited the bot to `channel`: it may post there from now on.
    pub fn invite(&self, channel: &str) {
        self.state().invited.insert(channel.to_string());
    }

    /// Marks `channel` private (as `G…` ids are): it cannot be joined, only invited to.
    pub fn private_channel(&self, channel: &str) {
        self.state().private.insert(channel.to_string());
    }

    /// A user group (`S…`) with these members, for `usergroups.users.list`.
    pub fn add_user_group(&self, id: &str, members: &[&str]) {
        self.state().user_groups.insert(
            id.to_string(),
            members.iter().map(|m| m.to_string()).collect(),
        );
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has already failed; the state
        // is still worth reading for the next assertion's message.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn notify(&self) {
        self.inner.changed.send_modify(|n| *n += 1);
    }

    /// Waits until `check` finds something in the state, for at most [`WAIT`];
    /// panics naming `what` and the socket's situation otherwise.
    async fn wait_until<T>(&self, what: &str, mut check: impl FnMut(&mut State) -> Option<T>) -> T {
        // Subscribing before checking means no change between the two is missed.
        let mut changes = self.inner.changed.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = check(&mut self.state()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                let state = self.state();
                panic!(
                    "fake Slack: waited {} s for {what}; connections so far: {}, live: {}, \
                     frames from the client: {:?}",
                    WAIT.as_secs(),
                    state.socket.connections,
                    state.socket.live(),
                    state.socket.received
                );
            }
        }
    }
}

/// `ok:false` calls should never be silent: a test that fails prints them.
impl std::fmt::Debug for FakeSlack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSlack")
            .field("addr", &self.inner.addr)
            .field("rejections", &self.rejections())
            .finish()
    }
}
