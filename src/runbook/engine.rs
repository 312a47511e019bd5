//! Drives a run: claims it, walks its steps (each state change written before it is
//! shown), edits the progress message in place and parks at checkpoints; `ending`
//! finishes it. Also what a run would do, for dry runs and approvers (`describe`).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use super::act;
use super::driver::{Driver, RunOutcome};
use super::ending::{fail, finish};
use super::posts::post_template;
use crate::actions;
use crate::chat::{Button, MessageRef, Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::duration::after;
use crate::model::incident::kind;
use crate::model::run::{display_id, Run, RunState, StepState};
use crate::runbook::step::Action;
use crate::services::Services;

/// Extra time a lease outlives its step's timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

pub fn spec_of<'a>(svc: &'a Services, run: &Run) -> Result<&'a CommandSpec, Failure> {
    svc.catalog
        .specs()
        .find(|s| s.full_name() == run.command)
        .ok_or_else(|| {
            Failure::Internal(format!(
                "/{} is no longer defined in commands/",
                run.command
            ))
        })
}

/// What the command would do, as approvers and dry runs see it: [`describe`], with
/// each step marked `preview` measured against its target (rolled back).
pub async fn plan(svc: &Services, spec: &CommandSpec, args: &Value, run: Option<&Run>) -> String {
    let mut measured = BTreeMap::new();
    let all = spec.file.steps.iter().chain(spec.file.on_failure.iter());
    for (i, step) in all.enumerate() {
        if act::not_applicable(step, args).is_some() {
            continue;
        }
        if let Some(m) = act::measure(svc, spec, step, args, run).await {
            measured.insert(i, m);
        }
    }
    describe_with(svc, spec, args, run, &measured)
}

/// Exactly what each step would do: rendered SQL with its bound values, prompts,
/// waits and templates.
pub fn describe(svc: &Services, spec: &CommandSpec, args: &Value, run: Option<&Run>) -> String {
    describe_with(svc, spec, args, run, &BTreeMap::new())
}

fn describe_with(
    svc: &Services,
    spec: &CommandSpec,
    args: &Value,
    run: Option<&Run>,
    measured: &BTreeMap<usize, String>,
) -> String {
    let mut out = Vec::new();
    if let Some(name) = args
        .get(crate::runbook::drill::DRILL_ARG)
        .and_then(Value::as_str)
    {
        out.push(format!(
            "🧪 **DRILL {name}**: every target below is its drill twin; nothing reaches production."
        ));
    }
    let all = spec
        .file
        .steps
        .iter()
        .map(|s| (false, s))
        .chain(spec.file.on_failure.iter().map(|s| (true, s)));
    for (i, (on_failure, step)) in all.enumerate() {
        let prefix = if on_failure { "if a step fails: " } else { "" };
        // Steps these arguments rule out are named, not detailed.
        if let Some(why) = act::not_applicable(step, args) {
            out.push(format!("{}. {prefix}~{}~ ({why})", i + 1, step.name));
            continue;
        }
        let body = act::describe(svc, spec, step, args, run);
        let optional = match step.optional {
            true => act::unavailable(svc, step, args).map(|why| format!(" ({why})")),
            false => None,
        }
        .unwrap_or_default();
        let effect = measured
            .get(&i)
            .map_or(String::new(), |m| format!("\n**Effect:** {m}"));
        out.push(format!(
            "{}. {prefix}**{}**{optional}\n{body}{effect}",
            i + 1,
            step.name
        ));
    }
    out.join("\n")
}

