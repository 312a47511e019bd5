//! Alerts into incidents. Every alert of a delivery is recorded first (deduplicated
//! by source and fingerprint); then the first firing alert of a group opens an
//! incident in its channel, with the severity its label maps to (`[alerts]`), or
//! joins the group's open incident (or the channel's); a repeat only counts; a
//! resolved alert is noted on the timeline, and once none of the incident's alerts
//! fires, `/incident resolve` is offered.
//!
//! An alert never runs anything. What an `[[alerts.rules]]` rule suggests is posted
//! as a line with a Run button; a press sends that line as its presser, through the
//! matrix and approvals like a typed command.

use chrono::Utc;

use super::App;
use crate::chat::{Button, Post, PostKind};
use crate::config::matches;
use crate::failure::Failure;
use crate::incident::opening::{self, Opening};
use crate::incident::suggest::{suggest, Suggestion};
use crate::incident::{clock, stakeholders};
use crate::model::alert::{Alert, AlertStatus, Seen};
use crate::model::incident::{kind, SEVERITIES};
use crate::model::metric;
use crate::render::escape::{inline_code, markdown};
use crate::render::hhmm;
use crate::store::GroupClaim;

/// What one delivery did, for the source's answer and the metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Received {
    pub alerts: usize,
    /// Repeats of what was already recorded.
    pub deduplicated: usize,
    /// Incidents this delivery opened.
    pub opened: Vec<String>,
}

/// A group claimed this long without an incident was claimed by a process that
/// died opening it; another may take it over.
const CLAIM_STALE: chrono::Duration = chrono::Duration::seconds(30);
/// How long a delivery waits for another process to open its group's incident.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest line a button carries whole on every platform: Discord's
/// `custom_id` holds 100 characters (Slack's `value` 2,000). A cut line would run
/// something else, so a longer one is only shown, to be typed.
const BUTTON_LIMIT: usize = 100;

impl App {
    /// Records `alerts` (one delivery of one group), then acts on what is new.
    pub async fn receive_alerts(&self, alerts: &[Alert]) -> Result<Received, Failure> {
        // One delivery at a time in this process, so two of one group cannot both
        // open an incident.
        let _one = self.alerting.lock().await;
        let now = Utc::now();
        let mut seen = Vec::with_capacity(alerts.len());
        for a in alerts {
            seen.push(self.store.record_alert(a, now).await?);
        }
        let mut out = Received {
            alerts: alerts.len(),
            ..Received::default()
        };
        for (a, s) in alerts.iter().zip(seen) {
            metrics::counter!("warroom_alerts_received_total", "source" => a.source, "status" => a.status.as_str()).increment(1);
            match (a.status, s) {
                (_, Seen::Repeat { .. }) => {
                    out.deduplicated += 1;
                    metrics::counter!("warroom_alerts_deduplicated_total", "source" => a.source)
                        .increment(1);
                }
                (AlertStatus::Firing, _) => {
                    if let Some(opened) = self.alert_fired(a).await? {
                        out.opened.push(opened);
                    }
                }
                (
                    AlertStatus::Resolved,
                    Seen::Changed {
                        incident_id: Some(id),
                    },
                ) => {
                    self.alert_resolved(a, &id).await?;
                }
                // Resolved before warroom saw it fire, or never tied to an incident:
                // recorded, nothing to tell.
                (AlertStatus::Resolved, _) => {}
            }
        }
        Ok(out)
    }

    /// The channel an alert's incident opens in: the first matching route, else
    /// `[alerts] channel`, else the incident channel.
    fn alert_channel(&self, a: &Alert) -> String {
        let cfg = &self.settings.file.alerts;
        cfg.routes
            .iter()
            .find(|r| matches(&r.matchers, &a.labels))
            .map(|r| r.channel.clone())
            .or_else(|| cfg.channel.clone())
            .unwrap_or_else(|| self.settings.file.warroom.incident_channel.clone())
    }

    fn alert_severity(&self, a: &Alert) -> String {
        let cfg = &self.settings.file.alerts;
        a.labels
            .get(&cfg.severity_label)
            .and_then(|v| cfg.severities.get(&v.to_ascii_lowercase()))
            .filter(|s| SEVERITIES.contains(&s.as_str()))
            .unwrap_or(&cfg.default_severity)
            .clone()
    }

