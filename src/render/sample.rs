//! A context with every field a template can read filled in, so `warroom check` can
//! tell a template's typo (`{{ incident.titel }}`, which posts a blank) from a field
//! that is merely empty at times.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::Context;
use crate::model::incident::{Incident, TimelineEvent};
use crate::model::run::{Run, RunState, StepRecord, StepState};
use crate::model::user::UserId;

/// An incident with every field set, detected at `at`.
pub fn incident(at: DateTime<Utc>) -> Incident {
    Incident {
        id: "INC-20261201-001".into(),
        title: "Kanban disabled".into(),
        severity: "P0".into(),
        status: "monitoring".into(),
        channel: "C1".into(),
        commander: Some("U1".into()),
        detected_at: at,
        declared_at: at,
        mitigated_at: Some(at),
        resolved_at: Some(at),
        impact: Some("all companies".into()),
        acked_by: Some("U1".into()),
        acked_at: Some(at),
        last_update_at: Some(at),
        component: Some("api".into()),
    }
}

/// A finished run of the sample incident, with every field set.
pub fn run(at: DateTime<Utc>) -> Run {
    Run {
        id: 1,
        incident_id: "INC-20261201-001".into(),
        command: "kanban-off".into(),
        scope: "kanban".into(),
        scenario: "feature".into(),
        args: json!({}),
        channel: "C1".into(),
        requested_by: UserId::new("console", "U1"),
        state: RunState::Succeeded,
        dry_run: false,
        created_at: at,
        started_at: Some(at),
        finished_at: Some(at),
        approval_expires_at: Some(at),
        progress_ref: Some("C1/1".into()),
        detail: Some("done".into()),
        plan: String::new(),
    }
}

/// The context value with every optional field present.
pub fn context() -> Value {
    let at = Utc
        .with_ymd_and_hms(2026, 12, 1, 20, 0, 0)
        .single()
        .unwrap_or_default();
    let incident = incident(at);
    let run = run(at);
    let steps = [StepRecord {
        idx: 0,
        phase: "main".into(),
        name: "step".into(),
        kind: "sql".into(),
        state: StepState::Failed,
        started_at: Some(at),
        finished_at: Some(at),
        output: Some("1 row affected".into()),
        message_ref: Some("C1/2".into()),
    }];
    let timeline = [TimelineEvent {
        at,
        kind: "detected".into(),
        actor: Some("U1".into()),
        text: "detected".into(),
        run_id: Some(1),
        step_idx: Some(0),
    }];
    Context {
        incident: &incident,
        run: Some(&run),
        steps: &steps,
        timeline: &timeline,
        vars: &BTreeMap::new(),
        args: &json!({}),
        approvals: &[("U2".into(), "dba".into(), at)],
        eta: Some("within 5 min".into()),
        stakeholder_channel: "C2",
        now: at,
    }
    .to_value()
}

/// The dotted names among `used` (a template's undeclared variables) that name
/// nothing in the context: `incident.titel`, `run.requester`. `args.*` and `vars.*`
/// are per command and checked there.
pub fn unknown(used: &BTreeSet<String>) -> Vec<String> {
    let sample = context();
    used.iter()
        .filter(|path| {
            let mut parts = path.split('.');
            let root = parts.next().unwrap_or_default();
            if matches!(root, "args" | "vars") {
                return false;
            }
            let mut at = &sample;
            for (i, part) in std::iter::once(root).chain(parts).enumerate() {
                match at.get(part) {
                    Some(next) => at = next,
                    // A list's items are read through a loop variable, and minijinja's
                    // own attributes (`x.items`) are not fields.
                    None => return !(at.is_array() || (i > 0 && at.is_string())),
                }
            }
            false
        })
        .cloned()
        .collect()
}

/// What `unknown` found wrong with `path`, in words with the fields it could be.
pub fn explain(path: &str) -> String {
    let sample = context();
    let (parent, _) = path.rsplit_once('.').unwrap_or(("", path));
    let at = parent
        .split('.')
        .filter(|p| !p.is_empty())
        .try_fold(&sample, |v, p| v.get(p));
    match at.and_then(Value::as_object) {
        Some(fields) if !parent.is_empty() => format!(
            "`{path}` is not a field of `{parent}` (it has: {}); it would print nothing",
            fields.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        _ => format!(
            "`{path}` is not something a template can read (it can read: {}); it would print nothing",
            super::CONTEXT_ROOTS.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_field_is_unknown_and_real_ones_are_not() {
        let used: BTreeSet<String> = [
            "incident.titel",
            "incident.title",
            "incident.eta",
            "run.rows_affected",
            "failed_step.output",
            "args.reason",
            "vars.anything",
            "now",
            "nonsense",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(unknown(&used), vec!["incident.titel", "nonsense"]);
    }
}
