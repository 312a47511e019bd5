//! Break-glass: an emergency stop the seed calls immediate runs on one authorized
//! person's word even where the matrix wants approvers; they are asked to *ratify*
//! it within the command's `break_glass` window (buttons, like approvals), and a stop
//! nobody ratified in time escalates and is marked so in the timeline and the
//! post-mortem. Seed 001 scenario 3 ("IMEDIATO, < 2 min") is the reason: the DBA
//! belongs on the recovery, not in front of the stop.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::chat::{Button, MessageRef, Post, PostKind};
use crate::failure::Failure;
use crate::model::duration::after;
use crate::model::incident::kind;
use crate::model::run::{display_id, Run};
use crate::model::user::Vote;
use crate::render::hhmm;
use crate::services::Services;
use crate::store::{Ratification, StoreError};

use super::approval::members_of_titles;

/// Records the ratification the run owes, notes the break-glass on the timeline
/// and posts the request (with a Ratify button) to the approvers still needed.
pub async fn open(
    svc: &Services,
    run: &Run,
    missing: &[String],
    within: Duration,
) -> Result<(), Failure> {
    let now = Utc::now();
    let due = after(now, within);
    svc.store
        .create_ratification(run.id, &run.incident_id, now, due)
        .await?;
    let text = format!(
        "⚡ {} broke glass: /{} runs now on their word ({}). {} to ratify it by {} UTC.",
        run.requested_by.id,
        run.command,
        display_id(run.id),
        missing.join(" and "),
        hhmm(due)
    );
    svc.event(
        &run.incident_id,
        kind::BREAK_GLASS,
        Some(&run.requested_by.id),
        &text,
        Some(run.id),
        None,
    )
    .await?;
    let mut post = request_post(svc, run, due, missing, &[]);
    post.mentions = members_of_titles(svc, missing);
    if let Some(r) = svc.send(&post).await {
        svc.store.set_ratification_ref(run.id, &r.encode()).await?;
    }
    Ok(())
}

/// The ratification request as the channel sees it, edited as people ratify.
pub fn request_post(
    svc: &Services,
    run: &Run,
    due: DateTime<Utc>,
    missing: &[String],
    decided: &[(Vote, String, DateTime<Utc>)],
) -> Post {
    let id = display_id(run.id);
    let scenario = svc
        .catalog
        .matrix
        .scenarios
        .get(&run.scenario)
        .map_or(run.scenario.clone(), |s| s.title.clone());
    let decisions: String = decided
        .iter()
        .map(|(v, role, at)| {
            format!(
                "✅ Ratified by {} as {role} at {} UTC\n",
                v.user.id,
                hhmm(*at)
            )
        })
        .collect();
    let text = format!(
        "⚡ **{id}** /{} ran on break-glass: {} started it alone, without the approvals \
         {scenario} asks for, because it is an emergency stop.\n\
         Ratify by {} UTC: {} (each a different person, not the requester). \
         Unratified, it escalates.\n{decisions}",
        run.command,
        run.requested_by.id,
        hhmm(due),
        missing.join(", "),
    );
    Post::new(&run.channel, PostKind::Approval, text).with_buttons(vec![Button {
        label: "Ratify".into(),
        command: format!("/ratify {id}"),
        danger: false,
    }])
}

/// Edits the ratification request in place.
pub async fn edit_request(svc: &Services, run: &Run, rat: &Ratification, text: &str) {
    if let Some(m) = rat.message_ref.as_deref().and_then(MessageRef::decode) {
        svc.edit(&m, &Post::new(&run.channel, PostKind::Approval, text))
            .await;
    }
}

/// Escalates every ratification of this platform's runs whose deadline passed by
/// `now`; returns how many.
pub async fn sweep(svc: &Services, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut n = 0;
    for rat in svc.store.lapsed_ratifications(now).await? {
        let Some(run) = svc.store.run(rat.run_id).await? else {
            continue;
        };
        if run.requested_by.platform != svc.platform {
            continue;
        }
        if let Err(e) = lapse(svc, &run, &rat, now).await {
            tracing::warn!(error = %e, run = run.id, "cannot escalate an unratified break-glass run");
        } else {
            n += 1;
        }
    }
    Ok(n)
}

/// The deadline passed with approvers still missing: marked unratified (once,
/// compare-and-set), noted on the timeline, and paged to whoever is still needed
/// plus the escalation matrix's last level.
async fn lapse(
    svc: &Services,
    run: &Run,
    rat: &Ratification,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    if !svc
        .store
        .decide_ratification(run.id, "unratified", now)
        .await?
    {
        return Ok(());
    }
    let votes: Vec<Vote> = svc
        .store
        .ratify_votes(run.id)
        .await?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let missing = match svc
        .catalog
        .matrix
        .verdict(&run.scenario, &run.requested_by, &votes)
    {
        Ok(crate::authz::Verdict::Pending { missing }) => missing,
        _ => Vec::new(),
    };
    let incident = svc.store.incident(&run.incident_id).await?;
    let top = incident
        .as_ref()
        .and_then(|i| crate::incident::clock::levels(svc, i).last());
    let mut paged = members_of_titles(svc, &missing);
    if let Some(level) = top {
        paged.extend(crate::incident::clock::members(svc, &level.roles));
    }
    paged.retain(|p| *p != run.requested_by.id);
    paged.sort();
    paged.dedup();
    let to = top.map_or_else(String::new, |l| format!(" Escalated to {}.", l.title));
    let text = format!(
        "🚨 **{}** /{} ran on break-glass ({}) and was NOT ratified by {} UTC: still \
         needed {}.{to} The post-mortem records it as unratified.",
        display_id(run.id),
        run.command,
        run.requested_by.id,
        hhmm(rat.due_at),
        if missing.is_empty() {
            "nobody".to_string()
        } else {
            missing.join(", ")
        },
    );
    svc.event(
        &run.incident_id,
        kind::BREAK_GLASS,
        None,
        &text,
        Some(run.id),
        None,
    )
    .await?;
    edit_request(svc, run, rat, &text).await;
    let mut post = Post::new(&run.channel, PostKind::Page, text);
    post.mentions = paged;
    svc.send(&post).await;
    Ok(())
}
