//! What a run posts besides its progress message: the command's templates (filled
//! with the incident, the run and the timeline) and the stakeholder line when a run
//! ends without templates of its own.

use crate::chat::{Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::incident::stakeholders;
use crate::model::incident::kind;
use crate::model::run::Run;
use crate::services::Services;

pub use super::context::render;

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
    // A drill is told only in its own channel.
    if spec.file.post.stakeholders && !super::drill::is_drill(&run.args) {
        stakeholders::deliver(svc, &run.incident_id, PostKind::Template, text, template).await?;
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
    if super::drill::is_drill(&run.args) {
        return Ok(());
    }
    if let Some(incident) = svc.store.incident(&run.incident_id).await? {
        stakeholders::update(svc, &incident, latest).await?;
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
