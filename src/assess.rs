//! `/assess`: decision support. Given what the responder sees, it applies seed 002's
//! rollback decision matrix (thresholds), seed 001's decision tree and seed 003's matrix
//! by issue type, and answers with the scenario and the command to run. Pure logic.

use std::time::Duration;

mod text;
pub use text::{facts, render, USAGE};

/// What the responder reports. Percentages are 0–100.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub error_rate: Option<f64>,
    /// How long the current condition has lasted.
    pub duration: Option<Duration>,
    pub data_corruption: bool,
    pub security: bool,
    pub system_down: bool,
    pub db_down: bool,
    pub auth_broken: bool,
    pub critical_feature_down: bool,
    pub multiple_p1: bool,
    pub sync_success: Option<f64>,
    pub queue_size: Option<u64>,
    pub queue_growing: bool,
    /// Memory-leak crashes happen every ...
    pub crash_every: Option<Duration>,
    pub performance: bool,
    /// Share of companies affected.
    pub affected: Option<f64>,
    /// How much slower than before the deployment, in percent (seed 003: > 50% is an
    /// immediate rollback).
    pub degradation: Option<f64>,
    pub issue_type: Option<IssueType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    UiBug,
    ApiError,
    Auth,
    DataCorruption,
    Performance,
    Security,
}

impl IssueType {
    pub const NAMES: &'static [&'static str] = &[
        "ui-bug",
        "api-error",
        "auth",
        "data-corruption",
        "performance",
        "security",
    ];

    fn parse(s: &str) -> Option<IssueType> {
        Some(match s {
            "ui-bug" => IssueType::UiBug,
            "api-error" => IssueType::ApiError,
            "auth" => IssueType::Auth,
            "data-corruption" => IssueType::DataCorruption,
            "performance" => IssueType::Performance,
            "security" => IssueType::Security,
            _ => return None,
        })
    }
}

/// Seed 002's three outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Immediate,
    Scheduled,
    Monitor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub decision: Decision,
    /// The seed 002 criteria that matched, in the seed's words.
    pub because: Vec<String>,
    /// When a threshold will be crossed if nothing changes.
    pub watch: Vec<String>,
    /// Seed 001 scenario and command, when the facts point at one.
    pub kanban: Option<(&'static str, &'static str)>,
    /// Seed 003 row: (frontend, backend, database, urgency).
    pub matrix: Option<(&'static str, &'static str, &'static str, &'static str)>,
    pub commands: Vec<&'static str>,
}

const MIN: u64 = 60;

