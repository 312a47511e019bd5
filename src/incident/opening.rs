//! Opening an incident, whichever way it starts (`/incident declare`, or the first
//! runbook command in a quiet channel): the record, who commands it, its impact and
//! component, the detection on the timeline, and its clocks.

use chrono::Utc;

use super::clock;
use crate::failure::Failure;
use crate::model::incident::{kind, Incident};
use crate::services::Services;
use crate::store::IncidentField;

/// What an incident opens with.
pub struct Opening<'a> {
    pub title: &'a str,
    pub severity: &'a str,
    pub channel: &'a str,
    /// Who opened it: they command it until `/incident role commander @x` says
    /// otherwise.
    pub by: &'a str,
    /// The impact it was opened with, so the first alert to stakeholders says it
    /// rather than "to be filled".
    pub impact: Option<&'a str>,
    /// Seed 004's component, whose RTO the clocks then run on.
    pub component: Option<&'a str>,
    /// The timeline's detection line.
    pub detected: &'a str,
    /// Whether `by` has it in hand: a person who opens an incident is on it (issue
    /// 12: the bot paged the person who had just typed); an alert that opens one is
    /// not, and the response-time page runs until someone types /ack.
    pub acknowledged: bool,
}

/// Opens the incident (acknowledged by its opener when a person opened it) and starts its clocks. Paging and the stakeholder alert are
/// the caller's next steps, after it has told the channel.
pub async fn open(svc: &Services, o: &Opening<'_>) -> Result<Incident, Failure> {
    let now = Utc::now();
    let incident = svc
        .store
        .create_incident(o.title, o.severity, o.channel, &svc.platform, now)
        .await?;
    let fields = [
        (IncidentField::Component, o.component),
        (IncidentField::Commander, Some(o.by)),
        (IncidentField::Impact, o.impact),
    ];
    for (field, value) in fields {
        if value.is_some() {
            svc.store
                .set_incident_field(&incident.id, field, value)
                .await?;
        }
    }
    svc.store
        .set_incident_role(&incident.id, "commander", o.by, now)
        .await?;
    // Whoever opens it is on it: it is acknowledged by them.
    if o.acknowledged {
        svc.store.ack_incident(&incident.id, o.by, now).await?;
    }
    svc.event(
        &incident.id,
        kind::DETECTED,
        Some(o.by),
        o.detected,
        None,
        None,
    )
    .await?;
    if o.acknowledged {
        // On the full timeline (the post-mortem's), not the stakeholders' headline:
        // it happened the moment the incident opened.
        svc.event(
            &incident.id,
            kind::PAGE,
            Some(o.by),
            &format!("Acknowledged by {} (who opened it)", o.by),
            None,
            None,
        )
        .await?;
    }
    let incident = svc.store.incident(&incident.id).await?.unwrap_or(incident);
    clock::start(svc, &incident).await?;
    Ok(incident)
}
