//! Stakeholder communication: the seeds' templates, filled from the incident and its
//! timeline, posted to the stakeholder channel on declare, on every severity or status
//! change, on each run's start and end, on updates and on resolve.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{json, Value};

use crate::chat::{Post, PostKind};
use crate::failure::Failure;
use crate::incident::clock;
use crate::model::duration::after;
use crate::model::incident::{kind, Incident};
use crate::render::{hhmm, Context};
use crate::services::Services;

/// Templates the lifecycle posts (in `templates/`).
pub const ALERT: &str = "incident-alert.md.j2";
pub const UPDATE: &str = "status-update.md.j2";
pub const RESOLVED: &str = "incident-resolved.md.j2";

/// Renders `template` for the incident (no run) and posts it to the stakeholder
/// channel. Stakeholders having heard something resets the update reminder.
pub async fn post(
    svc: &Services,
    incident_id: &str,
    template: &str,
    vars: BTreeMap<String, String>,
    args: Value,
) -> Result<(), Failure> {
    let incident = svc
        .store
        .incident(incident_id)
        .await?
        .ok_or_else(|| Failure::Internal(format!("incident {incident_id} vanished")))?;
    let timeline = svc.store.timeline(incident_id).await?;
    let now = Utc::now();
    let ctx = Context {
        incident: &incident,
        run: None,
        steps: &[],
        timeline: &timeline,
        vars: &vars,
        args: &args,
        approvals: &[],
        stakeholder_channel: &svc.settings.file.warroom.stakeholder_channel,
        now,
    };
    let text = svc
        .renderer
        .render(template, &ctx.to_value())
        .map_err(|e| Failure::Internal(e.to_string()))?;
    svc.send(&Post::new(
        &svc.settings.file.warroom.stakeholder_channel,
        PostKind::Status,
        text,
    ))
    .await;
    svc.store.touch_update(incident_id, now).await?;
    clock::schedule_update(svc, &incident, now).await?;
    svc.event(
        incident_id,
        kind::POST,
        None,
        &format!("Stakeholder update posted ({template})"),
        None,
        None,
    )
    .await?;
    Ok(())
}

/// The plain-language update: what is happening now and when the next one comes.
pub async fn update(svc: &Services, incident: &Incident, latest: &str) -> Result<(), Failure> {
    let every = clock::update_every(svc, &incident.severity)
        .unwrap_or(std::time::Duration::from_secs(1800));
    let next = after(Utc::now(), every);
    let vars = BTreeMap::from([
        ("latest".to_string(), latest.to_string()),
        ("next_update".to_string(), hhmm(next)),
    ]);
    post(svc, &incident.id, UPDATE, vars, json!({})).await
}

/// The seed 000 alert, on declare.
pub async fn alert(svc: &Services, incident: &Incident, eta: Option<&str>) -> Result<(), Failure> {
    let args = json!({ "impact": incident.impact, "eta": eta });
    post(svc, &incident.id, ALERT, BTreeMap::new(), args).await
}

/// The seed 001 resolved message, with what the runs did.
pub async fn resolved(
    svc: &Services,
    incident: &Incident,
    summary: Option<&str>,
) -> Result<(), Failure> {
    let runs = svc.store.incident_runs(&incident.id).await?;
    let actions: Vec<String> = runs
        .iter()
        .filter(|r| r.state == crate::model::run::RunState::Succeeded)
        .map(|r| format!("/{}", r.command))
        .collect();
    let vars = BTreeMap::from([
        ("issue".to_string(), incident.title.clone()),
        (
            "action".to_string(),
            if actions.is_empty() {
                "Resolved by the response team".into()
            } else {
                format!("Ran {}", actions.join(", "))
            },
        ),
        (
            "status".to_string(),
            summary
                .unwrap_or("Resolved; system operational")
                .to_string(),
        ),
        (
            "next_steps".to_string(),
            "Root cause analysis + post-mortem".to_string(),
        ),
    ]);
    let args = json!({ "impact": incident.impact });
    post(svc, &incident.id, RESOLVED, vars, args).await
}