    /// Opens the group's incident or joins the open one; returns the id it opened.
    async fn alert_fired(&self, a: &Alert) -> Result<Option<String>, Failure> {
        let channel = self.alert_channel(a);
        let mut joined = match self.store.group_incident(a.source, &a.group_key).await? {
            Some(id) => self.store.incident(&id).await?,
            None => self.store.open_incident(&channel).await?,
        };
        if joined.is_none() {
            // The group is claimed before its incident opens: another process
            // opening it at this moment is waited for and joined, not doubled.
            let claim = self
                .store
                .claim_alert_group(a.source, &a.group_key, Utc::now(), CLAIM_STALE)
                .await?;
            if claim == GroupClaim::Opening {
                joined = Some(self.opened_elsewhere(a).await?);
            }
        }
        let summary: String = a.summary().chars().take(200).collect();
        let suggestions = self.suggestions(a);
        if let Some(incident) = joined {
            self.store
                .attach_alert(a.source, &a.fingerprint, &incident.id)
                .await?;
            let line = format!("Alert {} firing: {summary}", a.name());
            self.event(&incident.id, kind::ALERT, Some(a.source), &line, None, None)
                .await?;
            let text = format!(
                "🔔 Alert **{}** firing, on **{}**: {}",
                markdown(a.name()),
                incident.id,
                markdown(&summary)
            );
            self.send(&suggested(&incident.channel, text, &suggestions))
                .await;
            return Ok(None);
        }
        let severity = self.alert_severity(a);
        let component = a
            .labels
            .get(&self.settings.file.alerts.component_label)
            .filter(|c| self.settings.file.clocks.components.contains_key(*c));
        let detected = format!(
            "Alert {} firing since {} UTC: {summary} ({})",
            a.name(),
            hhmm(a.starts_at),
            a.source
        );
        let incident = opening::open(
            self,
            &Opening {
                title: &summary,
                severity: &severity,
                channel: &channel,
                // The source commands it until someone takes it, so the on-call is paged.
                by: a.source,
                impact: a.annotations.get("impact").map(String::as_str),
                component: component.map(String::as_str),
                detected: &detected,
                // An alert is nobody's hands: the on-call is paged until /ack.
                acknowledged: false,
            },
        )
        .await?;
        self.store
            .attach_alert(a.source, &a.fingerprint, &incident.id)
            .await?;
        self.store
            .set_group_incident(a.source, &a.group_key, &incident.id)
            .await?;
        metrics::counter!("warroom_incidents_opened_total", "severity" => metric::severity(&severity), "by" => "alert").increment(1);
        let text = format!(
            "🚨 **{}** opened by alert **{}** ({severity}): {}. Clocks started; /ack when you are on it.",
            incident.id,
            markdown(a.name()),
            markdown(&summary)
        );
        self.send(&suggested(&channel, text, &suggestions)).await;
        clock::page_first_level(self, &incident).await?;
        stakeholders::alert(self, &incident, None).await?;
        Ok(Some(incident.id))
    }

    /// The incident another process is opening for `a`'s group, once it has;
    /// an error (the source retries) if it takes longer than [`CLAIM_WAIT`].
    async fn opened_elsewhere(
        &self,
        a: &Alert,
    ) -> Result<crate::model::incident::Incident, Failure> {
        let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
        loop {
            if let Some(id) = self
                .store
                .claimed_group_incident(a.source, &a.group_key)
                .await?
            {
                if let Some(i) = self.store.incident(&id).await? {
                    return Ok(i);
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Failure::Internal(format!(
                    "alert group {} is being opened by another process",
                    a.group_key
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Notes the resolution; offers `/incident resolve` when nothing fires any more.
    async fn alert_resolved(&self, a: &Alert, incident_id: &str) -> Result<(), Failure> {
        let Some(incident) = self.store.incident(incident_id).await? else {
            return Ok(());
        };
        let at = a.ends_at.unwrap_or_else(Utc::now);
        let line = format!("Alert {} resolved at {} UTC", a.name(), hhmm(at));
        self.event(&incident.id, kind::ALERT, Some(a.source), &line, None, None)
            .await?;
        let mut text = format!(
            "✅ Alert **{}** resolved at {} UTC (**{}**).",
            markdown(a.name()),
            hhmm(at),
            incident.id
        );
        let mut post_buttons = Vec::new();
        if incident.status != "resolved" && self.store.firing_alerts(&incident.id).await? == 0 {
            text.push_str(&format!(
                " No alert of **{}** is firing now. When it is over: /incident resolve",
                incident.id
            ));
            post_buttons.push(Button {
                label: format!("Resolve {}", incident.id),
                command: "/incident resolve".into(),
                danger: false,
            });
        }
        self.send(&Post::new(&incident.channel, PostKind::Info, text).with_buttons(post_buttons))
            .await;
        Ok(())
    }

    /// What the matching rules suggest for `a`.
    fn suggestions(&self, a: &Alert) -> Vec<Suggestion> {
        self.settings
            .file
            .alerts
            .rules
            .iter()
            .filter(|r| matches(&r.matchers, &a.labels))
            .map(|r| suggest(&self.catalog, &r.run, a))
            .collect()
    }
}

/// `text` plus each suggestion: a line that binds with its Run button, one that
/// does not with the reason it is not offered.
fn suggested(channel: &str, mut text: String, suggestions: &[Suggestion]) -> Post {
    let mut buttons = Vec::new();
    for s in suggestions {
        match s {
            Suggestion::Ready(line) if line.chars().count() > BUTTON_LIMIT => {
                text.push_str(&format!(
                    "\nSuggested runbook (too long for a button; type it, it runs as you, with its approvals): `{}`",
                    inline_code(line)
                ));
            }
            Suggestion::Ready(line) => {
                text.push_str(&format!(
                    "\nSuggested runbook: `{}` (press Run, or type it; it runs as you, with its approvals)",
                    inline_code(line)
                ));
                let name = line.split_whitespace().next().unwrap_or(line);
                buttons.push(Button {
                    label: format!("Run {name}"),
                    command: line.clone(),
                    danger: false,
                });
            }
            Suggestion::Refused { line, why } => text.push_str(&format!(
                "\nA rule suggests `{}`, but it is not offered: {why}",
                inline_code(line)
            )),
        }
    }
    Post::new(channel, PostKind::Info, text).with_buttons(buttons)
}
