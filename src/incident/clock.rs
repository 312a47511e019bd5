//! Incident clocks: RTO warnings at 50/80/100%, escalation to the next level while
//! nobody has acknowledged, and reminders when stakeholders have heard nothing for a
//! while. Timers live in the database, so a restart resumes them instead of
//! resetting them, and each fires once even with several replicas.
//!
//! Time comes from a [`Clock`]; tests drive a [`ManualClock`]. The per-second tick
//! that fires these is the application's (`app::ticker`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::chat::{Post, PostKind};
use crate::config::EscalationLevel;
use crate::failure::Failure;
use crate::model::duration::{after as later, parse_duration};
use crate::model::incident::{kind, Incident};
use crate::render::escape::markdown;
use crate::render::{hhmm, human_duration};
use crate::services::Services;
use crate::store::{StoreError, Timer};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told, for tests and drills: deterministic, no sleeps.
///
/// (Not tokio's paused time: while paused, tokio auto-advances whenever the runtime
/// waits on SQLite's worker thread, which fires sqlx's pool timeouts.)
pub struct ManualClock {
    now: std::sync::Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: std::sync::Mutex::new(start),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().expect("clock lock");
        *now += chrono(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }
}

fn dur(s: &str) -> Duration {
    parse_duration(s).unwrap_or(Duration::from_secs(3600))
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// The RTO of a severity.
pub fn rto(svc: &Services, severity: &str) -> Option<Duration> {
    rto_in(&svc.settings.file.clocks, severity, None)
}

/// An incident's RTO: its component's (seed 004) when it names one, else its
/// severity's.
pub fn rto_in(
    clocks: &crate::config::Clocks,
    severity: &str,
    component: Option<&str>,
) -> Option<Duration> {
    component
        .and_then(|c| clocks.components.get(c))
        .and_then(|c| c.rto.as_deref())
        .map(dur)
        .or_else(|| clocks.severities.get(severity).map(|c| dur(&c.rto)))
}

pub fn rto_of(svc: &Services, incident: &Incident) -> Option<Duration> {
    rto_in(
        &svc.settings.file.clocks,
        &incident.severity,
        incident.component.as_deref(),
    )
}

/// The resolution time warroom can promise without being told: the RTO, as
/// "within 5 min (the P0 RTO), by 20:05 UTC".
pub fn eta(svc: &Services, incident: &Incident) -> Option<String> {
    let rto = rto_of(svc, incident)?;
    let own = incident.component.as_deref().filter(|c| {
        svc.settings
            .file
            .clocks
            .components
            .get(*c)
            .is_some_and(|k| k.rto.is_some())
    });
    let which = own.map_or_else(
        || format!("the {} RTO", incident.severity),
        |c| format!("the {c} RTO"),
    );
    Some(format!(
        "within {} ({which}), by {} UTC",
        human_duration(rto.as_millis() as i64),
        hhmm(later(incident.detected_at, rto))
    ))
}

/// How often stakeholders should hear something at this severity.
pub fn update_every(svc: &Services, severity: &str) -> Option<Duration> {
    svc.settings
        .file
        .clocks
        .severities
        .get(severity)
        .map(|c| dur(&c.update_every))
}

/// The escalation levels of an incident: its component's for its severity, else its
/// component's, else `[clocks] escalation` (issue 13: seed 000's contacts per
/// severity and seed 003's path are data, not seed 004's levels for everyone).
pub fn levels<'a>(svc: &'a Services, incident: &Incident) -> &'a [EscalationLevel] {
    let clocks = &svc.settings.file.clocks;
    let component = incident
        .component
        .as_deref()
        .and_then(|c| clocks.components.get(c));
    component
        .and_then(|c| c.escalation_by_severity.get(&incident.severity))
        .or(component.map(|c| &c.escalation))
        .filter(|l| !l.is_empty())
        .unwrap_or(&clocks.escalation)
}

