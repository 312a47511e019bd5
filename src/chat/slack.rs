//! The Slack edge: Socket Mode and HTTP ingress, the Web API `Chat` behind the
//! outbox, Block Kit rendering, history backfill, request signatures and the app
//! manifest. Everything Slack-shaped stops here; the core sees `Incoming` and `Post`.

pub mod blocks;
pub mod history;
pub mod http;
pub mod ingress;
pub mod manifest;
pub mod members;
pub mod mrkdwn;
pub mod signature;
pub mod socket;
pub mod web;
pub mod workspace;

/// The platform name on rows, user ids and the outbox.
pub const PLATFORM: &str = "slack";
