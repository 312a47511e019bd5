//! The Discord edge: the gateway client and the HTTP interactions endpoint, the
//! application commands generated from the catalog, Discord's rendering of posts,
//! and its HTTP API as a `Chat` behind the outbox. Everything Discord-shaped stops
//! here; the core sees `Incoming` and `Post`.

pub mod answered;
pub mod commands;
pub mod gateway;
pub mod history;
pub mod http;
pub mod ingress;
pub mod render;
pub mod web;

pub const PLATFORM: &str = "discord";
