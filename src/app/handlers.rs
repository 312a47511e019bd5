//! One handler per command family. A runbook command (from `commands/`) goes to
//! `runbook`; every built-in has its name in [`NAMES`] and its arm in
//! [`dispatch`], and lives in one file here. Adding a built-in is adding a file
//! and those two lines; the catalog reserves [`NAMES`] so no runbook can take one.
//!
//! Handlers use the application (`App`, `Incoming`, `Handled`) and the domain
//! below it; nothing below the application imports a handler.

pub mod approval;
pub mod assess;
pub mod checklist;
pub mod checkpoint;
pub mod contacts;
pub mod drill;
pub mod help;
pub mod incident;
pub mod notes;
pub mod ratify;
pub mod run_ref;
pub mod runbook;
pub mod status;
pub mod supersede;

use super::{App, Handled, Incoming};
use crate::command::parse::{CommandLine, UMBRELLA};
use crate::failure::Failure;

/// Every built-in command name. The umbrella `/warroom` is the parser's, not a
/// handler's: `/warroom` alone is `/help`.
pub const NAMES: &[&str] = &[
    "help",
    "approve",
    "deny",
    "ratify",
    "confirm",
    "cancel",
    "status",
    "assess",
    "incident",
    "note",
    "action",
    "ack",
    "postmortem",
    "checklist",
    "check",
    "drill",
];

/// Built-ins of the matrix's `incident-management` scenario.
const INCIDENT_MANAGEMENT: &[&str] = &[
    "incident",
    "note",
    "action",
    "ack",
    "postmortem",
    "checklist",
    "check",
];

/// Whether `name` is a built-in of the `incident-management` scenario: triage
/// checks the asker holds one of its roles before anything is accepted.
pub fn needs_incident_role(name: &str) -> bool {
    INCIDENT_MANAGEMENT.contains(&name)
}

/// Whether `name` is handled here rather than looked up in the catalog.
pub fn is_builtin(name: &str) -> bool {
    NAMES.contains(&name) || name == UMBRELLA
}

/// Runs the built-in `line` names.
pub async fn dispatch(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let name = line.name.as_str();
    if needs_incident_role(name) {
        incident::authorize(app, msg, line)?;
    }
    match name {
        "help" | UMBRELLA => help::help(app, msg, line).await,
        "approve" => approval::vote(app, msg, line, true).await,
        "deny" => approval::vote(app, msg, line, false).await,
        "ratify" => ratify::ratify(app, msg, line).await,
        "confirm" => checkpoint::confirm(app, msg, line).await,
        "cancel" => checkpoint::cancel(app, msg, line).await,
        "status" => status::status(app, msg).await,
        "assess" => assess::assess(app, msg, line).await,
        "incident" => incident::dispatch(app, msg, line).await,
        "note" => notes::note(app, msg, line).await,
        "action" => notes::action(app, msg, line).await,
        "ack" => notes::ack(app, msg).await,
        "postmortem" => notes::postmortem(app, msg).await,
        "checklist" | "check" => checklist::dispatch(app, msg, line).await,
        "drill" => drill::drill(app, msg, line).await,
        other => Err(Failure::Internal(format!("/{other} has no handler"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_incident_management_name_is_a_builtin_and_decisions_are_not() {
        for name in INCIDENT_MANAGEMENT {
            assert!(NAMES.contains(name), "{name}");
        }
        assert!(!needs_incident_role("approve"));
        assert!(is_builtin(UMBRELLA));
    }
}
