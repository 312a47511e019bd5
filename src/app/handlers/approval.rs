//! `/approve RUN-n` and `/deny RUN-n`: one vote, checked against the matrix, then
//! the verdict: denied (nothing ran), still pending (the request is edited to say
//! who is awaited), or approved (the run starts).

use chrono::Utc;

use super::run_ref::{drive, run_arg};
use crate::app::{App, Handled, Incoming, Outcome};
use crate::authz::{Refusal, Verdict};
use crate::chat::{MessageRef, Post, PostKind};
use crate::command::parse::CommandLine;
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::Run;
use crate::model::run::{display_id, RunState};
use crate::model::user::Vote;
use crate::render::hhmm;
use crate::runbook::approval::{approval_post, edit_request, expire, members_of_titles, plan_hash};
use crate::runbook::engine;

pub async fn vote(
    app: &App,
    msg: &Incoming,
    line: &CommandLine,
    approve: bool,
) -> Result<Handled, Failure> {
    let verb = if approve { "approve" } else { "deny" };
    let run = run_arg(app, msg, line, verb).await?;
    let id = display_id(run.id);
    if run.state != RunState::AwaitingApproval {
        return Err(Failure::Invalid(format!(
            "{id} is {}; there is nothing to {verb}.",
            run.state.in_words()
        )));
    }
    if run.approval_expires_at.is_some_and(|t| t < Utc::now()) {
        expire(app, &run).await?;
        return Err(Failure::Invalid(format!(
            "{id} expired at {} UTC; nothing ran. Ask for /{} again.",
            run.approval_expires_at.map(hhmm).unwrap_or_default(),
            run.command
        )));
    }
    // A vote binds to the plan its voter read: if what would run changed since
    // (runbook, variables or targets), earlier votes stop counting and this one
    // is not cast on a plan nobody was shown.
    let spec = engine::spec_of(app, &run)?;
    let current = plan_hash(app, spec, &run);
    if current != run.plan {
        return Err(replan(app, spec, &run, &current, verb).await?);
    }
    let matrix = &app.catalog.matrix;
    let votes: Vec<_> = app
        .store
        .votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let role = matrix
        .may_vote(&run.scenario, &run.requested_by, &votes, &msg.user)
        .map_err(|r| {
            let text = app.refusal_text(&r, &format!("{verb} {id}"));
            match r {
                // Not a permission problem: the decision is already counted.
                Refusal::AlreadyDecided | Refusal::NotNeeded { .. } => Failure::Invalid(text),
                _ => Failure::Denied(text),
            }
        })?;
    if !app
        .store
        .add_vote(run.id, &msg.user, &role, approve, Utc::now(), &run.plan)
        .await?
    {
        return Err(Failure::Invalid(format!("You already decided on {id}.")));
    }
    let decided = if approve { "approved" } else { "denied" };
    let text = format!("{} {decided} {id} /{} as {role}", msg.user.id, run.command);
    app.event(
        &run.incident_id,
        kind::APPROVAL,
        Some(&msg.user.id),
        &text,
        Some(run.id),
        None,
    )
    .await?;
    // Re-read after our vote is committed, not the list read before it: two
    // approvers racing on two replicas would otherwise each see only their own vote
    // and leave the run waiting forever with both recorded. Each reads after its own
    // insert, so at least one of them sees both.
    let all: Vec<Vote> = app
        .store
        .votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let verdict = matrix
        .verdict(&run.scenario, &run.requested_by, &all)
        .map_err(|r| Failure::Internal(app.refusal_text(&r, "decide")))?;
    match verdict {
        Verdict::Denied { by } => {
            // What is posted is what the database decided: if an approval started
            // the run first, this deny changed nothing and must not say it did.
            let denied = app
                .store
                .transition(
                    run.id,
                    RunState::AwaitingApproval,
                    RunState::Cancelled,
                    Utc::now(),
                    Some(&format!("denied by {}", by.id)),
                )
                .await?;
            if !denied {
                return Err(lost_race(app, run.id, verb).await?);
            }
            let by_role = app
                .store
                .votes(run.id)
                .await?
                .into_iter()
                .find(|(v, _, _)| v.user == by && !v.approve)
                .map_or(role.clone(), |(_, r, _)| r);
            let text = format!(
                "⛔ {id} /{} was denied by {} ({by_role}). Nothing ran.",
                run.command, by.id
            );
            edit_request(app, &run, &text).await;
            app.send(&Post::new(&run.channel, PostKind::Info, text))
                .await;
            Ok(Handled {
                outcome: Outcome::Done,
                run_id: Some(run.id),
            })
        }
        Verdict::Pending { missing } => {
            // The request message itself shows who decided and who is still needed.
            let spec = engine::spec_of(app, &run)?;
            let decided = app.store.votes(run.id).await?;
            let mut post = approval_post(app, spec, &run, &missing, &decided).await;
            // Still naming who is awaited; platforms do not notify again on an edit.
            post.mentions = members_of_titles(app, &missing);
            match run.progress_ref.as_deref().and_then(MessageRef::decode) {
                Some(m) => app.edit(&m, &post).await,
                None => {
                    app.send(&post).await;
                }
            }
            Ok(Handled {
                outcome: Outcome::Waiting,
                run_id: Some(run.id),
            })
        }
        Verdict::Approved => {
            if !app
                .store
                .transition(
                    run.id,
                    RunState::AwaitingApproval,
                    RunState::Running,
                    Utc::now(),
                    None,
                )
                .await?
            {
                return Err(lost_race(app, run.id, verb).await?);
            }
            let covered: Vec<String> = matrix
                .covered_by(&run.scenario, &run.requested_by, &all)
                .unwrap_or_default()
                .into_iter()
                .map(|(role, user)| format!("{role}: {user}"))
                .collect();
            app.event(
                &run.incident_id,
                kind::APPROVAL,
                None,
                &format!("{id} fully approved ({}); running", covered.join(", ")),
                Some(run.id),
                None,
            )
            .await?;
            drive(app, run.id).await
        }
    }
}

