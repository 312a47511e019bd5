//! Alerts from monitoring, whatever sent them: what warroom keeps of each (its
//! identity, its group, its labels and its times) once a source's payload is read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// Firing or resolved: Alertmanager's two states (`status` of each alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        match s {
            "firing" => Some(AlertStatus::Firing),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// One alert, as a source described it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Which endpoint it came through (`alertmanager`).
    pub source: &'static str,
    /// The source's identity of the alert (Alertmanager's `fingerprint`: a hash of
    /// its label set). Deduplication is by source and fingerprint.
    pub fingerprint: String,
    /// The group it was sent in (Alertmanager's `groupKey`): one incident per group.
    pub group_key: String,
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    /// Set once resolved (Alertmanager sends `0001-01-01T00:00:00Z` before).
    pub ends_at: Option<DateTime<Utc>>,
}

impl Alert {
    /// Its name: the `alertname` label, else the fingerprint.
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or(&self.fingerprint)
    }

    /// A one-line description: the `summary` annotation, else the name.
    pub fn summary(&self) -> &str {
        self.annotations
            .get("summary")
            .map(String::as_str)
            .unwrap_or_else(|| self.name())
    }
}

/// What recording an alert found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Never seen before.
    New,
    /// The same status and start as the last delivery: a duplicate.
    Repeat { incident_id: Option<String> },
    /// Known, and its status or start changed (fired again, or resolved).
    Changed { incident_id: Option<String> },
}
