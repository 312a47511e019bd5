//! Incidents and their append-only timeline: the records and their rules.
//!
//! An incident is what stakeholders read about; every command, decision, step and post
//! becomes a [`TimelineEvent`] on it. Storage lives in `store`; this module owns the
//! shapes and the rules (ids, which events are headlines).

use chrono::{DateTime, NaiveDate, Utc};

/// `INC-20261122-001`, the seeds' format.
pub fn format_id(day: NaiveDate, seq: i64) -> String {
    format!("INC-{}-{:03}", day.format("%Y%m%d"), seq)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub channel: String,
    pub commander: Option<String>,
    pub detected_at: DateTime<Utc>,
    pub declared_at: DateTime<Utc>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub impact: Option<String>,
    pub acked_by: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
    pub last_update_at: Option<DateTime<Utc>>,
    /// Seed 004's component, when the incident names one.
    pub component: Option<String>,
}

/// Kinds of timeline event. Headline kinds are the `HH:MM - event` lines of the
/// seeds' communication templates; the rest make the full post-mortem timeline.
/// Seed 004's five response roles, as `/incident role NAME @user` takes them.
pub const RESPONSE_ROLES: &[&str] = &[
    "commander",
    "dba",
    "application",
    "infrastructure",
    "communications",
];

/// Severities, most urgent first.
pub const SEVERITIES: &[&str] = &["P0", "P1", "P2", "P3"];

/// The lifecycle, in order.
pub const STATUSES: &[&str] = &[
    "investigating",
    "identified",
    "mitigating",
    "monitoring",
    "resolved",
];

pub mod kind {
    pub const DETECTED: &str = "detected";
    pub const COMMAND: &str = "command";
    pub const DENIED: &str = "denied";
    pub const APPROVAL: &str = "approval";
    pub const STEP: &str = "step";
    pub const MILESTONE: &str = "milestone";
    pub const RUN: &str = "run";
    pub const POST: &str = "post";
    pub const STATUS: &str = "status";
    pub const RESOLVED: &str = "resolved";
    pub const NOTE: &str = "note";
    pub const CLOCK: &str = "clock";
    pub const PAGE: &str = "page";
    pub const ACTION: &str = "action";
    /// An alert fired or resolved (`app::alerts`).
    pub const ALERT: &str = "alert";
    /// A break-glass stop: run on one person's word, ratified (or not) after.
    pub const BREAK_GLASS: &str = "break_glass";
    /// A pending request cancelled by a higher-severity command in its scope.
    pub const SUPERSEDED: &str = "superseded";

    pub fn is_headline(kind: &str) -> bool {
        matches!(kind, DETECTED | MILESTONE | STATUS | RESOLVED)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: Option<String>,
    pub text: String,
    pub run_id: Option<i64>,
    pub step_idx: Option<i64>,
}

/// A new event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub actor: Option<&'a str>,
    pub text: &'a str,
    pub run_id: Option<i64>,
    pub step_idx: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_ids_follow_the_seed_format() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
        assert_eq!(format_id(day, 1), "INC-20261122-001");
        assert_eq!(format_id(day, 42), "INC-20261122-042");
        assert_eq!(format_id(day, 1234), "INC-20261122-1234");
    }
}