/// Runs (or resumes) a run that is in `running`. Returns when it ends or parks.
pub async fn drive(svc: &Services, run_id: i64) -> Result<RunOutcome, Failure> {
    let run = svc
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| Failure::Internal(format!("run {run_id} vanished")))?;
    let spec = spec_of(svc, &run)?;
    let now = Utc::now();
    if !svc
        .store
        .claim(
            run.id,
            svc.store.instance(),
            now,
            now + chrono::Duration::seconds(60),
        )
        .await?
    {
        return Ok(RunOutcome::NotMine);
    }
    let votes = svc.store.votes(run.id).await?;
    let note = votes
        .iter()
        .filter(|(v, _, _)| v.approve)
        .map(|(v, role, at)| {
            format!(
                "👍 approved by {} as {role} at {} UTC",
                v.user.id,
                crate::render::hhmm(*at)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let demo = svc.demo_targets(spec);
    let note = if demo.is_empty() {
        note
    } else {
        let demo_line = format!(
            "ℹ️ Runs against the embedded demo database for {}: no real system is touched.",
            demo.join(", ")
        );
        if note.is_empty() {
            demo_line
        } else {
            format!("{demo_line}\n{note}")
        }
    };
    let mut d = Driver {
        svc,
        spec,
        progress: run.progress_ref.as_deref().and_then(MessageRef::decode),
        note,
    };
    let result = walk(&mut d, &run).await;
    if let Err(Failure::Store(e)) = &result {
        super::outage::stopped_by_outage(svc, &run, Utc::now(), e).await;
    }
    let released = svc.store.release(run.id, svc.store.instance()).await;
    match result {
        Ok(outcome) => released.map(|()| outcome).map_err(Failure::from),
        Err(e) => Err(e),
    }
}

/// Returns once the run is no longer `running` (cancelled, or reported
/// interrupted); checked every second.
async fn stopped(svc: &Services, run_id: i64) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        match svc.store.run(run_id).await {
            Ok(Some(r)) if r.state == RunState::Running => {}
            Ok(_) => return,
            // The state database is unreachable: keep waiting, as the wait does.
            Err(_) => {}
        }
    }
}

