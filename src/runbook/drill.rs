//! Drills (issue 13): a runbook rehearsed against its drill target set. A drill run
//! carries its drill's name in its arguments ([`DRILL_ARG`], a key no typed
//! argument can have), and everything that reaches a system asks here which one:
//! each production target is swapped for its twin, and a target with no twin is a
//! refusal before anything starts (never production). This module also says when a
//! drill is due, reminds the incident channel once per overdue date, and writes the
//! drill report: each step's time and the seed's budgets.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::actions::ActionError;
use crate::chat::{Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::config::Drill;
use crate::model::duration::{after, parse_duration};
use crate::model::run::{display_id, Run, RunState, StepRecord, StepState};
use crate::render::{escape::inline_code, human_duration};
use crate::runbook::step::Action;
use crate::services::Services;
use crate::store::{DrillRun, StoreError};

/// The argument key that marks a drill run: `@` cannot start a typed name.
pub const DRILL_ARG: &str = "@drill";

/// The drill a run rehearses, if it is one.
pub fn of<'a>(svc: &'a Services, run: &Run) -> Option<(&'a str, &'a Drill)> {
    let name = run.args.get(DRILL_ARG)?.as_str()?;
    svc.settings
        .file
        .drills
        .get_key_value(name)
        .map(|(k, d)| (k.as_str(), d))
}

/// Whether `args` (a run's, or a plan's) are a drill's.
pub fn is_drill(args: &serde_json::Value) -> bool {
    args.get(DRILL_ARG).is_some()
}

/// The target a step of this run reaches: itself, or its drill twin. A drill target
/// without a twin is an error, never the production target (the drill was refused
/// before it started; this holds if the configuration changed since).
pub fn target<'a>(
    svc: &'a Services,
    run: Option<&Run>,
    name: &'a str,
) -> Result<&'a str, ActionError> {
    let Some(args) = run.map(|r| &r.args) else {
        return Ok(name);
    };
    let Some(drill) = args.get(DRILL_ARG).and_then(|d| d.as_str()) else {
        return Ok(name);
    };
    svc.settings
        .file
        .drills
        .get(drill)
        .and_then(|d| d.twin(name))
        .ok_or_else(|| {
            ActionError::Failed(format!(
                "drill `{drill}` has no twin for `{name}`: a drill never reaches production"
            ))
        })
}

/// The deployment vars a step of this run reads: the command's, with a drill's own
/// laid over them.
pub fn vars<'a>(
    svc: &Services,
    spec: &'a CommandSpec,
    args: &serde_json::Value,
) -> Cow<'a, BTreeMap<String, String>> {
    let drill = args
        .get(DRILL_ARG)
        .and_then(|d| d.as_str())
        .and_then(|d| svc.settings.file.drills.get(d));
    match drill {
        Some(d) if !d.vars.is_empty() => {
            let mut merged = spec.file.vars.clone();
            merged.extend(d.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            Cow::Owned(merged)
        }
        _ => Cow::Borrowed(&spec.file.vars),
    }
}

/// Why this drill may not run this runbook here; empty when it may. Every target a
/// step reaches needs a twin that is configured, and a program (a `shell` step
/// without `pg_env`) must be one the drill lists as acting on staging.
pub fn refusals(svc: &Services, name: &str, drill: &Drill, spec: &CommandSpec) -> Vec<String> {
    let mut out = Vec::new();
    for step in spec.file.steps.iter().chain(&spec.file.on_failure) {
        match step.target() {
            Some(t) => match drill.twin(t) {
                None => out.push(format!(
                    "step \"{}\" reaches `{t}`, which has no drill twin (add `{t} = \"...\"` to [drills.{name}.targets])",
                    step.name
                )),
                Some(twin) if !svc.targets.has(twin) && !svc.targets.sql_urls.contains_key(twin) => {
                    let var = svc
                        .settings
                        .file
                        .targets
                        .get(twin)
                        .and_then(|c| c.url_env.clone())
                        .unwrap_or_else(|| format!("a [targets.{twin}] entry"));
                    out.push(format!(
                        "step \"{}\": the twin `{twin}` is not configured (set {var})",
                        step.name
                    ));
                }
                Some(_) => {}
            },
            None => {
                if let Ok(Action::Shell(s)) = step.action() {
                    let program = s.argv.first().map(String::as_str).unwrap_or("");
                    if !drill.programs.iter().any(|p| p == program) {
                        out.push(format!(
                            "step \"{}\" runs `{}`, which the drill does not list as acting on staging (its `programs`)",
                            step.name,
                            inline_code(program)
                        ));
                    }
                }
            }
        }
    }
    out.dedup();
    out
}

/// When a drill is next due: one period after its last successful run, or after it
/// was first seen when it never succeeded.
/// None for a drill with no cadence.
pub fn due(
    drill: &Drill,
    since: DateTime<Utc>,
    last_ok: Option<&DrillRun>,
) -> Option<DateTime<Utc>> {
    let every = parse_duration(drill.every.as_deref()?)?;
    Some(after(last_ok.map_or(since, |r| r.finished_at), every))
}