pub fn assess(f: &Facts) -> Assessment {
    let lasted = f.duration.unwrap_or_default();
    let at_least = |m: u64| lasted >= Duration::from_secs(m * MIN);
    let mut immediate = Vec::new();
    let mut scheduled = Vec::new();
    let mut watch = Vec::new();
    if f.security {
        immediate.push("Critical security vulnerability discovered".to_string());
    }
    if f.data_corruption {
        immediate.push("Data corruption or data loss detected".into());
    }
    if f.system_down && at_least(5) {
        immediate.push("Complete system outage (> 5 minutes)".into());
    } else if f.system_down {
        watch.push(format!(
            "outage reaches the 5-minute immediate threshold in {}",
            left(lasted, 5)
        ));
    }
    if f.db_down {
        immediate.push("Database connection failures preventing all operations".into());
    }
    if f.auth_broken {
        immediate.push("API authentication completely broken".into());
    }
    // Seed 003, "When to Rollback, Immediate Rollback Scenarios".
    if let Some(d) = f.degradation.filter(|d| *d > 50.0) {
        immediate.push(format!("Performance degradation > 50% ({d}%)"));
    }
    if let Some(rate) = f.error_rate {
        if rate > 10.0 && at_least(5) {
            immediate.push(format!(
                "Error rate > 10% sustained for 5 minutes ({rate}% for {})",
                mins(lasted)
            ));
        } else if rate > 10.0 {
            watch.push(format!(
                "error rate {rate}% reaches the immediate threshold (5 minutes) in {}",
                left(lasted, 5)
            ));
        } else if rate >= 1.0 && at_least(15) {
            scheduled.push(format!(
                "Error rate 1-10% sustained for 15 minutes ({rate}% for {})",
                mins(lasted)
            ));
        } else if rate >= 1.0 {
            watch.push(format!(
                "error rate {rate}% reaches the scheduled-rollback threshold (15 minutes) in {}",
                left(lasted, 15)
            ));
        }
    }
    if let Some(s) = f.sync_success {
        if s < 90.0 && at_least(30) {
            scheduled.push(format!("Sync success rate < 90% for 30 minutes ({s}%)"));
        } else if s < 90.0 {
            watch.push(format!(
                "sync success {s}% reaches the 30-minute threshold in {}",
                left(lasted, 30)
            ));
        }
    }
    if let Some(q) = f.queue_size {
        if q > 1000 && f.queue_growing && at_least(30) {
            scheduled.push(format!(
                "Queue size > 1000 and growing for 30 minutes ({q})"
            ));
        }
    }
    if f.crash_every
        .is_some_and(|c| c < Duration::from_secs(30 * MIN))
    {
        scheduled.push("Memory leak causing crashes every < 30 minutes".into());
    }
    if f.critical_feature_down {
        scheduled.push("Critical feature completely non-functional".into());
    }
    if f.multiple_p1 {
        scheduled.push("Multiple P1 alerts firing simultaneously".into());
    }
    let (decision, because) = if !immediate.is_empty() {
        (Decision::Immediate, immediate)
    } else if !scheduled.is_empty() {
        (Decision::Scheduled, scheduled)
    } else {
        let why = match f.error_rate {
            Some(r) if r < 1.0 => format!("Error rate < 1% ({r}%) with no data integrity issues"),
            _ => "No rollback criterion met: performance degraded but functional, or a fix can ship within 2 hours".into(),
        };
        (Decision::Monitor, vec![why])
    };

    // Seed 001's decision tree, for the Kanban V2 pack.
    let kanban = if f.data_corruption {
        Some((
            "Scenario 3 (data corruption: immediate stop)",
            "/kanban-corruption reason=\"...\"",
        ))
    } else if f.system_down {
        Some((
            "Scenario 1 (system down: < 5 min rollback)",
            "/kanban-off reason=\"...\"",
        ))
    } else if f.performance && f.affected.is_some_and(|a| a > 50.0) {
        Some((
            "Scenario 2 escalated to Scenario 1 (> 50% of companies affected)",
            "/kanban-off reason=\"...\"",
        ))
    } else if f.performance {
        Some((
            "Scenario 2 (performance: < 30 min selective rollback)",
            "/kanban-selective-off reason=\"...\"",
        ))
    } else {
        None
    };

    // Seed 003's matrix by issue type.
    let issue = f.issue_type.or(if f.data_corruption {
        Some(IssueType::DataCorruption)
    } else if f.security {
        Some(IssueType::Security)
    } else {
        None
    });
    let (matrix, mut commands): (_, Vec<&'static str>) = match issue {
        Some(IssueType::UiBug) => (
            Some(("yes", "no", "no", "Medium")),
            vec!["/app-rollback frontend"],
        ),
        Some(IssueType::ApiError) => (
            Some(("no", "yes", "no", "High")),
            vec!["/app-rollback backend"],
        ),
        Some(IssueType::Auth) => (
            Some(("maybe", "yes", "no", "High")),
            vec!["/app-rollback backend"],
        ),
        Some(IssueType::DataCorruption) => (
            Some(("no", "no", "yes", "Critical")),
            vec!["/app-rollback database"],
        ),
        Some(IssueType::Performance) => (
            Some(("maybe", "yes", "no", "Medium")),
            vec!["/app-rollback backend"],
        ),
        Some(IssueType::Security) => (
            Some(("yes", "yes", "maybe", "Critical")),
            vec!["/app-rollback full"],
        ),
        None => (None, Vec::new()),
    };
    if let Some((_, cmd)) = kanban {
        commands.insert(0, cmd);
    }
    match decision {
        Decision::Immediate if f.data_corruption => commands.push("/rollback full"),
        Decision::Immediate => commands.push("/rollback quick"),
        Decision::Scheduled => commands.push("/rollback quick (planned within 30 minutes)"),
        Decision::Monitor => {}
    }
    if f.security {
        commands.push("/dr security-breach ip=...");
    }
    Assessment {
        decision,
        because,
        watch,
        kanban,
        matrix,
        commands,
    }
}

fn mins(d: Duration) -> String {
    format!("{} min", d.as_secs() / MIN)
}

fn left(lasted: Duration, threshold_min: u64) -> String {
    let left = Duration::from_secs(threshold_min * MIN).saturating_sub(lasted);
    format!("{} min", left.as_secs().div_ceil(MIN))
}

#[cfg(test)]
mod tests;
