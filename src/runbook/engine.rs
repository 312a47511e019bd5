//! Drives a run: claims it, walks its steps (each state change written before it is
//! shown), edits the progress message in place, parks at checkpoints, and posts the
//! templates when the run ends.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use super::act;
pub use super::posts::render;
use super::posts::{ended, post_template, status_text};
use super::progress::progress_text;
use crate::actions::{self, ActionError};
use crate::app::{App, Failure};
use crate::chat::{Button, MessageRef, Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::incident::kind;
use crate::render::human_duration;
use crate::runbook::run::{display_id, Run, RunState, StepRecord, StepState};
use crate::runbook::step::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded,
    Failed,
    /// Parked at a human checkpoint.
    Waiting,
    /// Another process holds the run.
    NotMine,
}

/// Extra time a lease outlives its step's timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

pub fn spec_of<'a>(app: &'a App, run: &Run) -> Result<&'a CommandSpec, Failure> {
    app.catalog
        .specs()
        .find(|s| s.full_name() == run.command)
        .ok_or_else(|| {
            Failure::Internal(format!(
                "/{} is no longer defined in commands/",
                run.command
            ))
        })
}

/// Exactly what each step would do: rendered SQL with its bound values, prompts,
/// waits and templates. Shown for dry runs and to approvers.
pub fn describe(app: &App, spec: &CommandSpec, args: &Value, run: Option<&Run>) -> String {
    let mut out = Vec::new();
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
        let body = act::describe(app, spec, step, args, run);
        let optional = if step.optional && !act::target_configured(app, step) {
            " (skipped: target not configured)"
        } else {
            ""
        };
        out.push(format!(
            "{}. {prefix}**{}**{optional}\n{body}",
            i + 1,
            step.name
        ));
    }
    out.join("\n")
}

struct Driver<'a> {
    app: &'a App,
    spec: &'a CommandSpec,
    progress: Option<MessageRef>,
    /// Lines kept above the steps (who approved).
    note: String,
}

impl Driver<'_> {
    async fn refresh(&mut self, run_id: i64) -> Result<(Run, Vec<StepRecord>), Failure> {
        let run = self
            .app
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| Failure::Internal(format!("run {run_id} vanished")))?;
        let steps = self.app.store.steps(run_id).await?;
        let post = Post::new(
            &run.channel,
            PostKind::Progress,
            progress_text(&run, &steps, &self.note),
        );
        match &self.progress {
            Some(m) => self.app.edit(m, &post).await,
            None => {
                if let Some(m) = self.app.send(&post).await {
                    self.app.store.set_progress_ref(run.id, &m.encode()).await?;
                    self.progress = Some(m);
                }
            }
        }
        Ok((run, steps))
    }
}

/// Runs (or resumes) a run that is in `running`. Returns when it ends or parks.
pub async fn drive(app: &App, run_id: i64) -> Result<RunOutcome, Failure> {
    let run = app
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| Failure::Internal(format!("run {run_id} vanished")))?;
    let spec = spec_of(app, &run)?;
    let now = Utc::now();
    if !app
        .store
        .claim(
            run.id,
            app.store.instance(),
            now,
            now + chrono::Duration::seconds(60),
        )
        .await?
    {
        return Ok(RunOutcome::NotMine);
    }
    let votes = app.store.votes(run.id).await?;
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
    let demo = app.demo_targets(spec);
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
        app,
        spec,
        progress: run.progress_ref.as_deref().and_then(MessageRef::decode),
        note,
    };
    let result = walk(&mut d, &run).await;
    app.store.release(run.id, app.store.instance()).await?;
    result
}