/// "Last: 2026-11-02 (RUN-4, succeeded). Next: due 2026-12-02." for one drill.
pub async fn dates(
    svc: &Services,
    name: &str,
    drill: &Drill,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let (since, _) = svc.store.drill_clock(name, now).await?;
    let (last, last_ok) = svc.store.last_drills(name).await?;
    let last = match &last {
        Some(r) => format!(
            "last drill {} ({}, {})",
            r.finished_at.format("%Y-%m-%d"),
            display_id(r.run_id),
            r.outcome
        ),
        None => "last drill: never".into(),
    };
    let next = match due(drill, since, last_ok.as_ref()) {
        Some(next) if next <= now => {
            format!("next drill due {} — **overdue**", next.format("%Y-%m-%d"))
        }
        Some(next) => format!("next drill due {}", next.format("%Y-%m-%d")),
        None => "next drill: when a person schedules it (no cadence)".into(),
    };
    Ok(format!("{last}; {next}"))
}

/// Reminds the incident channel of each drill past its due date, once per due date
/// (compare-and-set, so replicas remind once). Seed 000's "DR test within 30 days".
pub async fn remind_overdue(svc: &Services, now: DateTime<Utc>) -> Result<(), StoreError> {
    for (name, drill) in &svc.settings.file.drills {
        let (since, _) = svc.store.drill_clock(name, now).await?;
        let (_, last_ok) = svc.store.last_drills(name).await?;
        let Some(next) = due(drill, since, last_ok.as_ref()) else {
            continue;
        };
        if next > now || !svc.store.claim_drill_reminder(name, next).await? {
            continue;
        }
        let last = last_ok.map_or("it has not run yet".to_string(), |r| {
            format!("it last succeeded on {}", r.finished_at.format("%Y-%m-%d"))
        });
        let text = format!(
            "⏰ Drill `{name}` is overdue: due {} (every {}, {}); {last}. Run it with `/drill {name}`.",
            next.format("%Y-%m-%d %H:%M UTC"),
            drill.every.as_deref().unwrap_or("-"),
            drill.source
        );
        svc.send(&Post::new(
            &svc.settings.file.warroom.incident_channel,
            PostKind::Info,
            text,
        ))
        .await;
    }
    Ok(())
}

/// Records how a drill run ended and posts its report to the run's channel.
pub async fn ended(svc: &Services, spec: &CommandSpec, run: &Run) -> Result<(), StoreError> {
    let Some((name, drill)) = of(svc, run) else {
        return Ok(());
    };
    let now = Utc::now();
    let outcome = match run.state {
        RunState::Succeeded => "succeeded",
        RunState::Failed => "failed",
        RunState::Cancelled => "cancelled",
        _ => "interrupted",
    };
    let record = DrillRun {
        run_id: run.id,
        name: name.to_string(),
        outcome: outcome.into(),
        started_at: run.started_at.unwrap_or(run.created_at),
        finished_at: run.finished_at.unwrap_or(now),
    };
    svc.store.record_drill(&record).await?;
    let steps = svc.store.steps(run.id).await?;
    let text = report(name, drill, spec, run, &record, &steps);
    svc.send(&Post::new(&run.channel, PostKind::Template, text))
        .await;
    Ok(())
}

/// The drill report: what ran against what, each step's time (against the seed's
/// budget where a step carries one), the total against the RTO, and what to do next.
pub fn report(
    name: &str,
    drill: &Drill,
    spec: &CommandSpec,
    run: &Run,
    record: &DrillRun,
    steps: &[StepRecord],
) -> String {
    let swapped: Vec<String> = drill
        .targets
        .iter()
        .map(|(prod, twin)| format!("`{prod}` → `{twin}`"))
        .collect();
    let mut lines = vec![
        format!("🧪 **DRILL REPORT: {name}** ({})", drill.source),
        format!(
            "**Runbook:** /{} ({}), against the drill targets: {}",
            run.command,
            display_id(run.id),
            if swapped.is_empty() {
                "none (no target reached)".into()
            } else {
                swapped.join(", ")
            }
        ),
        format!(
            "**Outcome:** {} in {}",
            record.outcome,
            human_duration(
                (record.finished_at - record.started_at)
                    .num_milliseconds()
                    .max(0)
            )
        ),
        String::new(),
        "**Step timings** (actual vs documented):".into(),
    ];
    for (i, s) in steps.iter().filter(|s| s.phase == "main").enumerate() {
        let icon = match s.state {
            StepState::Succeeded => "✅",
            StepState::Failed => "❌",
            StepState::Skipped => "⏭️",
            _ => "•",
        };
        let took = s
            .duration_ms()
            .map_or("not run".to_string(), human_duration);
        let budget = spec
            .file
            .steps
            .get(i)
            .and_then(|st| st.budget.as_ref())
            .map(|b| format!(" (end of \"{}\", budget {})", b.phase, b.within))
            .unwrap_or_default();
        lines.push(format!("- {icon} {}: {took}{budget}", s.name));
    }
    lines.push(String::new());
    lines.push(
        "Record the actual times against the documented ones, identify the gaps, update the runbook, and hold the retrospective (seed 002, Rollback Drill Procedure 5-7).".into(),
    );
    let every = drill.every.as_deref().and_then(parse_duration);
    lines.push(match (record.outcome.as_str(), every) {
        ("succeeded", Some(e)) => format!(
            "Next drill due {} (every {}).",
            after(record.finished_at, e).format("%Y-%m-%d"),
            drill.every.as_deref().unwrap_or("-")
        ),
        (_, Some(_)) => format!(
            "The drill did not succeed, so it is still due (every {}).",
            drill.every.as_deref().unwrap_or("-")
        ),
        (_, None) => "Next drill: when a person schedules it.".into(),
    });
    lines.join("\n")
}
