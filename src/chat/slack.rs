//! The Slack edge. So far: the app manifest. The adapter itself (Socket Mode and
//! HTTP endpoints, Block Kit, the outbox) builds on the same catalog.

pub mod manifest;
pub mod signature;
