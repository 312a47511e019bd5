//! `/assess`: decision support (seed 002's thresholds, seed 001's tree, seed 003's
//! matrix) posted to the channel; it changes nothing.

use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::model::incident::kind;

/// Decision support: anyone may ask; it changes nothing. The answer goes to the
/// channel, since the whole incident team needs it.
pub async fn assess(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let facts = crate::assess::facts(line)
        .map_err(|e| Failure::Invalid(format!("{e}. Usage: {}", crate::assess::USAGE)))?;
    let text = crate::assess::render(&crate::assess::assess(&facts));
    let headline = text.lines().next().unwrap_or_default().to_string();
    app.send(&Post::new(&msg.channel, PostKind::Info, text))
        .await;
    if let Some(incident) = app.store.open_incident(&msg.channel).await? {
        let note = format!("{} ran /assess: {headline}", msg.user.id);
        app.event(
            &incident.id,
            kind::COMMAND,
            Some(&msg.user.id),
            &note,
            None,
            None,
        )
        .await?;
    }
    Ok(Handled::done())
}
