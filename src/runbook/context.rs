//! A run's templates filled with the incident as it is now, the run, its steps,
//! approvals and the timeline: what a run posts and what `/incident resolve` tells
//! stakeholders when a run mitigated the incident.

use chrono::Utc;

use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::render::Context;
use crate::services::Services;

/// Renders a template for a run with the current incident and timeline.
pub async fn render(
    svc: &Services,
    spec: &CommandSpec,
    run_id: i64,
    template: &str,
) -> Result<String, Failure> {
    let run = svc
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| Failure::Internal("run vanished".into()))?;
    let incident = svc
        .store
        .incident(&run.incident_id)
        .await?
        .ok_or_else(|| Failure::Internal("incident vanished".into()))?;
    let steps = svc.store.steps(run_id).await?;
    let timeline = svc.store.timeline(&incident.id).await?;
    let approvals: Vec<(String, String, chrono::DateTime<Utc>)> = svc
        .store
        .votes(run_id)
        .await?
        .into_iter()
        .filter(|(v, _, _)| v.approve)
        .map(|(v, role, at)| (v.user.id, role, at))
        .collect();
    let ctx = Context {
        incident: &incident,
        run: Some(&run),
        steps: &steps,
        timeline: &timeline,
        vars: &spec.file.vars,
        args: &run.args,
        approvals: &approvals,
        eta: crate::incident::clock::eta(svc, &incident),
        stakeholder_channel: &svc.settings.file.warroom.stakeholder_channel,
        now: Utc::now(),
    };
    svc.renderer
        .render(template, &ctx.to_value())
        .map_err(|e| Failure::Internal(e.to_string()))
}
