//! Approval requests as the channel sees them: what will run, who must still
//! decide, the decisions so far, and the request closed when it expires.

use chrono::Utc;

use crate::chat::{Button, MessageRef, Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::model::incident::kind;
use crate::model::run::{display_id, Run, RunState};
use crate::model::user::Vote;
use crate::services::Services;

/// Marks an approval request that outlived its window as expired and says so.
pub async fn expire(svc: &Services, run: &Run) -> Result<(), Failure> {
    if svc
        .store
        .transition(
            run.id,
            RunState::AwaitingApproval,
            RunState::Expired,
            Utc::now(),
            Some("approval window passed"),
        )
        .await?
    {
        let text = format!("⌛ {} /{} expired: it was not approved in time. Nothing ran. Request it again if it is still needed.", display_id(run.id), run.command);
        svc.event(
            &run.incident_id,
            kind::APPROVAL,
            None,
            &text,
            Some(run.id),
            None,
        )
        .await?;
        edit_request(svc, run, &text).await;
    }
    Ok(())
}

pub async fn edit_request(svc: &Services, run: &Run, text: &str) {
    if let Some(m) = run.progress_ref.as_deref().and_then(MessageRef::decode) {
        svc.edit(&m, &Post::new(&run.channel, PostKind::Approval, text))
            .await;
    }
}

/// The hash of what `run` will do, as [`super::engine::describe`] renders it for
/// its approvers (every statement, argv, URL and wait with the values bound): the
/// plan their votes bind to. Measured effects are left out; they change with the
/// data, not with the plan.
pub fn plan_hash(svc: &Services, spec: &CommandSpec, run: &Run) -> String {
    use sha2::{Digest, Sha256};
    let plan = super::engine::describe(svc, spec, &run.args, Some(run));
    format!("{:x}", Sha256::digest(plan.as_bytes()))
}

/// The approval request: what will run, who must still decide, the decisions so
/// far (user, role, when) and the buttons. Edited in place as decisions come in.
pub async fn approval_post(
    svc: &Services,
    spec: &CommandSpec,
    run: &Run,
    missing: &[String],
    decided: &[(Vote, String, chrono::DateTime<Utc>)],
) -> Post {
    let id = display_id(run.id);
    let matrix = &svc.catalog.matrix;
    let scenario = matrix
        .scenarios
        .get(&run.scenario)
        .map_or(run.scenario.clone(), |s| s.title.clone());
    let expires = run
        .approval_expires_at
        .map(crate::render::hhmm)
        .unwrap_or_default();
    let decisions: String = decided
        .iter()
        .map(|(vote, role, at)| {
            let verb = if vote.approve {
                "✅ Approved"
            } else {
                "⛔ Denied"
            };
            format!(
                "{verb} by {} as {role} at {} UTC\n",
                vote.user.id,
                crate::render::hhmm(*at)
            )
        })
        .collect();
    let text = format!(
        "🔐 **{id}** /{} requested by {} needs approval.\n\
         Scenario: {scenario}. Still needed: {} (each a different person, not the requester).\n\
         Expires at {expires} UTC. Notify: {}.\n{decisions}\n**What will run:**\n{}",
        run.command,
        run.requested_by.id,
        missing.join(", "),
        nonempty(matrix.notify_roles(&run.scenario).join(", ")),
        super::engine::plan(svc, spec, &run.args, Some(run)).await,
    );
    Post::new(&run.channel, PostKind::Approval, text).with_buttons(vec![
        Button {
            label: "Approve".into(),
            command: format!("/approve {id}"),
            danger: false,
        },
        Button {
            label: "Deny".into(),
            command: format!("/deny {id}"),
            danger: true,
        },
    ])
}

fn nonempty(s: String) -> String {
    if s.is_empty() {
        "nobody".into()
    } else {
        s
    }
}

/// Member ids of the roles with these titles, to page them.
pub fn members_of_titles(svc: &Services, titles: &[String]) -> Vec<String> {
    let mut out: Vec<String> = svc
        .catalog
        .matrix
        .roles
        .values()
        .filter(|r| titles.contains(&r.title))
        .flat_map(|r| r.members.iter().cloned())
        .collect();
    out.dedup();
    out
}
