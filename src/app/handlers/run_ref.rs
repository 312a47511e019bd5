//! The `RUN-n` a decision names (`/approve`, `/deny`, `/confirm`, `/cancel`), and
//! driving a run on once a decision lets it go.

use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::model::run::{display_id, parse_id, Run};
use crate::render::escape;
use crate::runbook::driver::RunOutcome;
use crate::runbook::engine;

use super::super::{App, Handled, Incoming, Outcome};

/// The run `line` names, refused unless it was requested on this platform and in
/// this channel: decided anywhere else, it would go on where nobody sees it, and
/// its request message (with who decided) would not be where the decision is.
pub async fn run_arg(
    app: &App,
    msg: &Incoming,
    line: &CommandLine,
    verb: &str,
) -> Result<Run, Failure> {
    let usage = format!(
        "Usage: /{verb} RUN-n (the run id is in the request message; /status lists open runs)."
    );
    let raw = line
        .positional
        .first()
        .ok_or_else(|| Failure::Invalid(format!("Which run? {usage}")))?;
    let id = parse_id(raw).ok_or_else(|| {
        Failure::Invalid(format!(
            "`{}` is not a run id. {usage}",
            escape::inline_code(raw)
        ))
    })?;
    let run = app.store.run(id).await?.ok_or_else(|| {
        Failure::Invalid(format!(
            "{} does not exist. /status lists open runs.",
            display_id(id)
        ))
    })?;
    // Platforms may share one database, but a run reports where it was asked for:
    // decided from elsewhere, it would run where nobody sees its progress.
    if run.requested_by.platform != app.platform {
        return Err(Failure::Invalid(format!(
            "{} was requested on {}: /{verb} it there, where its progress is posted.",
            display_id(id),
            platform_label(&run.requested_by.platform)
        )));
    }
    if run.channel != msg.channel {
        return Err(Failure::Invalid(format!(
            "{} was requested in another channel ({}): /{verb} it there, where its request \
             and its progress are.",
            display_id(id),
            escape::inline_code(&run.channel)
        )));
    }
    Ok(run)
}

fn platform_label(platform: &str) -> &str {
    match platform {
        "slack" => "Slack",
        "discord" => "Discord",
        "console" => "the console",
        other => other,
    }
}

/// Drives the run and reports how it went for the audit record.
pub async fn drive(app: &App, run_id: i64) -> Result<Handled, Failure> {
    let outcome = match engine::drive(app, run_id).await? {
        RunOutcome::Succeeded | RunOutcome::NotMine => Outcome::Done,
        RunOutcome::Waiting => Outcome::Waiting,
        RunOutcome::Failed => Outcome::StepFailed,
    };
    Ok(Handled {
        outcome,
        run_id: Some(run_id),
    })
}
