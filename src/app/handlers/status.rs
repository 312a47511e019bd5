//! `/status`: the channel's open incident and its runs, and what waits for approval.

use chrono::Utc;

use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::failure::Failure;
use crate::model::run::{display_id, RunState};
use crate::render::{escape, hhmm};

/// Only for people who hold a role of the matrix, and only this channel's
/// incident and waiting requests: a stranger learns nothing of what is going on.
pub async fn status(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    if app.catalog.matrix.roles_of(&msg.user).is_empty() {
        return Err(Failure::Denied(
            "/status is for the people in warroom's authorization matrix, and you hold no \
             role there. Ask the incident commander, or whoever keeps commands/matrix.toml."
                .into(),
        ));
    }
    let mut out = String::new();
    match app.store.open_incident(&msg.channel).await? {
        Some(i) => {
            let mins = (Utc::now() - i.detected_at).num_minutes();
            out.push_str(&format!(
                "**{}** {} — {} ({}), open for {mins} min, detected {} UTC.\n",
                i.id,
                i.severity,
                escape::markdown(&i.title),
                i.status,
                hhmm(i.detected_at)
            ));
            let runs = app.store.incident_runs(&i.id).await?;
            for r in runs.iter().rev().take(10) {
                out.push_str(&format!(
                    "• {} /{} — {} (by {})\n",
                    display_id(r.id),
                    r.command,
                    r.state.as_str().replace('_', " "),
                    r.requested_by.id
                ));
            }
        }
        None => out.push_str("No open incident in this channel.\n"),
    }
    let waiting: Vec<_> = app
        .store
        .runs_in_state(RunState::AwaitingApproval)
        .await?
        .into_iter()
        .filter(|r| r.channel == msg.channel)
        .collect();
    if !waiting.is_empty() {
        out.push_str("Waiting for approval: ");
        out.push_str(
            &waiting
                .iter()
                .map(|r| format!("{} /{}", display_id(r.id), r.command))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    app.send(&msg.private(Post::new(
        &msg.channel,
        PostKind::Info,
        out.trim_end().to_string(),
    )))
    .await;
    Ok(Handled::done())
}