/// Schedules every clock of a freshly opened incident.
pub async fn start(svc: &Services, incident: &Incident) -> Result<(), StoreError> {
    schedule_rto(svc, incident).await?;
    schedule_escalation(svc, incident).await?;
    schedule_update(svc, incident, incident.declared_at).await
}

/// (Re)schedules the RTO warnings from detection; used again when severity changes.
pub async fn schedule_rto(svc: &Services, incident: &Incident) -> Result<(), StoreError> {
    svc.store.cancel_timers(&incident.id, "rto:").await?;
    let Some(rto) = rto_of(svc, incident) else {
        return Ok(());
    };
    for pct in [50u32, 80, 100] {
        let due = later(incident.detected_at, rto * pct / 100);
        let payload =
            json!({ "pct": pct, "rto_ms": rto.as_millis() as u64, "severity": incident.severity });
        svc.store
            .schedule(&incident.id, &format!("rto:{pct}"), due, &payload)
            .await?;
    }
    Ok(())
}

/// Levels after the first are paged at their time, or at the severity's response
/// time if that comes first, unless someone acknowledges.
pub async fn schedule_escalation(svc: &Services, incident: &Incident) -> Result<(), StoreError> {
    svc.store.cancel_timers(&incident.id, "escalate:").await?;
    let clocks = &svc.settings.file.clocks;
    let respond = clocks
        .severities
        .get(&incident.severity)
        .map(|c| dur(&c.respond));
    for (i, level) in levels(svc, incident).iter().enumerate().skip(1) {
        let mut after = dur(&level.after);
        if i == 1 {
            after = respond.map_or(after, |r| r.min(after));
        }
        let due = later(incident.detected_at, after);
        // Named by level number (escalate:2 is seed 004's Level 2).
        svc.store
            .schedule(
                &incident.id,
                &format!("escalate:{}", i + 1),
                due,
                &json!({ "level": i }),
            )
            .await?;
    }
    Ok(())
}

/// The next "stakeholders have heard nothing" reminder, counted from `since`.
pub async fn schedule_update(
    svc: &Services,
    incident: &Incident,
    since: DateTime<Utc>,
) -> Result<(), StoreError> {
    svc.store.cancel_timers(&incident.id, "update").await?;
    // Regression: the resolved message itself re-armed the reminder.
    if incident.status == "resolved" {
        return Ok(());
    }
    let every = update_every(svc, &incident.severity);
    if let Some(every) = every {
        svc.store
            .schedule(&incident.id, "update", later(since, every), &json!({}))
            .await?;
    }
    Ok(())
}

/// Fires every timer of this platform due by `now`; returns how many fired.
pub async fn fire_due(svc: &Services, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let due = svc.store.claim_due_timers(now, &svc.platform).await?;
    let n = due.len();
    for timer in due {
        fire(svc, &timer, now).await?;
    }
    Ok(n)
}

