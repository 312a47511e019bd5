//! The post-mortem export: everything recorded about an incident, gathered once, then
//! written as Markdown (GitHub/Confluence friendly), JSON, and an SVG timeline chart.

mod json;
mod markdown;
pub mod report;
pub mod status;
mod svg;

use chrono::{DateTime, Utc};

use crate::model::incident::{Incident, TimelineEvent};
use crate::model::run::{display_id, Run, StepRecord};
use crate::model::user::Vote;
use crate::store::{ActionItem, Message, Ratification, Store, StoreError};

pub use svg::timeline_svg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no incident {0}; incident ids look like INC-20261122-001")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// One entry of the merged timeline: a bot event or a channel message.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    Event(&'a TimelineEvent),
    Message(&'a Message),
}

impl Entry<'_> {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Entry::Event(e) => e.at,
            Entry::Message(m) => m.at,
        }
    }
}

/// (vote, role decided as, when).
pub type Decision = (Vote, String, DateTime<Utc>);

/// A run with its steps and the decisions on it.
pub type RunRecord = (Run, Vec<StepRecord>, Vec<Decision>);

/// Everything the report is made from.
pub struct Report {
    pub incident: Incident,
    pub timeline: Vec<TimelineEvent>,
    pub messages: Vec<Message>,
    pub runs: Vec<RunRecord>,
    pub roles: Vec<(String, String)>,
    pub actions: Vec<ActionItem>,
    /// Runs that started on break-glass, with who ratified them.
    pub ratifications: Vec<(Ratification, Vec<Decision>)>,
    /// Display names by user id, as the platforms gave them.
    pub names: std::collections::BTreeMap<String, String>,
    /// The severity's RTO, from the clocks config.
    pub rto: Option<std::time::Duration>,
    /// When the report was made (the end of the chart for an open incident).
    pub now: DateTime<Utc>,
}

impl Report {
    pub async fn gather(
        store: &Store,
        id: &str,
        rto: impl Fn(&Incident) -> Option<std::time::Duration>,
    ) -> Result<Report, ExportError> {
        let incident = store
            .incident(id)
            .await?
            .ok_or_else(|| ExportError::NotFound(id.into()))?;
        let now = Utc::now();
        let end = incident.resolved_at.unwrap_or(now);
        // The hour before detection is the lead-up the post-mortem needs.
        let from = incident.detected_at - chrono::Duration::hours(1);
        let messages = store.messages(&incident.channel, from, end).await?;
        let mut ratifications = Vec::new();
        for rat in store.incident_ratifications(id).await? {
            let votes = store.ratify_votes(rat.run_id).await?;
            ratifications.push((rat, votes));
        }
        let mut runs = Vec::new();
        for r in store.incident_runs(id).await? {
            let steps = store.steps(r.id).await?;
            let votes = store.votes(r.id).await?;
            runs.push((r, steps, votes));
        }
        Ok(Report {
            rto: rto(&incident),
            timeline: store.timeline(id).await?,
            roles: store.incident_roles(id).await?,
            actions: store.action_items(id).await?,
            ratifications,
            names: store.names().await?,
            incident,
            messages,
            runs,
            now,
        })
    }

    /// Everyone who took part (acted, spoke, decided, held a role or an action
    /// item), with their name when the platform gave one.
    pub fn people(&self) -> Vec<(&str, Option<&str>)> {
        let mut ids: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        ids.extend(self.incident.commander.as_deref());
        ids.extend(self.timeline.iter().filter_map(|e| e.actor.as_deref()));
        ids.extend(self.messages.iter().map(|m| m.user_id.as_str()));
        ids.extend(self.roles.iter().map(|(_, u)| u.as_str()));
        ids.extend(self.actions.iter().filter_map(|a| a.owner.as_deref()));
        for (run, _, votes) in &self.runs {
            ids.insert(&run.requested_by.id);
            ids.extend(votes.iter().map(|(v, _, _)| v.user.id.as_str()));
        }
        ids.into_iter()
            .map(|id| (id, self.names.get(id).map(String::as_str)))
            .collect()
    }

    /// Bot events and channel messages in time order (events first on a tie).
    pub fn merged(&self) -> Vec<Entry<'_>> {
        let mut out = Vec::with_capacity(self.timeline.len() + self.messages.len());
        let (mut e, mut m) = (
            self.timeline.iter().peekable(),
            self.messages.iter().peekable(),
        );
        loop {
            let take_event = match (e.peek(), m.peek()) {
                (Some(a), Some(b)) => a.at <= b.at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_event {
                out.push(Entry::Event(e.next().expect("peeked")));
            } else {
                out.push(Entry::Message(m.next().expect("peeked")));
            }
        }
        out
    }

