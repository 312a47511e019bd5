//! The stakeholder status page: seed 004's components and their state, the open
//! incidents with every stakeholder update in order, and those resolved in the last
//! `[status] days`. As HTML (no JavaScript, refreshing itself), JSON and an Atom
//! feed; served by `warroom serve` and written as files by `warroom export status`.
//!
//! It shows only what stakeholders were told: the texts of the stakeholder posts
//! (`status_posts`) and what those posts already say of each incident (id, title,
//! severity, state, times). Never the timeline, notes, commands, SQL or names of
//! approvers; an incident nobody told stakeholders about is not listed.

mod feed;
mod html;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{ConfigFile, Settings};
use crate::model::incident::Incident;
use crate::store::{StatusPost, Store, StoreError};

pub use feed::atom;
pub use html::html;

/// Where the page's other forms are, from the page (served or exported).
#[derive(Debug, Clone)]
pub struct Links {
    pub json: String,
    pub feed: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusPage {
    pub title: String,
    pub generated_at: DateTime<Utc>,
    /// Seconds between the HTML page's own refreshes.
    #[serde(skip)]
    pub refresh: u32,
    pub days: u32,
    pub components: Vec<ComponentState>,
    /// Open incidents first (newest first), then resolved ones (newest first).
    pub incidents: Vec<IncidentState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentState {
    pub name: String,
    /// Seed 004's priority (Critical, High, Medium, Low).
    pub priority: String,
    /// `operational`, `degraded`, `partial_outage`, `major_outage` or `monitoring`.
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentState {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// The state in stakeholders' words ("Investigating", "Mitigated; monitoring").
    pub status: &'static str,
    /// The incident's state as recorded (`monitoring`).
    #[serde(skip)]
    pub state: String,
    pub open: bool,
    pub component: Option<String>,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Each stakeholder message, oldest first, as it reads now.
    pub updates: Vec<Update>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub posted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// As posted: the core's Markdown (escape it for wherever it is shown).
    pub text: String,
}

/// A component's state label for people (the JSON keeps the key).
pub fn component_words(status: &str) -> &'static str {
    match status {
        "major_outage" => "Major outage",
        "partial_outage" => "Partial outage",
        "degraded" => "Degraded performance",
        "monitoring" => "Recovered; monitoring",
        _ => "Operational",
    }
}

fn status_words(status: &str) -> &'static str {
    match status {
        "investigating" => "Investigating",
        "identified" => "Identified",
        "mitigating" => "Mitigating",
        "monitoring" => "Mitigated; monitoring",
        "resolved" => "Resolved",
        _ => "Open",
    }
}

fn component_status(severity: &str, status: &str) -> &'static str {
    if status == "monitoring" {
        return "monitoring";
    }
    match severity {
        "P0" => "major_outage",
        "P1" => "partial_outage",
        _ => "degraded",
    }
}

/// Gathers the page as of `now`.
pub async fn gather(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<StatusPage, StoreError> {
    let cfg = &settings.file.status;
    let since = now - chrono::Duration::days(i64::from(cfg.days));
    let incidents = store.incidents_since(since).await?;
    let posts = store.status_posts_since(since).await?;
    Ok(assemble(&settings.file, now, incidents, posts))
}

fn assemble(
    file: &ConfigFile,
    now: DateTime<Utc>,
    incidents: Vec<Incident>,
    posts: Vec<StatusPost>,
) -> StatusPage {
    let cfg = &file.status;
    let mut states: Vec<IncidentState> = incidents
        .into_iter()
        .filter_map(|i| {
            let updates: Vec<Update> = posts
                .iter()
                .filter(|p| p.incident_id == i.id)
                .map(|p| Update {
                    posted_at: p.posted_at,
                    updated_at: p.updated_at,
                    text: p.text.clone(),
                })
                .collect();
            // Stakeholders never heard of it: not theirs to read here either.
            (!updates.is_empty()).then(|| IncidentState {
                open: i.status != "resolved",
                status: status_words(&i.status),
                state: i.status.clone(),
                component: i.component.clone(),
                started_at: i.detected_at,
                resolved_at: i.resolved_at,
                id: i.id,
                title: i.title,
                severity: i.severity,
                updates,
            })
        })
        .collect();
    states.sort_by(|a, b| b.open.cmp(&a.open).then(b.started_at.cmp(&a.started_at)));
    let components = file
        .clocks
        .components
        .iter()
        .map(|(name, c)| {
            let worst = states
                .iter()
                .filter(|i| i.open && i.component.as_deref() == Some(name))
                .map(|i| component_status(&i.severity, &i.state))
                .min_by_key(|s| rank(s));
            ComponentState {
                name: name.clone(),
                priority: c.priority.clone(),
                status: worst.unwrap_or("operational"),
            }
        })
        .collect();
    StatusPage {
        title: cfg.title.clone(),
        generated_at: now,
        refresh: cfg.refresh.max(5),
        days: cfg.days,
        components,
        incidents: states,
    }
}

/// Worst first.
fn rank(status: &str) -> u8 {
    match status {
        "major_outage" => 0,
        "partial_outage" => 1,
        "degraded" => 2,
        "monitoring" => 3,
        _ => 4,
    }
}

/// Writes the page as static files for hosting elsewhere: `index.html`,
/// `status.json` and `feed.atom`, linked to each other relatively.
pub async fn write_dir(
    store: &Store,
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, super::ExportError> {
    let page = gather(store, settings, Utc::now()).await?;
    let links = Links {
        json: "status.json".into(),
        feed: "feed.atom".into(),
    };
    std::fs::create_dir_all(dir)?;
    let files = [
        ("index.html", html(&page, &links)),
        ("status.json", json(&page)),
        ("feed.atom", atom(&page, &links, "index.html")),
    ];
    let mut out = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::write(&path, body)?;
        out.push(path);
    }
    Ok(out)
}

/// The JSON form.
pub fn json(page: &StatusPage) -> String {
    serde_json::to_string_pretty(page).expect("the status page serializes")
}

#[cfg(test)]
mod tests;
