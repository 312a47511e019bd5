//! Interactive checklists (seed 001's pre-, during- and post-rollback lists, seed 002's
//! post-rollback verification): `/checklist NAME` posts the items with a button each,
//! `/check NAME N` ticks one. The message is edited in place; ticks go to the timeline.

use chrono::Utc;

use crate::app::{App, Handled, Incoming};
use crate::chat::{Button, MessageRef, Post, PostKind};
use crate::command::catalog::Checklist;
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::model::incident::{kind, Incident};
use crate::render::escape::inline_code;
use crate::render::hhmm;

/// `/checklist [NAME]` and `/check NAME N`.
pub async fn dispatch(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let names: Vec<&str> = app.catalog.checklists.keys().map(String::as_str).collect();
    let usage = format!(
        "Usage: /checklist <{}>, then /check <name> <item number>",
        names.join("|")
    );
    let Some(name) = line.positional.first().map(|s| s.to_ascii_lowercase()) else {
        let list: Vec<String> = app
            .catalog
            .checklists
            .iter()
            .map(|(k, c)| format!("• `/checklist {k}` — {} ({} items)", c.title, c.items.len()))
            .collect();
        app.send(&msg.private(Post::new(
            &msg.channel,
            PostKind::Help,
            format!("Checklists:\n{}", list.join("\n")),
        )))
        .await;
        return Ok(Handled::done());
    };
    let checklist = app.catalog.checklists.get(&name).ok_or_else(|| {
        Failure::Invalid(format!("No checklist `{}`. {usage}", inline_code(&name)))
    })?;
    let incident = super::incident::open(app, msg).await?;
    if line.name == "check" {
        let n: usize = line
            .positional
            .get(1)
            .and_then(|s| s.parse().ok())
            .filter(|n| (1..=checklist.items.len()).contains(n))
            .ok_or_else(|| {
                Failure::Invalid(format!(
                    "Item must be a number from 1 to {}. {usage}",
                    checklist.items.len()
                ))
            })?;
        if !app
            .store
            .tick(&incident.id, &name, n as i64, &msg.user.id, Utc::now())
            .await?
        {
            return Err(Failure::Invalid(format!(
                "Item {n} of {} is already ticked.",
                checklist.title
            )));
        }
        let text = format!(
            "☑️ {}: {} ({})",
            checklist.title,
            checklist.items[n - 1],
            msg.user.id
        );
        app.event(
            &incident.id,
            kind::NOTE,
            Some(&msg.user.id),
            &text,
            None,
            None,
        )
        .await?;
    }
    show(app, &incident, &name, checklist).await?;
    Ok(Handled::done())
}

/// Posts the checklist, or edits the message already showing it.
async fn show(
    app: &App,
    incident: &Incident,
    name: &str,
    checklist: &Checklist,
) -> Result<(), Failure> {
    let ticks = app.store.ticks(&incident.id, name).await?;
    let mut text = format!("**{}** — {}", checklist.title, incident.id);
    let mut buttons = Vec::new();
    for (i, item) in checklist.items.iter().enumerate() {
        let n = i as i64 + 1;
        match ticks.iter().find(|(k, _, _)| *k == n) {
            Some((_, who, at)) => {
                text.push_str(&format!("\n☑️ {n}. {item} — {who} at {} UTC", hhmm(*at)))
            }
            None => {
                text.push_str(&format!("\n☐ {n}. {item}"));
                buttons.push(Button {
                    label: format!("✓ {n}"),
                    command: format!("/check {name} {n}"),
                    danger: false,
                });
            }
        }
    }
    text.push_str(&format!(
        "\n{} of {} done.",
        ticks.len(),
        checklist.items.len()
    ));
    let post = Post::new(&incident.channel, PostKind::Info, text).with_buttons(buttons);
    match app
        .store
        .checklist_message(&incident.id, name)
        .await?
        .as_deref()
        .and_then(MessageRef::decode)
    {
        Some(m) => app.edit(&m, &post).await,
        None => {
            if let Some(m) = app.send(&post).await {
                app.store
                    .set_checklist_message(&incident.id, name, &m.encode())
                    .await?;
            }
        }
    }
    Ok(())
}