/// The run left `awaiting approval` between this vote and its verdict (another
/// decision, an expiry or a cancel got there first): the vote is recorded but
/// decided nothing, and the voter is told what the run is now.
async fn lost_race(app: &App, run_id: i64, verb: &str) -> Result<Failure, Failure> {
    let id = display_id(run_id);
    let state = app
        .store
        .run(run_id)
        .await?
        .map_or("gone".to_string(), |r| r.state.as_str().replace('_', " "));
    Ok(Failure::Invalid(format!(
        "Your {verb} vote on {id} is recorded, but {id} was decided a moment earlier: it is \
         {state} now. /status shows it; the requester can /cancel {id} while it waits."
    )))
}

/// The run's plan changed since its request was posted: moves it to the new plan
/// (once, whichever process gets there), closes the old request, posts the new
/// one for every approver again, and says why to whoever answered the old one.
async fn replan(
    app: &App,
    spec: &CommandSpec,
    run: &Run,
    current: &str,
    verb: &str,
) -> Result<Failure, Failure> {
    let id = display_id(run.id);
    if app.store.set_run_plan(run.id, &run.plan, current).await? {
        let text = format!(
            "⚠️ {id} /{}: what it would run changed after it was requested (its runbook, \
             variables or targets changed), so the approvals given so far no longer count. \
             It is asked for again below.",
            run.command
        );
        app.event(
            &run.incident_id,
            kind::APPROVAL,
            None,
            &text,
            Some(run.id),
            None,
        )
        .await?;
        edit_request(app, run, &text).await;
        app.send(&Post::new(&run.channel, PostKind::Info, text.clone()))
            .await;
        let missing = match app
            .catalog
            .matrix
            .verdict(&run.scenario, &run.requested_by, &[])
        {
            Ok(Verdict::Pending { missing }) => missing,
            _ => Vec::new(),
        };
        let mut fresh = run.clone();
        fresh.plan = current.to_string();
        let mut post = approval_post(app, spec, &fresh, &missing, &[]).await;
        post.mentions = members_of_titles(app, &missing);
        if let Some(r) = app.send(&post).await {
            app.store.set_progress_ref(run.id, &r.encode()).await?;
        }
    }
    Ok(Failure::Invalid(format!(
        "{id} changed after the request you answered: what it would run is different now, \
         so your {verb} is not counted. The request is posted again: read it, then {verb} again."
    )))
}
