//! `/note`, `/action`, `/ack` and `/postmortem`: what the team adds to the
//! incident's record while it works, and the draft post-mortem from it.

use chrono::Utc;

use super::incident::{open, say, text_after, user_ref};
use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::incident::clock;
use crate::model::incident::kind;
use crate::render::escape::markdown;
use crate::store::ActionItem;

pub async fn note(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let text = text_after(line, 0, "The note")?;
    app.event(
        &i.id,
        kind::NOTE,
        Some(&msg.user.id),
        &format!("{}: {text}", msg.user.id),
        None,
        None,
    )
    .await?;
    app.send(&msg.private(Post::new(
        &msg.channel,
        PostKind::Info,
        format!("📝 Noted on {}'s timeline.", i.id),
    )))
    .await;
    Ok(Handled::done())
}

pub async fn action(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let text = text_after(line, 0, "The action item")?;
    let owner = line
        .get("owner")
        .map(|o| {
            user_ref(o).ok_or_else(|| {
                Failure::Invalid("owner must be a user, e.g. owner=U123 (or @name on Slack)".into())
            })
        })
        .transpose()?;
    let due = line
        .get("due")
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|_| d.to_string())
                .map_err(|_| Failure::Invalid("due must be a date like 2026-12-01".into()))
        })
        .transpose()?;
    let item = ActionItem {
        text: text.clone(),
        owner: owner.clone(),
        due: due.clone(),
        created_by: msg.user.id.clone(),
        at: Utc::now(),
    };
    app.store.add_action_item(&i.id, &item).await?;
    let who = owner.map_or(String::new(), |o| format!(" — owner {o}"));
    let when = due.map_or(String::new(), |d| format!(", due {d}"));
    app.event(
        &i.id,
        kind::ACTION,
        Some(&msg.user.id),
        &format!("Action item: {text}{who}{when}"),
        None,
        None,
    )
    .await?;
    say(
        app,
        msg,
        format!("☑️ Action item on {}: {}{who}{when}", i.id, markdown(&text)),
    )
    .await;
    Ok(Handled::done())
}

pub async fn ack(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    if !app
        .store
        .ack_incident(&i.id, &msg.user.id, Utc::now())
        .await?
    {
        return Err(Failure::Invalid(format!(
            "{} was already acknowledged by {}.",
            i.id,
            i.acked_by.unwrap_or_default()
        )));
    }
    // Only the early page stops: seed 004's levels still join by time while the
    // incident is not mitigated.
    let cancelled = app.store.cancel_timers(&i.id, "respond").await?;
    app.event(
        &i.id,
        kind::STATUS,
        Some(&msg.user.id),
        &format!("Acknowledged by {}", msg.user.id),
        None,
        None,
    )
    .await?;
    say(
        app,
        msg,
        format!(
            "👋 {} acknowledged {}{}.",
            msg.user.id,
            i.id,
            if cancelled > 0 {
                "; the early page to the next level is off"
            } else {
                ""
            }
        ),
    )
    .await;
    Ok(Handled::done())
}

pub async fn postmortem(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    let i = match app.store.open_incident(&msg.channel).await? {
        Some(i) => i,
        None => {
            return Err(Failure::Invalid(
                "No open incident here; for a resolved one run `warroom export INC-...`.".into(),
            ))
        }
    };
    let md = crate::export::export(&app.store, &i.id, crate::export::Format::Markdown, |i| {
        clock::rto_of(app, i)
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?;
    app.send(&Post::new(&msg.channel, PostKind::Info, md)).await;
    Ok(Handled::done())
}
