//! `/ratify RUN-n`: an approver the matrix wanted ratifies a stop that already ran
//! on break-glass (`runbook::breakglass`). Checked against the matrix like a vote;
//! once every deciding role is covered, the ratification is closed (compare-and-set)
//! and the request says so.

use chrono::Utc;

use super::run_ref::run_arg;
use crate::app::{App, Handled, Incoming};
use crate::authz::{Refusal, Verdict};
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::display_id;
use crate::model::user::Vote;
use crate::render::hhmm;
use crate::runbook::breakglass::{edit_request, request_post};
use crate::store::RATIFY_PLAN;

pub async fn ratify(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let run = run_arg(app, msg, line, "ratify").await?;
    let id = display_id(run.id);
    let Some(rat) = app.store.ratification(run.id).await? else {
        return Err(Failure::Invalid(format!(
            "{id} /{} did not run on break-glass: there is nothing to ratify (/approve is for requests that wait).",
            run.command
        )));
    };
    match rat.state.as_str() {
        "pending" => {}
        "ratified" => {
            return Err(Failure::Invalid(format!(
                "{id} is already ratified (at {} UTC).",
                rat.decided_at.map(hhmm).unwrap_or_default()
            )))
        }
        _ => {
            return Err(Failure::Invalid(format!(
                "{id} was not ratified by {} UTC and has been escalated; the post-mortem records it as unratified. Say what you decided with /note.",
                hhmm(rat.due_at)
            )))
        }
    }
    let matrix = &app.catalog.matrix;
    let votes: Vec<Vote> = app
        .store
        .ratify_votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let role = matrix
        .may_vote(&run.scenario, &run.requested_by, &votes, &msg.user)
        .map_err(|r| {
            let text = app.refusal_text(&r, &format!("ratify {id}"));
            match r {
                Refusal::AlreadyDecided | Refusal::NotNeeded { .. } => Failure::Invalid(text),
                _ => Failure::Denied(text),
            }
        })?;
    let now = Utc::now();
    if !app
        .store
        .add_vote(run.id, &msg.user, &role, true, now, RATIFY_PLAN)
        .await?
    {
        return Err(Failure::Invalid(format!("You already ratified {id}.")));
    }
    app.event(
        &run.incident_id,
        kind::BREAK_GLASS,
        Some(&msg.user.id),
        &format!("{} ratified {id} /{} as {role}", msg.user.id, run.command),
        Some(run.id),
        None,
    )
    .await?;
    let decided = app.store.ratify_votes(run.id).await?;
    let all: Vec<Vote> = decided.iter().map(|(v, _, _)| v.clone()).collect();
    let verdict = matrix
        .verdict(&run.scenario, &run.requested_by, &all)
        .map_err(|r| Failure::Internal(app.refusal_text(&r, "ratify")))?;
    match verdict {
        Verdict::Approved => {
            if app
                .store
                .decide_ratification(run.id, "ratified", now)
                .await?
            {
                let who: Vec<String> = decided
                    .iter()
                    .map(|(v, role, _)| format!("{role}: {}", v.user.id))
                    .collect();
                let text = format!(
                    "✅ **{id}** /{} (break-glass by {}) ratified ({}).",
                    run.command,
                    run.requested_by.id,
                    who.join(", ")
                );
                app.event(
                    &run.incident_id,
                    kind::BREAK_GLASS,
                    None,
                    &text,
                    Some(run.id),
                    None,
                )
                .await?;
                edit_request(app, &run, &rat, &text).await;
            }
        }
        Verdict::Pending { missing } => {
            let post = request_post(app, &run, rat.due_at, &missing, &decided);
            edit_request(app, &run, &rat, &post.text).await;
        }
        Verdict::Denied { .. } => {}
    }
    Ok(Handled::done())
}
