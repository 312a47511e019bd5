//! The fake's shared state: what the HTTP routes and the gateway read and change,
//! always under one lock that is never held across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use super::{payloads, Failure, FakeMessage, Request, CHANNEL_ID};

/// An interaction the fake delivered (or was told about), so its token works.
#[derive(Debug, Clone)]
pub(super) struct KnownInteraction {
    pub(super) id: u64,
    pub(super) token: String,
    /// 1 ping, 2 application command, 3 message component, 5 modal submit.
    pub(super) kind: u64,
    pub(super) channel_id: u64,
    /// For components: the message the component is on.
    pub(super) message: Option<Value>,
    pub(super) created: Instant,
    /// The response type it was answered with.
    pub(super) response: Option<u64>,
    pub(super) original: Option<u64>,
    pub(super) followups: Vec<u64>,
    pub(super) expired: bool,
}

/// What a test sends to the live gateway connection.
pub(super) enum Outbound {
    Frame(Value),
    Close(u16),
}

/// The gateway session serenity may resume.
pub(super) struct Session {
    pub(super) id: String,
    pub(super) seq: u64,
    pub(super) intents: u64,
    /// Every dispatch frame sent in this session, for replay on resume.
    pub(super) events: Vec<Value>,
}

/// The connection currently holding a ready (or resumed) session.
pub(super) struct Live {
    pub(super) conn: usize,
    pub(super) tx: mpsc::UnboundedSender<Outbound>,
}

/// The gateway's side of the state: counters, the session, the live connection.
pub(super) struct GatewayState {
    pub(super) connections: usize,
    pub(super) identify: Option<Value>,
    pub(super) identifies: usize,
    pub(super) resumes: Vec<Value>,
    pub(super) heartbeats: usize,
    pub(super) heartbeat_interval_ms: u64,
    pub(super) privileged_allowed: u64,
    pub(super) session: Option<Session>,
    pub(super) live: Option<Live>,
}

/// Everything the fake knows; one per [`super::FakeDiscord`].
pub(super) struct State {
    pub(super) base: String,
    /// The application's public key, for `GET /oauth2/applications/@me`.
    pub(super) verify_key: String,
    pub(super) requests: Vec<Request>,
    pub(super) failures: Vec<(String, Failure)>,
    pub(super) last_snowflake: u64,
    pub(super) channels: BTreeSet<u64>,
    /// Channels where the bot holds *Embed Links* ([`super::FakeDiscord::allow_embed_links`]).
    pub(super) embed_links: BTreeSet<u64>,
    pub(super) messages: BTreeMap<u64, FakeMessage>,
    pub(super) interactions: HashMap<u64, KnownInteraction>,
    pub(super) tokens: HashMap<String, u64>,
    pub(super) interaction_responses: Vec<(u64, String, Value)>,
    pub(super) global_commands: Vec<Value>,
    pub(super) guild_commands: HashMap<u64, Vec<Value>>,
    pub(super) ack_deadline: Option<Duration>,
    pub(super) gateway: GatewayState,
}

impl State {
    /// A snowflake from the current time, strictly increasing so ids sort by age.
    pub(super) fn snowflake(&mut self) -> u64 {
        const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
        let ms = chrono::Utc::now().timestamp_millis() as u64 - DISCORD_EPOCH_MS;
        self.last_snowflake = (ms << 22).max(self.last_snowflake + 1);
        self.last_snowflake
    }

    pub(super) fn gateway_url(&self) -> String {
        format!("{}/gateway", self.base.replacen("http://", "ws://", 1))
    }

    /// Makes an interaction's id and token valid for the callback and webhook routes.
    pub(super) fn register_interaction(&mut self, payload: &Value) {
        let id = payloads::snowflake_of(&payload["id"]).expect("interaction payload has an id");
        let token = payload["token"]
            .as_str()
            .expect("interaction payload has a token")
            .to_string();
        let channel_id = payloads::snowflake_of(&payload["channel_id"]).unwrap_or(CHANNEL_ID);
        self.channels.insert(channel_id);
        self.tokens.insert(token.clone(), id);
        self.interactions.insert(
            id,
            KnownInteraction {
                id,
                token,
                kind: payload["type"].as_u64().unwrap_or(0),
                channel_id,
                message: payload.get("message").cloned(),
                created: Instant::now(),
                response: None,
                original: None,
                followups: Vec::new(),
                expired: false,
            },
        );
    }
}
