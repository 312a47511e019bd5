//! What a run posts besides its progress message: the command's templates (filled
//! with the incident, the run and the timeline) and the stakeholder line when a run
//! ends without templates of its own.

use chrono::Utc;

use crate::chat::{Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::Run;
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
        stakeholder_channel: &svc.settings.file.warroom.stakeholder_channel,
        now: Utc::now(),
    };
    svc.renderer
        .render(template, &ctx.to_value())
        .map_err(|e| Failure::Internal(e.to_string()))
}

pub async fn post_template(
    svc: &Services,
    spec: &CommandSpec,
    run_id: i64,
    template: &str,
) -> Result<(), Failure> {
    let run = svc
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| Failure::Internal("run vanished".into()))?;
    let text = render(svc, spec, run_id, template).await?;
    svc.send(&Post::new(&run.channel, PostKind::Template, text.clone()))
        .await;
    if spec.file.post.stakeholders {
        svc.send(&Post::new(
            &svc.settings.file.warroom.stakeholder_channel,
            PostKind::Template,
            text,
        ))
        .await;
    }
    svc.event(
        &run.incident_id,
        kind::POST,
        None,
        &format!("Posted {template}"),
        Some(run_id),
        None,
    )
    .await?;
    Ok(())
}

/// Tells stakeholders how a run ended, when its own templates did not.
pub async fn ended(svc: &Services, run: &Run, latest: &str) -> Result<(), Failure> {
    if let Some(incident) = svc.store.incident(&run.incident_id).await? {
        crate::incident::stakeholders::update(svc, &incident, latest).await?;
    }
    Ok(())
}

pub fn status_text(status: &str) -> String {
    match status {
        "resolved" => "Incident resolved".into(),
        "monitoring" => "Mitigated; monitoring".into(),
        other => format!("Incident status: {other}"),
    }
}
