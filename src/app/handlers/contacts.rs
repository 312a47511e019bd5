//! `/incident contacts`: the matrix's roles as the seeds' contact tables show them
//! (seed 001's Contact List: role, primary, secondary, phone; seed 004's Role
//! Assignments and Contact Information): who holds each role here, who the seed says
//! holds it first and second, and how to reach them outside chat.

use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::failure::Failure;
use crate::render::escape::markdown;

pub async fn contacts(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    let dash = |s: Option<&String>| s.map_or("-".to_string(), |v| markdown(v));
    let mut rows = vec![
        "| Role | Members | Primary | Secondary | Contact |".to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    for role in app.catalog.matrix.roles.values() {
        let members = match role.members.is_empty() {
            true => "none yet".to_string(),
            false => role
                .members
                .iter()
                .map(|m| markdown(m))
                .collect::<Vec<_>>()
                .join(", "),
        };
        rows.push(format!(
            "| {} | {members} | {} | {} | {} |",
            markdown(&role.title),
            dash(role.primary.as_ref()),
            dash(role.secondary.as_ref()),
            dash(role.contact.as_ref()),
        ));
    }
    app.send(&Post::new(
        &msg.channel,
        PostKind::Info,
        format!(
            "**Contact list** (commands/matrix.toml):\n{}",
            rows.join("\n")
        ),
    ))
    .await;
    Ok(Handled::done())
}
