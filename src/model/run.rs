//! The run and step state machines.

use chrono::{DateTime, Utc};

use crate::model::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    AwaitingApproval,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
    Interrupted,
}

impl RunState {
    pub const ALL: [RunState; 7] = [
        RunState::AwaitingApproval,
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Cancelled,
        RunState::Expired,
        RunState::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::AwaitingApproval => "awaiting_approval",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Expired => "expired",
            RunState::Interrupted => "interrupted",
        }
    }

    /// The state after "RUN-3 is ...", in words (issue 12: "RUN-1 is succeeded").
    pub fn in_words(self) -> &'static str {
        match self {
            RunState::AwaitingApproval => "awaiting approval",
            RunState::Running => "running",
            RunState::Succeeded => "already finished: it succeeded",
            RunState::Failed => "already finished: it failed",
            RunState::Cancelled => "cancelled",
            RunState::Expired => "expired",
            RunState::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<RunState> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Live runs hold their scope; finished ones release it.
    pub fn is_live(self) -> bool {
        matches!(self, RunState::AwaitingApproval | RunState::Running)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Pending,
    Running,
    /// Parked at a human checkpoint.
    Waiting,
    Succeeded,
    Failed,
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Waiting => "waiting",
            StepState::Succeeded => "succeeded",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<StepState> {
        [
            StepState::Pending,
            StepState::Running,
            StepState::Waiting,
            StepState::Succeeded,
            StepState::Failed,
            StepState::Skipped,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn icon(self) -> &'static str {
        match self {
            StepState::Pending => "▫️",
            StepState::Running => "⏳",
            StepState::Waiting => "⏸️",
            StepState::Succeeded => "✅",
            StepState::Failed => "❌",
            StepState::Skipped => "⏭️",
        }
    }
}

/// `RUN-7`.
pub fn display_id(id: i64) -> String {
    format!("RUN-{id}")
}

/// Reads `RUN-7`, `run-7` or `7`.
pub fn parse_id(s: &str) -> Option<i64> {
    let digits = s
        .strip_prefix("RUN-")
        .or_else(|| s.strip_prefix("run-"))
        .unwrap_or(s);
    digits.parse().ok().filter(|n| *n > 0)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: i64,
    pub incident_id: String,
    pub command: String,
    pub scope: String,
    pub scenario: String,
    pub args: serde_json::Value,
    pub channel: String,
    pub requested_by: UserId,
    pub state: RunState,
    pub dry_run: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub approval_expires_at: Option<DateTime<Utc>>,
    pub progress_ref: Option<String>,
    pub detail: Option<String>,
    /// The hash of what the run will do as its approval request showed it; votes
    /// count only for this plan (empty for runs that needed no approval).
    pub plan: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Main,
    OnFailure,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::OnFailure => "on_failure",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub idx: i64,
    pub phase: String,
    pub name: String,
    pub kind: String,
    pub state: StepState,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub output: Option<String>,
    /// The message the step posted for people to act on (`channel/id`).
    pub message_ref: Option<String>,
}

impl StepRecord {
    pub fn duration_ms(&self) -> Option<i64> {
        Some((self.finished_at? - self.started_at?).num_milliseconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_round_trip() {
        assert_eq!(display_id(7), "RUN-7");
        for (s, want) in [
            ("RUN-7", Some(7)),
            ("run-7", Some(7)),
            ("7", Some(7)),
            ("RUN-0", None),
            ("RUN-x", None),
            ("", None),
        ] {
            assert_eq!(parse_id(s), want, "{s}");
        }
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(s));
        }
    }
}
