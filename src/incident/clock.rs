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
    let which = rto_name_in(&svc.settings.file.clocks, incident);
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

/// Seed 004's escalation matrix is by time: Level 2 joins at 30 minutes, Level 3 at
/// 60, while the incident is not mitigated, acknowledged or not (`escalate:N`). And
/// seed 000's response time: an incident nobody has acknowledged by then pages
/// Level 2 early (`respond`); `/ack` stops only that.
pub async fn schedule_escalation(svc: &Services, incident: &Incident) -> Result<(), StoreError> {
    svc.store.cancel_timers(&incident.id, "escalate:").await?;
    svc.store.cancel_timers(&incident.id, "respond").await?;
    let clocks = &svc.settings.file.clocks;
    let levels = levels(svc, incident);
    for (i, level) in levels.iter().enumerate().skip(1) {
        let due = later(incident.detected_at, dur(&level.after));
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
    let respond = clocks
        .severities
        .get(&incident.severity)
        .map(|c| dur(&c.respond));
    let second = levels.get(1).map(|l| dur(&l.after));
    if let (None, Some(respond), Some(second)) = (incident.acked_at, respond, second) {
        if respond < second {
            svc.store
                .schedule(
                    &incident.id,
                    "respond",
                    later(incident.detected_at, respond),
                    &json!({ "level": 1 }),
                )
                .await?;
        }
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

/// How late a timer may fire and still be told as crossing its mark just now. The
/// tick runs every second; anything later than this fell due while no warroom
/// process was running (or the state database was unreachable).
const ON_TIME: chrono::Duration = chrono::Duration::seconds(30);

/// Fires every timer of this platform due by `now`; returns how many fired.
///
/// Timers of one incident and kind that are all overdue (warroom was stopped past
/// several marks) are told once: the latest mark, with the earlier ones named in
/// it, in words that are true now (issue 12: `warroom run` posted "50 % of the RTO
/// used ... 2 min 30 s left" when the RTO had passed).
pub async fn fire_due(svc: &Services, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let due = svc.store.claim_due_timers(now, &svc.platform).await?;
    let n = due.len();
    let mut groups: Vec<(Timer, Vec<Timer>)> = Vec::new();
    for timer in due {
        let kind = family(&timer.kind).to_string();
        match groups
            .iter_mut()
            .find(|(t, _)| t.incident_id == timer.incident_id && family(&t.kind) == kind)
        {
            // Claimed in due order, so the later timer supersedes the one kept.
            Some((kept, missed)) => missed.push(std::mem::replace(kept, timer)),
            None => groups.push((timer, Vec::new())),
        }
    }
    for (timer, missed) in groups {
        fire(svc, &timer, &missed, now).await?;
    }
    Ok(n)
}

/// Timers told together when several are overdue: the early page and the time
/// levels are one escalation.
fn family(kind: &str) -> &str {
    match kind.split(':').next().unwrap_or_default() {
        "respond" => "escalate",
        other => other,
    }
}

/// The RTO an incident runs on, named, knowing the clocks: its component's only when
/// that component states one (seed 003's does not: its incidents run on the
/// severity's).
pub fn rto_name_in(clocks: &crate::config::Clocks, incident: &Incident) -> String {
    let own = incident
        .component
        .as_deref()
        .filter(|c| clocks.components.get(*c).is_some_and(|k| k.rto.is_some()));
    own.map_or_else(
        || format!("the {} RTO", incident.severity),
        |c| format!("the {c} RTO"),
    )
}

/// The RTO an incident runs on, named: its component's when it has one.
pub fn rto_name(incident: &Incident) -> String {
    incident.component.as_deref().map_or_else(
        || format!("the {} RTO", incident.severity),
        |c| format!("the {c} RTO"),
    )
}

/// A pending timer in words, for `/incident status` (never its internal id).
pub fn describe_timer(
    svc: &Services,
    incident: &Incident,
    kind: &str,
    due: DateTime<Utc>,
) -> String {
    let at = hhmm(due);
    let mut parts = kind.split(':');
    match (parts.next(), parts.next()) {
        (Some("rto"), Some("100")) => format!(
            "{} runs out at {at} UTC",
            rto_name_in(&svc.settings.file.clocks, incident)
        ),
        (Some("rto"), Some(pct)) => format!(
            "{pct}% of {} at {at} UTC",
            rto_name_in(&svc.settings.file.clocks, incident)
        ),
        (Some("escalate"), Some(n)) => {
            let level = n
                .parse::<usize>()
                .ok()
                .and_then(|n| levels(svc, incident).get(n.saturating_sub(1)));
            match level {
                Some(l) => format!("{} joins at {at} UTC unless it is mitigated", l.title),
                None => format!("the next escalation at {at} UTC"),
            }
        }
        (Some("respond"), _) => {
            let level = levels(svc, incident).get(1);
            let title = level.map_or("the next level", |l| l.title.as_str());
            format!("{title} is paged early at {at} UTC unless someone types /ack")
        }
        (Some("update"), _) => format!("a reminder to update stakeholders at {at} UTC"),
        _ => format!("a reminder at {at} UTC"),
    }
}

/// "at 20:04 UTC" or, for several, "at 20:02 and 20:04 UTC".
fn marks(timers: &[&Timer]) -> String {
    let times: Vec<String> = timers.iter().map(|t| hhmm(t.due_at)).collect();
    match times.split_last() {
        Some((last, [])) => format!("at {last} UTC"),
        Some((last, rest)) => format!("at {} and {last} UTC", rest.join(", ")),
        None => String::new(),
    }
}

async fn fire(
    svc: &Services,
    timer: &Timer,
    missed: &[Timer],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(incident) = svc.store.incident(&timer.incident_id).await? else {
        return Ok(());
    };
    if incident.status == "resolved" {
        return Ok(());
    }
    let late = now - timer.due_at > ON_TIME;
    // On time, a message speaks of the moment its mark was crossed; late, of now,
    // and says when the marks passed.
    let measured_at = if late { now } else { timer.due_at };
    let elapsed = (measured_at - incident.detected_at)
        .to_std()
        .unwrap_or_default();
    let elapsed_text = human_duration(elapsed.as_millis() as i64);
    let all: Vec<&Timer> = missed.iter().chain(std::iter::once(timer)).collect();
    let stopped = if late {
        format!(" (while warroom was not running: due {})", marks(&all))
    } else {
        String::new()
    };
    match family(&timer.kind) {
        "rto" => {
            // Recovery was reached: the RTO measured time to mitigate, and it is over.
            if incident.mitigated_at.is_some() {
                return Ok(());
            }
            let pct = timer.payload["pct"].as_u64().unwrap_or(100);
            let rto = Duration::from_millis(timer.payload["rto_ms"].as_u64().unwrap_or(0));
            let rto_text = human_duration(rto.as_millis() as i64);
            let which = rto_name_in(&svc.settings.file.clocks, &incident);
            let text = if elapsed >= rto || pct >= 100 {
                let when = if late {
                    format!(
                        " It ran out at {} UTC, while warroom was not running.",
                        hhmm(later(incident.detected_at, rto))
                    )
                } else {
                    String::new()
                };
                format!("🚨 **{}** RTO exceeded: {elapsed_text} since detection; {which} was {rto_text}.{when}", incident.id)
            } else {
                let used = (elapsed.as_millis() * 100 / rto.as_millis().max(1)) as u64;
                let left = human_duration(rto.saturating_sub(elapsed).as_millis() as i64);
                format!("⏱️ **{}** {}% of {which} used ({elapsed_text} of {rto_text}); {left} left.{stopped}", incident.id, used.max(if late { 0 } else { pct }))
            };
            svc.event(&incident.id, kind::CLOCK, None, &text, None, None)
                .await?;
            svc.send(&Post::new(&incident.channel, PostKind::Info, text))
                .await;
        }
        "escalate" => {
            let early = timer.kind == "respond";
            // The time levels are for an incident still not under control; the
            // early page for one nobody has taken.
            if incident.mitigated_at.is_some() || (early && incident.acked_at.is_some()) {
                return Ok(());
            }
            let path = levels(svc, &incident);
            let levels: Vec<&crate::config::EscalationLevel> = all
                .iter()
                .filter_map(|t| t.payload["level"].as_u64())
                .filter_map(|i| path.get(i as usize))
                .collect();
            let Some(level) = levels.last() else {
                return Ok(());
            };
            // Paged early already: its time mark adds nobody.
            if already_paged(svc, &incident, &level.title).await? {
                return Ok(());
            }
            let titles: Vec<String> = level
                .roles
                .iter()
                .map(|r| svc.catalog.matrix.title(r))
                .collect();
            let why = if incident.acked_at.is_none() {
                format!("unacknowledged for {elapsed_text}{stopped}. Type /ack to take it.")
            } else {
                format!("open for {elapsed_text} and not mitigated{stopped}.")
            };
            let text = format!(
                "📟 **{}** escalated to {} ({}): {why}",
                incident.id,
                level.title,
                titles.join(", ")
            );
            // Every level whose page was missed is paged now.
            let roles: Vec<String> = levels.iter().flat_map(|l| l.roles.clone()).collect();
            let mut post = Post::new(&incident.channel, PostKind::Page, text.clone());
            post.mentions = not_working(&incident, members(svc, &roles));
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

/// Whether a page to `title` is on the incident's timeline already.
async fn already_paged(
    svc: &Services,
    incident: &Incident,
    title: &str,
) -> Result<bool, StoreError> {
    let needle = format!("escalated to {title} (");
    Ok(svc
        .store
        .timeline(&incident.id)
        .await?
        .iter()
        .any(|e| e.kind == kind::PAGE && e.text.contains(&needle)))
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