async fn walk(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (app, spec) = (d.app, d.spec);
    let (_, steps) = d.refresh(run.id).await?;
    if steps.iter().all(|s| s.state == StepState::Pending) {
        if let Some(incident) = app.store.incident(&run.incident_id).await? {
            let latest = format!(
                "Started /{} ({}), requested by {}",
                run.command,
                display_id(run.id),
                run.requested_by.id
            );
            crate::incident::stakeholders::update(app, &incident, &latest).await?;
        }
        if let Some(t) = &spec.file.post.on_start {
            post_template(app, spec, run.id, t).await?;
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
        let timeout = act::timeout(app, step, &run.args);
        let now = Utc::now();
        app.store
            .claim(
                run.id,
                app.store.instance(),
                now,
                now + chrono::Duration::from_std(timeout + LEASE_MARGIN).unwrap_or_default(),
            )
            .await?;
        let skip = if step.optional && !act::target_configured(app, step) {
            Some("skipped: target not configured".to_string())
        } else {
            act::not_applicable(step, &run.args)
        };
        if let Some(why) = skip {
            app.store
                .step_transition(
                    run.id,
                    idx,
                    StepState::Pending,
                    StepState::Running,
                    now,
                    None,
                )
                .await?;
            app.store
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
        if !app
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
            return Ok(RunOutcome::NotMine);
        }
        let (run_now, _) = d.refresh(run.id).await?;
        if let Ok(Action::Confirm(c)) = step.action() {
            app.store
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
                act::prompt(c, &act::scope(spec, &run_now.args, Some(&run_now)))
            );
            let post =
                Post::new(&run.channel, PostKind::Checkpoint, text).with_buttons(vec![Button {
                    label: "Done".into(),
                    command: format!("/confirm {id}"),
                    danger: false,
                }]);
            if let Some(m) = app.send(&post).await {
                app.store.set_step_message(run.id, idx, &m.encode()).await?;
            }
            return Ok(RunOutcome::Waiting);
        }
        match act::execute(app, spec, step, &run_now).await {
            Ok(output) => {
                app.store
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
                app.event(
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
                    app.send(&Post::new(&run.channel, PostKind::Info, text))
                        .await;
                }
                d.refresh(run.id).await?;
            }
            Err(e) => {
                let message = actions::truncate(&e.to_string(), actions::OUTPUT_LIMIT);
                app.store
                    .step_transition(
                        run.id,
                        idx,
                        StepState::Running,
                        StepState::Failed,
                        Utc::now(),
                        Some(&message),
                    )
                    .await?;
                app.event(
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

async fn finish(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (app, spec) = (d.app, d.spec);
    let now = Utc::now();
    if !app
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
    app.event(
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
    if let Some(status) = &spec.file.command.sets_status {
        app.store
            .set_incident_status(&run.incident_id, status, now)
            .await?;
        app.event(
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
        post_template(app, spec, run.id, t).await?;
    }
    if !(spec.file.post.stakeholders && spec.file.post.on_success.is_some()) {
        ended(
            app,
            run,
            &format!(
                "/{} ({}) succeeded in {took}",
                run.command,
                display_id(run.id)
            ),
        )
        .await?;
    }
    Ok(RunOutcome::Succeeded)
}

/// A step failed: run the `on_failure` steps (best effort, each recorded), mark the
/// run failed, and post what ran and what did not.
async fn fail(d: &mut Driver<'_>, run: &Run) -> Result<RunOutcome, Failure> {
    let (app, spec) = (d.app, d.spec);
    let base = spec.file.steps.len() as i64;
    for (i, step) in spec.file.on_failure.iter().enumerate() {
        let idx = base + i as i64;
        let now = Utc::now();
        if !app
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
            act::execute(app, spec, step, run).await
        };
        let (state, out) = match result {
            Ok(o) => (StepState::Succeeded, o.summary),
            Err(e) => (StepState::Failed, e.to_string()),
        };
        app.store
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
    let steps = app.store.steps(run.id).await?;
    for s in steps
        .iter()
        .filter(|s| s.phase == "main" && s.state == StepState::Pending)
    {
        app.store
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
    app.store
        .transition(
            run.id,
            RunState::Running,
            RunState::Failed,
            Utc::now(),
            Some(&format!("step failed: {failed}")),
        )
        .await?;
    d.refresh(run.id).await?;
    app.event(
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
    if app.renderer.has(&template) {
        post_template(app, spec, run.id, &template).await?;
    }
    if !(spec.file.post.stakeholders && spec.file.post.on_failure.is_some()) {
        let latest = format!(
            "/{} ({}) failed at \"{failed}\"; the team is on it",
            run.command,
            display_id(run.id)
        );
        ended(app, run, &latest).await?;
    }
    Ok(RunOutcome::Failed)
}

/// Posted when a run fails and its command names no failure template.
pub const DEFAULT_FAILURE_TEMPLATE: &str = "run-failed.md.j2";
