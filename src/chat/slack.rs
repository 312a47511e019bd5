//! The Slack edge. So far: the app manifest, request signatures and the HTTP
//! ingress endpoints. Still to come: the Web API `Chat` (Block Kit, through the
//! outbox), Socket Mode, and `warroom serve` wiring them together.

pub mod http;
pub mod manifest;
pub mod signature;