    /// The report as pretty JSON, serialized straight from borrowed data (no
    /// intermediate value tree: 60k entries stay within the memory bar).
    pub fn json(&self) -> String {
        let i = &self.incident;
        let t = |d: Option<DateTime<Utc>>| d.map(|t| t.to_rfc3339());
        let mins =
            |d: Option<DateTime<Utc>>| d.map(|d| (d - i.detected_at).num_seconds() as f64 / 60.0);
        let doc = json::Doc {
            incident: json::Incident {
                id: &i.id,
                title: &i.title,
                severity: &i.severity,
                status: &i.status,
                channel: &i.channel,
                commander: i.commander.as_deref(),
                impact: i.impact.as_deref(),
                detected_at: i.detected_at.to_rfc3339(),
                declared_at: i.declared_at.to_rfc3339(),
                acknowledged_at: t(i.acked_at),
                acknowledged_by: i.acked_by.as_deref(),
                mitigated_at: t(i.mitigated_at),
                resolved_at: t(i.resolved_at),
            },
            durations_minutes: json::Durations {
                to_acknowledge: mins(i.acked_at),
                to_mitigate: mins(i.mitigated_at),
                to_resolve: mins(i.resolved_at),
                rto: self.rto.map(|r| r.as_secs_f64() / 60.0),
            },
            roles: self
                .roles
                .iter()
                .map(|(role, user)| json::Role { role, user })
                .collect(),
            people: self
                .people()
                .into_iter()
                .map(|(id, name)| json::Person { id, name })
                .collect(),
            timeline: self
                .merged()
                .into_iter()
                .map(|e| match e {
                    Entry::Event(e) => json::Entry {
                        at: e.at.to_rfc3339(),
                        kind: &e.kind,
                        actor: e.actor.as_deref(),
                        text: &e.text,
                        run: e.run_id.map(display_id),
                    },
                    Entry::Message(m) => json::Entry {
                        at: m.at.to_rfc3339(),
                        kind: "message",
                        actor: Some(&m.user_id),
                        text: &m.text,
                        run: None,
                    },
                })
                .collect(),
            runs: self
                .runs
                .iter()
                .map(|(r, steps, votes)| json::RunDoc {
                    id: display_id(r.id),
                    command: &r.command,
                    state: r.state.as_str(),
                    requested_by: &r.requested_by.id,
                    created_at: r.created_at.to_rfc3339(),
                    started_at: t(r.started_at),
                    finished_at: t(r.finished_at),
                    args: &r.args,
                    approvals: votes
                        .iter()
                        .map(|(v, role, at)| json::Vote {
                            user: &v.user.id,
                            approve: v.approve,
                            role,
                            at: at.to_rfc3339(),
                        })
                        .collect(),
                    steps: steps
                        .iter()
                        .map(|s| json::Step {
                            name: &s.name,
                            phase: &s.phase,
                            kind: &s.kind,
                            state: s.state.as_str(),
                            duration_ms: s.duration_ms(),
                            output: s.output.as_deref(),
                        })
                        .collect(),
                })
                .collect(),
            action_items: self
                .actions
                .iter()
                .map(|a| json::Action {
                    text: &a.text,
                    owner: a.owner.as_deref(),
                    due: a.due.as_deref(),
                    created_by: &a.created_by,
                    at: a.at.to_rfc3339(),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    }
}

/// The report in one format. `rto` gives a severity's RTO (from the clocks config).
pub async fn export(
    store: &Store,
    id: &str,
    format: Format,
    rto: impl Fn(&Incident) -> Option<std::time::Duration>,
) -> Result<String, ExportError> {
    let report = Report::gather(store, id, rto).await?;
    Ok(match format {
        Format::Json => report.json(),
        Format::Markdown => markdown::render(&report, None),
    })
}

/// Writes `report.md`, `report.json` and `timeline.svg` into `dir`; the Markdown
/// links the chart.
pub async fn export_to_dir(
    store: &Store,
    id: &str,
    dir: &std::path::Path,
    rto: impl Fn(&Incident) -> Option<std::time::Duration>,
) -> Result<Vec<std::path::PathBuf>, ExportError> {
    let report = Report::gather(store, id, rto).await?;
    let write = |name: &str, text: String| -> std::io::Result<std::path::PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    };
    std::fs::create_dir_all(dir)?;
    Ok(vec![
        write("report.md", markdown::render(&report, Some("timeline.svg")))?,
        write("report.json", report.json())?,
        write("timeline.svg", timeline_svg(&report))?,
    ])
}
