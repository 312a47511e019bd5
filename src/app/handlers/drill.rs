//! `/drill` lists the configured drills with their last and next dates (seed 002's
//! "Last Drill Date / Next Drill Date"); `/drill NAME` rehearses the drill's runbook
//! against its drill targets, through the same binding, matrix and approvals as the
//! real command, after refusing any step that would reach a target without a twin.

use chrono::Utc;

use super::runbook;
use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::command::catalog::Lookup;
use crate::command::parse::{self, CommandLine};
use crate::failure::Failure;
use crate::render::escape::inline_code;
use crate::runbook::drill;

pub async fn drill(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let drills = &app.settings.file.drills;
    let Some(name) = line.positional.first().map(|s| s.to_ascii_lowercase()) else {
        if drills.is_empty() {
            app.send(&msg.private(Post::new(
                &msg.channel,
                PostKind::Help,
                "No drills are configured: add a [drills.NAME] table to warroom.toml.",
            )))
            .await;
            return Ok(Handled::done());
        }
        let now = Utc::now();
        let mut list = Vec::new();
        for (name, d) in drills {
            list.push(format!(
                "• `/drill {name}` — `{}` {} ({}): {}",
                inline_code(&d.run),
                d.every
                    .as_deref()
                    .map_or("when a person schedules it".to_string(), |e| format!(
                        "every {e}"
                    )),
                d.source,
                drill::dates(app, name, d, now).await?
            ));
        }
        app.send(&Post::new(
            &msg.channel,
            PostKind::Help,
            format!("Drills:\n{}", list.join("\n")),
        ))
        .await;
        return Ok(Handled::done());
    };
    let names: Vec<&str> = drills.keys().map(String::as_str).collect();
    let d = drills.get(&name).ok_or_else(|| {
        Failure::Invalid(format!(
            "No drill `{}`. Drills: {}. (/drill lists them with their dates.)",
            inline_code(&name),
            if names.is_empty() {
                "none configured".to_string()
            } else {
                names.join(", ")
            }
        ))
    })?;
    let rehearsed = parse::parse(&d.run).map_err(|e| {
        Failure::Internal(format!(
            "drill `{name}`: its `run` line does not parse: {e}"
        ))
    })?;
    let (spec, rest) = match app.catalog.lookup(&rehearsed) {
        Lookup::Spec { spec, rest } => (spec, rest),
        _ => {
            return Err(Failure::Internal(format!(
                "drill `{name}`: `{}` names no runbook (warroom check says so too)",
                inline_code(&d.run)
            )))
        }
    };
    let refusals = drill::refusals(app, &name, d, spec);
    if !refusals.is_empty() {
        return Err(Failure::Invalid(format!(
            "Drill `{name}` cannot run /{}: a drill never runs against production. Nothing ran.\n{}",
            spec.full_name(),
            refusals.iter().map(|r| format!("- {r}")).collect::<Vec<_>>().join("\n")
        )));
    }
    let mut prepared = runbook::prepare(app, msg, rehearsed, spec, &rest)?;
    prepared.drill = Some(name);
    runbook::run(app, msg, prepared).await
}