async fn fire(svc: &Services, timer: &Timer, now: DateTime<Utc>) -> Result<(), StoreError> {
    let Some(incident) = svc.store.incident(&timer.incident_id).await? else {
        return Ok(());
    };
    if incident.status == "resolved" {
        return Ok(());
    }
    // Messages speak of the moment the threshold was crossed, not of when this
    // process got round to it.
    let elapsed = (timer.due_at - incident.detected_at)
        .to_std()
        .unwrap_or_default();
    let elapsed_text = human_duration(elapsed.as_millis() as i64);
    match timer.kind.split(':').next().unwrap_or_default() {
        "rto" => {
            let pct = timer.payload["pct"].as_u64().unwrap_or(100);
            let rto = Duration::from_millis(timer.payload["rto_ms"].as_u64().unwrap_or(0));
            let rto_text = human_duration(rto.as_millis() as i64);
            let text = if pct >= 100 {
                format!("🚨 **{}** RTO exceeded: {elapsed_text} since detection, the {} target was {rto_text}.", incident.id, incident.severity)
            } else {
                let left = human_duration(rto.saturating_sub(elapsed).as_millis() as i64);
                format!("⏱️ **{}** {pct}% of the {} RTO used ({elapsed_text} of {rto_text}); {left} left.", incident.id, incident.severity)
            };
            svc.event(&incident.id, kind::CLOCK, None, &text, None, None)
                .await?;
            svc.send(&Post::new(&incident.channel, PostKind::Info, text))
                .await;
        }
        "escalate" => {
            if incident.acked_at.is_some() {
                return Ok(());
            }
            let i = timer.payload["level"].as_u64().unwrap_or(1) as usize;
            let Some(level) = levels(svc, &incident).get(i) else {
                return Ok(());
            };
            let titles: Vec<String> = level
                .roles
                .iter()
                .map(|r| svc.catalog.matrix.title(r))
                .collect();
            let text = format!(
                "📟 **{}** escalated to {} ({}): unacknowledged for {elapsed_text}. Type /ack to take it.",
                incident.id,
                level.title,
                titles.join(", ")
            );
            let mut post = Post::new(&incident.channel, PostKind::Page, text.clone());
            post.mentions = not_working(&incident, members(svc, &level.roles));
            svc.event(&incident.id, kind::PAGE, None, &text, None, None)
                .await?;
            svc.send(&post).await;
        }
        "update" => {
            let every = update_every(svc, &incident.severity);
            let last = incident.last_update_at.unwrap_or(incident.declared_at);
            if let Some(every) = every {
                // An update went out since this was scheduled: wait from that one.
                if later(last, every) > now {
                    return schedule_update(svc, &incident, last).await;
                }
            }
            let text = format!(
                "🗣️ **{}** stakeholders have had no update since {} UTC. Post one: /incident update \"what changed, what is next\"",
                incident.id,
                hhmm(last)
            );
            let mut post = Post::new(&incident.channel, PostKind::Page, text.clone());
            post.mentions = incident.commander.iter().cloned().collect();
            svc.event(&incident.id, kind::CLOCK, None, &text, None, None)
                .await?;
            svc.send(&post).await;
            schedule_update(svc, &incident, now).await?;
        }
        other => tracing::warn!(kind = other, "unknown timer kind"),
    }
    Ok(())
}

/// Members of matrix roles, to mention.
pub fn members(svc: &Services, roles: &[String]) -> Vec<String> {
    let mut out: Vec<String> = roles
        .iter()
        .filter_map(|r| svc.catalog.matrix.roles.get(r))
        .flat_map(|r| r.members.iter().cloned())
        .collect();
    out.dedup();
    out
}

/// Who a page may mention: never the people already working on the incident (its
/// commander, who opened it unless reassigned, and whoever acknowledged it).
/// Issue 12: U_ONCALL's own `/kanban-off` paged U_ONCALL.
fn not_working(incident: &Incident, mut people: Vec<String>) -> Vec<String> {
    people.retain(|p| {
        incident.commander.as_deref() != Some(p.as_str())
            && incident.acked_by.as_deref() != Some(p.as_str())
    });
    people
}

/// Level 1 of the escalation matrix is paged as soon as the incident opens, except
/// whoever opened it: they are the one who just typed the command.
pub async fn page_first_level(svc: &Services, incident: &Incident) -> Result<(), Failure> {
    if let Some(level) = levels(svc, incident).first() {
        let everyone = members(svc, &level.roles);
        let paged = not_working(incident, everyone.clone());
        let opener = incident.commander.as_deref().unwrap_or_default();
        let note = if paged.is_empty() && everyone.iter().any(|m| m == opener) {
            format!(" {opener} opened it and is on it; nobody else at this level to page.")
        } else if !opener.is_empty() {
            format!(" Opened by {opener}.")
        } else {
            String::new()
        };
        let mut post = Post::new(
            &incident.channel,
            PostKind::Page,
            format!(
                "📟 **{}** {}: {} ({}).{note}",
                incident.id,
                level.title,
                markdown(&incident.title),
                incident.severity
            ),
        );
        post.mentions = paged;
        svc.send(&post).await;
    }
    Ok(())
}
