//! `[clocks]` of `warroom.toml`: recovery objectives, response times and update
//! cadence per severity, seed 004's components, and the escalation levels.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The incident clocks. Defaults come from the seeds: RTO < 5 min for a P0 and
/// < 30 min for a P1 (seed 001), 2 h otherwise (seed 000); response times Critical
/// 15 min, High 1 h, Medium 4 h, Low next business day (seed 000); escalation at
/// 0-30 / 30-60 / 60+ minutes (seed 004).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clocks {
    #[serde(default = "default_severities")]
    pub severities: BTreeMap<String, SeverityClock>,
    #[serde(default = "default_escalation")]
    pub escalation: Vec<EscalationLevel>,
    /// Seed 004's recovery objectives per component; an incident naming a component
    /// (`/incident declare P1 "..." component=database`) runs on its RTO.
    #[serde(default = "default_components")]
    pub components: BTreeMap<String, ComponentClock>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentClock {
    pub rto: String,
    pub rpo: String,
    pub priority: String,
}

fn default_severities() -> BTreeMap<String, SeverityClock> {
    Clocks::default().severities
}

fn default_escalation() -> Vec<EscalationLevel> {
    Clocks::default().escalation
}

fn default_components() -> BTreeMap<String, ComponentClock> {
    Clocks::default().components
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityClock {
    /// Recovery time objective: warnings at 50%, 80% and 100% of it.
    pub rto: String,
    /// Unacknowledged this long, the next escalation level is paged early.
    pub respond: String,
    /// Remind the commander when no stakeholder update went out for this long.
    pub update_every: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    pub title: String,
    /// Paged this long after detection while nobody has acknowledged (`/ack`).
    pub after: String,
    /// Matrix role ids.
    pub roles: Vec<String>,
}

impl Default for Clocks {
    fn default() -> Self {
        let sev = |rto: &str, respond: &str, update: &str| SeverityClock {
            rto: rto.into(),
            respond: respond.into(),
            update_every: update.into(),
        };
        let level = |title: &str, after: &str, roles: &[&str]| EscalationLevel {
            title: title.into(),
            after: after.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        Clocks {
            severities: BTreeMap::from([
                ("P0".to_string(), sev("5m", "15m", "15m")),
                ("P1".to_string(), sev("30m", "1h", "30m")),
                ("P2".to_string(), sev("2h", "4h", "1h")),
                ("P3".to_string(), sev("8h", "24h", "4h")),
            ]),
            escalation: vec![
                level("Level 1: primary on-call", "0m", &["oncall"]),
                level(
                    "Level 2: secondary on-call and team lead",
                    "30m",
                    &["devsecops-lead"],
                ),
                level(
                    "Level 3: incident commander and senior leadership",
                    "60m",
                    &["incident-commander"],
                ),
            ],
            components: [
                ("database", "4h", "1h", "Critical"),
                ("api", "2h", "0m", "Critical"),
                ("frontend", "1h", "0m", "High"),
                ("email", "4h", "30m", "Medium"),
                ("analytics", "8h", "4h", "Low"),
            ]
            .into_iter()
            .map(|(name, rto, rpo, priority)| {
                let clock = ComponentClock {
                    rto: rto.into(),
                    rpo: rpo.into(),
                    priority: priority.into(),
                };
                (name.to_string(), clock)
            })
            .collect(),
        }
    }
}
