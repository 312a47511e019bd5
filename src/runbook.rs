//! Runs: one execution of a command, walked step by step through its states.
//!
//! `model::run` holds the state machine's shapes; here `step` holds the step specs from `commands/`, and
//! `engine` drives a run against the actions and the chat. A run is durable: every
//! state change is written before it is announced, and a run found mid-step after a
//! crash is reported as interrupted, never silently re-run.

pub mod act;
pub mod approval;
pub mod breakglass;
pub mod context;
pub mod drill;
pub mod driver;
pub mod ending;
pub mod engine;
pub mod outage;
pub mod posts;
pub mod progress;
pub mod step;
pub mod watch;
