//! Stakeholder communication: the seeds' templates, filled from the incident and its
//! timeline, posted to the stakeholder channel on declare, on every severity or status
//! change, on each run's start and end, on updates and on resolve.
//!
//! What stakeholders read follows the incident's state: a run that mitigates says so
//! (its success template), and the RESOLVED template goes out once, on
//! `/incident resolve`, filled with the run that mitigated it when its command names
//! `[post] on_resolve`. Posts about one incident that come within [`BURST`] of the
//! burst's first post are one message: the later ones edit it (see [`deliver`]).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use crate::chat::{Post, PostKind};
use crate::failure::Failure;
use crate::incident::clock;
use crate::model::duration::after;
use crate::model::incident::{kind, Incident};
use crate::model::run::RunState;
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
    let ctx = Context {
        incident: &incident,
        run: None,
        steps: &[],
        timeline: &timeline,
        vars: &vars,
        args: &args,
        approvals: &[],
        eta: clock::eta(svc, &incident),
        stakeholder_channel: &svc.settings.file.warroom.stakeholder_channel,
        now: Utc::now(),
    };
    let text = svc
        .renderer
        .render(template, &ctx.to_value())
        .map_err(|e| Failure::Internal(e.to_string()))?;
    deliver(svc, incident_id, PostKind::Status, text, template).await?;
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

/// Posts about one incident closer together than this are one message.
pub const BURST: Duration = Duration::from_secs(5);

/// Sends `text` to the stakeholder channel, or, within a burst, edits the burst's
/// message to it: each stakeholder text says the whole current state, so the newest
/// replaces the ones before it. The RESOLVED post always stands alone and ends the
/// incident's bursts. Stakeholders having heard something resets the update
/// reminder.
pub async fn deliver(
    svc: &Services,
    incident_id: &str,
    post_kind: PostKind,
    text: String,
    template: &str,
) -> Result<(), Failure> {
    let now = Utc::now();
    let channel = &svc.settings.file.warroom.stakeholder_channel;
    let post = Post::new(channel, post_kind, text);
    let last = template == RESOLVED || is_resolution(svc, template);
    let edit = svc.bursts.open(incident_id, now, BURST).filter(|_| !last);
    match &edit {
        Some(message) => svc.edit(message, &post).await,
        None => {
            let sent = svc.send(&post).await;
            svc.bursts.begin(incident_id, sent.filter(|_| !last), now);
        }
    }
    // The status page shows what stakeholders read: the burst's newest text. Its
    // copy failing never holds the post back.
    if let Err(e) = svc
        .store
        .record_status_post(incident_id, &post.text, edit.is_some(), now)
        .await
    {
        tracing::warn!(error = %e, incident = incident_id, "status page copy not recorded");
    }
    svc.store.touch_update(incident_id, now).await?;
    if let Some(incident) = svc.store.incident(incident_id).await? {
        clock::schedule_update(svc, &incident, now).await?;
    }
    Ok(())
}

/// A runbook step's own announcement to stakeholders (seed 002's "SYSTEM OFFLINE",
/// "Sync temporarily disabled"): a message of its own, never folded into the
/// lifecycle's burst, and the update clock re-armed like any stakeholder post.
pub async fn announce(
    svc: &Services,
    incident_id: &str,
    post_kind: PostKind,
    text: String,
) -> Result<(), Failure> {
    let now = Utc::now();
    let channel = &svc.settings.file.warroom.stakeholder_channel;
    // The status page shows it too: it is what stakeholders were told.
    if let Err(e) = svc
        .store
        .record_status_post(incident_id, &text, false, now)
        .await
    {
        tracing::warn!(error = %e, incident = incident_id, "status page copy not recorded");
    }
    svc.send(&Post::new(channel, post_kind, text)).await;
    // What comes next is not an edit of this announcement.
    svc.bursts.begin(incident_id, None, now);
    svc.store.touch_update(incident_id, now).await?;
    if let Some(incident) = svc.store.incident(incident_id).await? {
        clock::schedule_update(svc, &incident, now).await?;
    }
    Ok(())
}

/// A template some command posts on resolve.
fn is_resolution(svc: &Services, template: &str) -> bool {
    svc.catalog
        .specs()
        .any(|s| s.file.post.on_resolve.as_deref() == Some(template))
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
    let by_run = runs
        .iter()
        .rev()
        .filter(|r| r.state == RunState::Succeeded)
        .find_map(|r| {
            let spec = svc.catalog.specs().find(|s| s.full_name() == r.command)?;
            Some((r, spec, spec.file.post.on_resolve.clone()?))
        });
    if let Some((run, spec, template)) = by_run {
        // What the resolver typed is the status now, over the runbook's own words.
        let mut spec = spec.clone();
        if let Some(summary) = summary {
            spec.file.vars.insert("status".into(), summary.to_string());
        }
        let text = crate::runbook::context::render(svc, &spec, run.id, &template).await?;
        deliver(svc, &incident.id, PostKind::Status, text, &template).await?;
        svc.event(
            &incident.id,
            kind::POST,
            None,
            &format!("Stakeholder update posted ({template})"),
            Some(run.id),
            None,
        )
        .await?;
        return Ok(());
    }
    let actions: Vec<String> = runs
        .iter()
        .filter(|r| r.state == RunState::Succeeded)
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
