//! The actions a runbook step can take against real systems, and the targets they reach.
//!
//! Every action takes validated values only: SQL gets bound parameters, never text
//! spliced into a statement. Each returns a short output excerpt that the step keeps.

pub mod expect;
pub mod http;
pub mod placeholder;
pub mod redis;
pub mod shell;
pub mod sql;
pub mod target;

/// Longest output excerpt kept on a step.
pub const OUTPUT_LIMIT: usize = 2000;

/// A step's action failed; the message is shown in the channel.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    Failed(String),
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("target `{0}` is not configured")]
    NoTarget(String),
}

/// What a finished action reports: a short excerpt for the step and the timeline, and
/// optionally a longer block (a result table) to post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionOutput {
    pub summary: String,
    pub table: Option<String>,
}

/// Cuts `s` to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("… (truncated)");
    out
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    Null,
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Text(s) => write!(f, "{s:?}"),
            Param::Int(n) => write!(f, "{n}"),
            Param::Bool(b) => write!(f, "{b}"),
            Param::Null => write!(f, "NULL"),
        }
    }
}
