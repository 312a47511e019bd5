//! How a run ends: success (the incident's status, the command's templates, the
//! stakeholders told) or failure (the `on_failure` steps, main steps never reached
//! marked not run, the failure template).

use chrono::Utc;

use super::act;
use super::driver::{Driver, RunOutcome};
use super::posts::{ended, post_template, status_text};
use crate::actions::{self, ActionError};
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::{display_id, Run, RunState, StepState};
use crate::render::human_duration;
use crate::runbook::step::Action;

pub async fn finish(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (svc, spec) = (d.svc, d.spec);
    let now = Utc::now();
    if !svc
        .store
        .transition(run.id, RunState::Running, RunState::Succeeded, now, None)
        .await?
    {
        return Ok(RunOutcome::NotMine);
    }
    let (done, _) = d.refresh(run.id).await?;
    let took = done
        .started_at
        .map(|s| human_duration((now - s).num_milliseconds()))
        .unwrap_or_default();
    svc.event(
        &run.incident_id,
        kind::RUN,
        None,
        &format!(
            "{} /{} succeeded in {took}",
            display_id(run.id),
            run.command
        ),
        Some(run.id),
        None,
    )
    .await?;
    let steps = svc.store.steps(run.id).await?;
    if let Some(text) = against_budgets(spec, &done, &steps) {
        svc.event(
            &run.incident_id,
            kind::CLOCK,
            None,
            &text,
            Some(run.id),
            None,
        )
        .await?;
        svc.send(&crate::chat::Post::new(
            &run.channel,
            crate::chat::PostKind::Info,
            text,
        ))
        .await;
    }
    if let Some(status) = &spec.file.command.sets_status {
        svc.store
            .set_incident_status(&run.incident_id, status, now)
            .await?;
        svc.event(
            &run.incident_id,
            if status == "resolved" {
                kind::RESOLVED
            } else {
                kind::STATUS
            },
            None,
            &status_text(status),
            Some(run.id),
            None,
        )
        .await?;
    }
    if let Some(t) = &spec.file.post.on_success {
        post_template(svc, spec, run.id, t).await?;
    }
    if !(spec.file.post.stakeholders && spec.file.post.on_success.is_some()) {
        ended(
            svc,
            run,
            &format!(
                "/{} ({}) succeeded in {took}",
                run.command,
                display_id(run.id)
            ),
        )
        .await?;
    }
    super::drill::ended(svc, spec, &done).await?;
    Ok(RunOutcome::Succeeded)
}

/// Each seed phase's time against its documented budget (seed 002: "Step 1: Stop Sync
/// Worker (1 minute)", ...): from the end of the previous budgeted step (or the run's
/// start) to the end of the phase's last step, waits and checkpoints included.
fn against_budgets(
    spec: &crate::command::spec::CommandSpec,
    run: &Run,
    steps: &[crate::model::run::StepRecord],
) -> Option<String> {
    let mut from = run.started_at?;
    let mut lines = Vec::new();
    let (mut spent, mut allowed) = (0i64, 0i64);
    for (i, s) in spec.file.steps.iter().enumerate() {
        let Some(b) = &s.budget else { continue };
        let within = crate::model::duration::parse_duration(&b.within)?.as_millis() as i64;
        let end = steps
            .iter()
            .filter(|r| r.phase == "main" && r.idx as usize <= i)
            .filter_map(|r| r.finished_at)
            .max()?;
        let took = (end - from).num_milliseconds().max(0);
        let mark = if took <= within { "✅" } else { "⚠️ over" };
        lines.push(format!(
            "- {}: {} of {} {mark}",
            b.phase,
            human_duration(took),
            human_duration(within)
        ));
        spent += took;
        allowed += within;
        from = end;
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "⏱️ **{}** /{} against the seed's step budgets ({} of {}):\n{}",
        display_id(run.id),
        run.command,
        human_duration(spent),
        human_duration(allowed),
        lines.join("\n")
    ))
}

/// A step failed: run the `on_failure` steps (best effort, each recorded), mark the
/// run failed, and post what ran and what did not.
pub async fn fail(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (svc, spec) = (d.svc, d.spec);
    let base = spec.file.steps.len() as i64;
    for (i, step) in spec.file.on_failure.iter().enumerate() {
        let idx = base + i as i64;
        let now = Utc::now();
        if !svc
            .store
            .step_transition(
                run.id,
                idx,
                StepState::Pending,
                StepState::Running,
                now,
                None,
            )
            .await?
        {
            continue;
        }
        d.refresh(run.id).await?;
        let result = if matches!(step.action(), Ok(Action::Confirm(_))) {
            Err(ActionError::Failed(
                "checkpoints cannot run during failure handling".into(),
            ))
        } else {
            act::execute(svc, spec, step, run).await
        };
        let (state, out) = match result {
            Ok(o) => (StepState::Succeeded, o.summary),
            Err(e) => (StepState::Failed, e.to_string()),
        };
        svc.store
            .step_transition(
                run.id,
                idx,
                StepState::Running,
                state,
                Utc::now(),
                Some(&actions::truncate(&out, actions::OUTPUT_LIMIT)),
            )
            .await?;
    }
    // Main steps never reached stay visibly not run.
    let steps = svc.store.steps(run.id).await?;
    for s in steps
        .iter()
        .filter(|s| s.phase == "main" && s.state == StepState::Pending)
    {
        svc.store
            .step_transition(
                run.id,
                s.idx,
                StepState::Pending,
                StepState::Skipped,
                Utc::now(),
                Some("not run"),
            )
            .await?;
    }
    let failed = steps
        .iter()
        .find(|s| s.state == StepState::Failed)
        .map_or("a step".to_string(), |s| s.name.clone());
    svc.store
        .transition(
            run.id,
            RunState::Running,
            RunState::Failed,
            Utc::now(),
            Some(&format!("step failed: {failed}")),
        )
        .await?;
    d.refresh(run.id).await?;
    svc.event(
        &run.incident_id,
        kind::RUN,
        None,
        &format!(
            "{} /{} failed at step: {failed}",
            display_id(run.id),
            run.command
        ),
        Some(run.id),
        None,
    )
    .await?;
    let template = spec
        .file
        .post
        .on_failure
        .clone()
        .unwrap_or_else(|| DEFAULT_FAILURE_TEMPLATE.into());
    let posted = svc.renderer.has(&template);
    if posted {
        post_template(svc, spec, run.id, &template).await?;
    }
    // Stakeholders hear one account of the failure: the template, when they got it.
    if !(spec.file.post.stakeholders && posted) {
        let latest = format!(
            "/{} ({}) failed at \"{failed}\"; the team is on it",
            run.command,
            display_id(run.id)
        );
        ended(svc, run, &latest).await?;
    }
    if let Some(failed_run) = svc.store.run(run.id).await? {
        super::drill::ended(svc, spec, &failed_run).await?;
    }
    Ok(RunOutcome::Failed)
}

/// Posted when a run fails and its command names no failure template.
pub const DEFAULT_FAILURE_TEMPLATE: &str = "run-failed.md.j2";
