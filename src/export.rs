//! The post-mortem export: an incident, its timeline, and every run with its steps and
//! approvals, as Markdown (GitHub/Confluence friendly) or JSON.

use serde_json::json;

use crate::incident::Incident;
use crate::render::{hhmm, human_duration};
use crate::runbook::run::display_id;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no incident {0}; incident ids look like INC-20261122-001")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn minutes_between(
    a: chrono::DateTime<chrono::Utc>,
    b: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<i64> {
    b.map(|b| (b - a).num_minutes())
}

pub async fn export(store: &Store, id: &str, format: Format) -> Result<String, ExportError> {
    let incident = store
        .incident(id)
        .await?
        .ok_or_else(|| ExportError::NotFound(id.into()))?;
    let timeline = store.timeline(id).await?;
    let runs = store.incident_runs(id).await?;
    let mut run_details = Vec::new();
    for r in &runs {
        run_details.push((r, store.steps(r.id).await?, store.votes(r.id).await?));
    }
    Ok(match format {
        Format::Json => {
            let runs: Vec<_> = run_details
                .iter()
                .map(|(r, steps, votes)| {
                    json!({
                        "id": display_id(r.id), "command": r.command, "state": r.state.as_str(),
                        "requested_by": r.requested_by.id, "created_at": r.created_at.to_rfc3339(),
                        "started_at": r.started_at.map(|t| t.to_rfc3339()), "finished_at": r.finished_at.map(|t| t.to_rfc3339()),
                        "args": r.args,
                        "approvals": votes.iter().map(|(v, role, at)| json!({"user": v.user.id, "approve": v.approve, "role": role, "at": at.to_rfc3339()})).collect::<Vec<_>>(),
                        "steps": steps.iter().map(|s| json!({"name": s.name, "phase": s.phase, "kind": s.kind, "state": s.state.as_str(), "duration_ms": s.duration_ms(), "output": s.output})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = json!({
                "incident": incident_json(&incident),
                "timeline": timeline.iter().map(|e| json!({"at": e.at.to_rfc3339(), "kind": e.kind, "actor": e.actor, "text": e.text, "run": e.run_id.map(display_id)})).collect::<Vec<_>>(),
                "runs": runs,
            });
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        }
        Format::Markdown => {
            let mut md = format!(
                "# Incident Post-Mortem: {} — {}\n\n",
                incident.id, incident.title
            );
            md.push_str(&format!(
                "**Incident ID:** {}\n**Severity:** {}\n**Status:** {}\n",
                incident.id, incident.severity, incident.status
            ));
            md.push_str(&format!(
                "**Detected:** {}\n",
                incident.detected_at.format("%Y-%m-%d %H:%M UTC")
            ));
            if let Some(m) = minutes_between(incident.detected_at, incident.mitigated_at) {
                md.push_str(&format!("**Time to mitigate:** {m} min\n"));
            }
            if let Some(m) = minutes_between(incident.detected_at, incident.resolved_at) {
                md.push_str(&format!("**Duration:** {m} min\n"));
            }
            md.push_str("\n## Timeline (UTC)\n\n");
            for e in &timeline {
                md.push_str(&format!("- {} - {}\n", hhmm(e.at), e.text));
            }
            md.push_str("\n## Runs\n");
            for (r, steps, votes) in &run_details {
                md.push_str(&format!(
                    "\n### {} `/{}` — {}\n\nRequested by {} at {} UTC.\n",
                    display_id(r.id),
                    r.command,
                    r.state.as_str(),
                    r.requested_by.id,
                    hhmm(r.created_at)
                ));
                for (v, role, at) in votes {
                    md.push_str(&format!(
                        "- {} by {} ({role}) at {} UTC\n",
                        if v.approve { "Approved" } else { "Denied" },
                        v.user.id,
                        hhmm(*at)
                    ));
                }
                md.push_str(
                    "\n| # | Step | Outcome | Duration |\n|---|------|---------|----------|\n",
                );
                for s in steps {
                    let dur = s.duration_ms().map(human_duration).unwrap_or_default();
                    md.push_str(&format!(
                        "| {} | {} | {} | {dur} |\n",
                        s.idx + 1,
                        s.name.replace('|', "\\|"),
                        s.state.as_str()
                    ));
                }
            }
            md.push_str("\n## Root Cause\n\n[to be filled]\n\n## What Went Well\n\n- [to be filled]\n\n## What Could Be Improved\n\n- [to be filled]\n\n## Action Items\n\n- [ ] [Action] - Owner: [Name] - Due: [Date]\n");
            md
        }
    })
}

fn incident_json(i: &Incident) -> serde_json::Value {
    json!({
        "id": i.id, "title": i.title, "severity": i.severity, "status": i.status, "channel": i.channel,
        "commander": i.commander, "detected_at": i.detected_at.to_rfc3339(), "declared_at": i.declared_at.to_rfc3339(),
        "mitigated_at": i.mitigated_at.map(|t| t.to_rfc3339()), "resolved_at": i.resolved_at.map(|t| t.to_rfc3339()),
    })
}
