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

/// The recovery objectives (and, where the seed names one, the escalation path) of
/// what an incident is about: seed 004's components, and the seeds' own objectives
/// that a runbook names with `component = "..."` (issue 13: a LegalFlow P0 runs on
/// seed 000's 2 h, the Kanban corruption stop on seed 001's < 2 min).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentClock {
    /// None: the severity's RTO (seed 003 states none).
    #[serde(default)]
    pub rto: Option<String>,
    #[serde(default)]
    pub rpo: Option<String>,
    pub priority: String,
    /// Where the objective comes from ("seed 004").
    #[serde(default = "seed_004")]
    pub source: String,
    /// The escalation levels to use instead of `[clocks] escalation` (seed 003's
    /// Developer → Team Lead → System Admin → Database Admin).
    #[serde(default)]
    pub escalation: Vec<EscalationLevel>,
    /// Per severity, levels that replace both (seed 000's matrix: Critical 15 min →
    /// Tech Lead + DevOps + Manager, ...).
    #[serde(default)]
    pub escalation_by_severity: BTreeMap<String, Vec<EscalationLevel>>,
}

/// Seed 004's "Business Impact Classification": what a component's priority means.
pub fn impact_class(priority: &str) -> Option<&'static str> {
    match priority {
        "Critical" => Some("Service unavailable affects core business operations"),
        "High" => Some("Significant user impact but workarounds exist"),
        "Medium" => Some("Limited impact, non-critical features affected"),
        "Low" => Some("Minimal impact, nice-to-have features affected"),
        _ => None,
    }
}

fn seed_004() -> String {
    "seed 004".into()
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
            components: seed_components(level),
        }
    }
}

/// Seed 004's components, then the objectives and escalation paths of seeds 000–003
/// that their runbooks name.
fn seed_components(
    level: impl Fn(&str, &str, &[&str]) -> EscalationLevel,
) -> BTreeMap<String, ComponentClock> {
    let objective =
        |rto: Option<&str>, rpo: Option<&str>, priority: &str, source: &str| ComponentClock {
            rto: rto.map(str::to_string),
            rpo: rpo.map(str::to_string),
            priority: priority.into(),
            source: source.into(),
            escalation: Vec::new(),
            escalation_by_severity: BTreeMap::new(),
        };
    let mut out: BTreeMap<String, ComponentClock> = [
        ("database", "4h", "1h", "Critical"),
        ("api", "2h", "0m", "Critical"),
        ("frontend", "1h", "0m", "High"),
        ("email", "4h", "30m", "Medium"),
        ("analytics", "8h", "4h", "Low"),
    ]
    .into_iter()
    .map(|(name, rto, rpo, priority)| {
        (
            name.to_string(),
            objective(Some(rto), Some(rpo), priority, "seed 004"),
        )
    })
    .collect();
    // Seed 001, Scenario 3: "IMEDIATO (< 2 min)".
    out.insert(
        "kanban-corruption".into(),
        objective(Some("2m"), None, "Critical", "seed 001, scenario 3"),
    );
    // Seed 002: quick rollback ~10 min, full < 30 min; database restore RTO 30 min,
    // RPO up to 24 h.
    out.insert(
        "pfa-quick".into(),
        objective(Some("10m"), None, "High", "seed 002, Quick Rollback"),
    );
    out.insert(
        "pfa-full".into(),
        objective(
            Some("30m"),
            Some("24h"),
            "Critical",
            "seed 002, Full Rollback",
        ),
    );
    // Seed 000: RTO 2 h, RPO 24 h, and its escalation matrix by severity.
    let mut legalflow = objective(Some("2h"), Some("24h"), "Critical", "seed 000");
    legalflow.escalation_by_severity = [
        (
            "P0",
            "Critical (System down)",
            "15m",
            &["tech-lead", "devops", "manager"][..],
        ),
        (
            "P1",
            "High (Major features down)",
            "1h",
            &["tech-lead", "devops"][..],
        ),
        (
            "P2",
            "Medium (Performance issues)",
            "4h",
            &["tech-lead"][..],
        ),
        (
            "P3",
            "Low (Minor bugs): next business day",
            "24h",
            &["developer"][..],
        ),
    ]
    .into_iter()
    .map(|(sev, title, after, roles)| {
        (
            sev.to_string(),
            vec![
                level("Level 1: primary on-call", "0m", &["oncall"]),
                level(title, after, roles),
            ],
        )
    })
    .collect();
    out.insert("legalflow".into(), legalflow);
    // Seed 003: "Escalation Path" (no RTO stated: the severity's; no times either:
    // seed 004's 30 and 60 minutes).
    let mut webapp = objective(None, None, "High", "seed 003");
    webapp.escalation = vec![
        level("1. Developer (immediate response)", "0m", &["developer"]),
        level(
            "2. Team Lead (if developer unavailable)",
            "30m",
            &["team-lead"],
        ),
        level(
            "3. System Admin (for infrastructure issues)",
            "60m",
            &["sysadmin"],
        ),
        level("4. Database Admin (for data issues)", "60m", &["dba"]),
    ];
    out.insert("webapp".into(), webapp);
    out
}