async fn walk(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (svc, spec) = (d.svc, d.spec);
    let (_, steps) = d.refresh(run.id).await?;
    if steps.iter().all(|s| s.state == StepState::Pending) {
        // A drill tells nobody outside its channel.
        let told = match crate::runbook::drill::is_drill(&run.args) {
            true => None,
            false => svc.store.incident(&run.incident_id).await?,
        };
        if let Some(incident) = told {
            let latest = format!(
                "Started /{} ({}), requested by {}",
                run.command,
                display_id(run.id),
                run.requested_by.id
            );
            crate::incident::stakeholders::update(svc, &incident, &latest).await?;
        }
        if let Some(t) = &spec.file.post.on_start {
            post_template(svc, spec, run.id, t).await?;
        }
    }
    for (idx, step) in spec.file.steps.iter().enumerate() {
        let idx = idx as i64;
        let record = steps.iter().find(|s| s.idx == idx);
        match record.map(|r| r.state) {
            Some(StepState::Succeeded | StepState::Skipped) => continue,
            Some(StepState::Waiting) => return Ok(RunOutcome::Waiting),
            Some(StepState::Pending) => {}
            other => {
                return Err(Failure::Internal(format!(
                    "step {} of {} is {other:?}",
                    idx + 1,
                    display_id(run.id)
                )))
            }
        }
        let timeout = act::timeout(svc, step, &run.args);
        let now = Utc::now();
        // The claim holds only while the run is `running`: a run cancelled (or
        // reported interrupted) since the last step stops here, before the next.
        if !svc
            .store
            .claim(
                run.id,
                svc.store.instance(),
                now,
                after(now, timeout + LEASE_MARGIN),
            )
            .await?
        {
            d.refresh(run.id).await?;
            return Ok(RunOutcome::NotMine);
        }
        let skip = match step.optional {
            true => act::unavailable(svc, step, &run.args),
            false => None,
        }
        .or_else(|| act::not_applicable(step, &run.args));
        if let Some(why) = skip {
            if !svc.store.start_step(run.id, idx, now).await? {
                return Ok(RunOutcome::NotMine);
            }
            svc.store
                .step_transition(
                    run.id,
                    idx,
                    StepState::Running,
                    StepState::Skipped,
                    Utc::now(),
                    Some(&why),
                )
                .await?;
            d.refresh(run.id).await?;
            continue;
        }
        if !svc.store.start_step(run.id, idx, now).await? {
            d.refresh(run.id).await?;
            return Ok(RunOutcome::NotMine);
        }
        let (run_now, _) = d.refresh(run.id).await?;
        if let Ok(Action::Confirm(c)) = step.action() {
            svc.store
                .step_transition(
                    run.id,
                    idx,
                    StepState::Running,
                    StepState::Waiting,
                    Utc::now(),
                    None,
                )
                .await?;
            d.refresh(run.id).await?;
            let id = display_id(run.id);
            let text = format!(
                "⏸️ **{id}** checkpoint {}: {}\nWhen it is done, press Done or type /confirm {id}. To stop here: /cancel {id}.",
                idx + 1,
                act::prompt(
                    c,
                    &act::scope(
                        &crate::runbook::drill::vars(svc, spec, &run_now.args),
                        &run_now.args,
                        Some(&run_now),
                    ),
                )
            );
            let post =
                Post::new(&run.channel, PostKind::Checkpoint, text).with_buttons(vec![Button {
                    label: "Done".into(),
                    command: format!("/confirm {id}"),
                    danger: false,
                }]);
            if let Some(m) = svc.send(&post).await {
                svc.store.set_step_message(run.id, idx, &m.encode()).await?;
            }
            return Ok(RunOutcome::Waiting);
        }
        // A wait, and a watch between its checks, are safe to stop half way: they
        // change nothing.
        let stoppable = matches!(step.action(), Ok(Action::Wait(_))) || step.watch.is_some();
        let executed = if stoppable {
            tokio::select! {
                out = act::execute(svc, spec, step, &run_now) => Some(out),
                () = stopped(svc, run.id) => None,
            }
        } else {
            Some(act::execute(svc, spec, step, &run_now).await)
        };
        let Some(executed) = executed else {
            svc.store
                .step_transition(
                    run.id,
                    idx,
                    StepState::Running,
                    StepState::Skipped,
                    Utc::now(),
                    Some("stopped: the run was cancelled during the wait"),
                )
                .await?;
            d.refresh(run.id).await?;
            return Ok(RunOutcome::NotMine);
        };
        match executed {
            Ok(output) => {
                svc.store
                    .step_transition(
                        run.id,
                        idx,
                        StepState::Running,
                        StepState::Succeeded,
                        Utc::now(),
                        Some(&actions::truncate(&output.summary, actions::OUTPUT_LIMIT)),
                    )
                    .await?;
                let (ev_kind, text) = match &step.timeline {
                    Some(t) => (kind::MILESTONE, t.clone()),
                    None => (
                        kind::STEP,
                        format!("{}: {} ({})", display_id(run.id), step.name, output.summary),
                    ),
                };
                svc.event(
                    &run.incident_id,
                    ev_kind,
                    None,
                    &text,
                    Some(run.id),
                    Some(idx),
                )
                .await?;
                if let Some(table) = output.table {
                    let text = format!("**{}** — {}\n{table}", step.name, display_id(run.id));
                    svc.send(&Post::new(&run.channel, PostKind::Info, text))
                        .await;
                }
                d.refresh(run.id).await?;
            }
            Err(e) => {
                let message = actions::truncate(&e.to_string(), actions::OUTPUT_LIMIT);
                svc.store
                    .step_transition(
                        run.id,
                        idx,
                        StepState::Running,
                        StepState::Failed,
                        Utc::now(),
                        Some(&message),
                    )
                    .await?;
                svc.event(
                    &run.incident_id,
                    kind::STEP,
                    None,
                    &format!(
                        "{}: step {} failed: {message}",
                        display_id(run.id),
                        step.name
                    ),
                    Some(run.id),
                    Some(idx),
                )
                .await?;
                d.refresh(run.id).await?;
                return fail(d, run).await;
            }
        }
    }
    finish(d, run).await
}
