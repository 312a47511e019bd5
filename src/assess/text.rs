//! `/assess` as chat text: reading the facts from a command line, and the answer.

use super::{Assessment, Decision, Facts, IssueType};
use crate::command::parse::CommandLine;
use crate::model::duration::parse_duration;

/// Reads `/assess error_rate=12 duration=6m data_corruption=yes issue=api-error ...`.
pub fn facts(line: &CommandLine) -> Result<Facts, String> {
    let mut f = Facts::default();
    if let Some(p) = line.positional.first() {
        return Err(format!(
            "`{}` is not a fact; facts are name=value",
            crate::render::escape::inline_code(p)
        ));
    }
    for (k, v) in &line.named {
        let v = v.trim();
        let bad = |what: &str| format!("`{k}` must be {what}");
        let pct = |s: &str| {
            s.trim_end_matches('%')
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| (0.0..=100.0).contains(x))
        };
        let yes = |s: &str| match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "y" | "1" => Some(true),
            "no" | "false" | "n" | "0" => Some(false),
            _ => None,
        };
        match k.as_str() {
            "error_rate" => {
                f.error_rate = Some(pct(v).ok_or_else(|| bad("a percentage, e.g. 12 or 0.5%"))?)
            }
            "sync_success" => f.sync_success = Some(pct(v).ok_or_else(|| bad("a percentage"))?),
            "affected" => {
                f.affected = Some(pct(v).ok_or_else(|| bad("a percentage of companies"))?)
            }
            "degradation" => {
                f.degradation = Some(pct(v).ok_or_else(|| bad("a percentage, e.g. 60"))?)
            }
            "duration" | "for" => {
                f.duration = Some(parse_duration(v).ok_or_else(|| bad("a duration like 6m"))?)
            }
            "crash_every" => {
                f.crash_every = Some(parse_duration(v).ok_or_else(|| bad("a duration like 20m"))?)
            }
            "queue_size" => f.queue_size = Some(v.parse().map_err(|_| bad("a whole number"))?),
            "issue" | "issue_type" => {
                f.issue_type = Some(
                    IssueType::parse(v)
                        .ok_or_else(|| bad(&format!("one of {}", IssueType::NAMES.join(", "))))?,
                )
            }
            flag => {
                let target = match flag {
                    "data_corruption" => &mut f.data_corruption,
                    "security" => &mut f.security,
                    "system_down" | "outage" => &mut f.system_down,
                    "db_down" => &mut f.db_down,
                    "auth_broken" => &mut f.auth_broken,
                    "critical_feature_down" => &mut f.critical_feature_down,
                    "multiple_p1" => &mut f.multiple_p1,
                    "queue_growing" => &mut f.queue_growing,
                    "performance" => &mut f.performance,
                    _ => return Err(format!("unknown fact `{flag}`")),
                };
                *target = yes(v).ok_or_else(|| bad("yes or no"))?;
            }
        }
    }
    if line.named.is_empty() {
        return Err("tell me what you see".into());
    }
    Ok(f)
}

pub const USAGE: &str = "/assess error_rate=12 duration=6m | data_corruption=yes | system_down=yes duration=7m | \
performance=yes affected=30 | issue=api-error (facts: error_rate, duration, data_corruption, security, system_down, \
db_down, auth_broken, critical_feature_down, multiple_p1, sync_success, queue_size, queue_growing, crash_every, \
performance, affected, degradation, issue)";

/// The answer as posted.
pub fn render(a: &Assessment) -> String {
    let head = match a.decision {
        Decision::Immediate => "🔴 **IMMEDIATE ROLLBACK** — execute within 5 minutes (seed 002)",
        Decision::Scheduled => "🟠 **SCHEDULED ROLLBACK** — plan within 30 minutes (seed 002)",
        Decision::Monitor => "🟢 **MONITOR & PATCH** — no rollback (seed 002)",
    };
    let mut out = format!("{head}\nBecause:");
    for b in &a.because {
        out.push_str(&format!("\n• {b}"));
    }
    for w in &a.watch {
        out.push_str(&format!("\n⏱️ Watch: {w}"));
    }
    if let Some((scenario, _)) = a.kanban {
        out.push_str(&format!("\nKanban V2 decision tree (seed 001): {scenario}"));
    }
    if let Some((fe, be, db, urgency)) = a.matrix {
        out.push_str(&format!("\nRollback matrix (seed 003): frontend {fe}, backend {be}, database {db}; urgency {urgency}"));
    }
    if !a.commands.is_empty() {
        out.push_str("\nRun:");
        for c in &a.commands {
            out.push_str(&format!("\n• `{c}`"));
        }
        out.push_str("\nAdd dry-run=true first to see exactly what a command will do.");
    }
    out
}
