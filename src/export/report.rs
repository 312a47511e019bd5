//! `warroom report --since 30d`: figures across incidents. Mean time to
//! acknowledge, mitigate and resolve by severity and by seed 004 component, each
//! against the RTO the incident ran on; the incidents that breached their RTO
//! (mitigated later than it, or still not mitigated past it); and how long
//! approvals were waited for, per matrix scenario; and the configured drills
//! (`[drills]`, issue 13) done against those due in the window. As Markdown or JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Clocks;
use crate::model::incident::Incident;
use crate::render::escape::markdown;
use crate::render::human_duration;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub incidents: usize,
    /// By severity, then by component (`-` for none).
    pub by_severity: BTreeMap<String, Figures>,
    pub by_component: BTreeMap<String, Figures>,
    pub breaches: Vec<Breach>,
    pub approvals: BTreeMap<String, Waits>,
    /// Each configured drill: its runs that succeeded against those due.
    pub drills: BTreeMap<String, Drills>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drills {
    /// Drill runs (`/drill NAME`) that succeeded in the window.
    pub done: usize,
    /// One per `every` of the window, at least one.
    pub due: usize,
    /// Drill runs that failed or were stopped.
    pub failed: usize,
}

/// Means in milliseconds, over the incidents that reached each point.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub incidents: usize,
    pub mtta_ms: Option<i64>,
    pub mttm_ms: Option<i64>,
    pub mttr_ms: Option<i64>,
    /// The RTO these incidents ran on (the first's, when they differ).
    pub rto_ms: Option<i64>,
    pub breaches: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Breach {
    pub incident: String,
    pub title: String,
    pub severity: String,
    pub component: Option<String>,
    pub rto_ms: i64,
    /// Time to mitigate, or the time it has been open unmitigated.
    pub took_ms: i64,
    pub mitigated: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Waits {
    pub requests: usize,
    pub approved: usize,
    pub mean_ms: Option<i64>,
    pub max_ms: Option<i64>,
}

fn mean(v: &[i64]) -> Option<i64> {
    (!v.is_empty()).then(|| v.iter().sum::<i64>() / v.len() as i64)
}

fn figures(list: &[&Incident], clocks: &Clocks, now: DateTime<Utc>) -> (Figures, Vec<Breach>) {
    let ms =
        |a: Option<DateTime<Utc>>, i: &Incident| a.map(|t| (t - i.detected_at).num_milliseconds());
    let (mut tta, mut ttm, mut ttr, mut breaches) = (vec![], vec![], vec![], vec![]);
    let mut rto_ms = None;
    for i in list {
        tta.extend(ms(i.acked_at, i));
        ttm.extend(ms(i.mitigated_at, i));
        ttr.extend(ms(i.resolved_at, i));
        let rto = crate::incident::clock::rto_in(clocks, &i.severity, i.component.as_deref())
            .map(|d| d.as_millis() as i64);
        rto_ms = rto_ms.or(rto);
        let took = ms(i.mitigated_at, i)
            .or_else(|| ms(i.resolved_at, i))
            .unwrap_or_else(|| (now - i.detected_at).num_milliseconds());
        if let Some(rto) = rto.filter(|&r| took > r) {
            breaches.push(Breach {
                incident: i.id.clone(),
                title: i.title.clone(),
                severity: i.severity.clone(),
                component: i.component.clone(),
                rto_ms: rto,
                took_ms: took,
                mitigated: i.mitigated_at.is_some() || i.resolved_at.is_some(),
            });
        }
    }
    let f = Figures {
        incidents: list.len(),
        mtta_ms: mean(&tta),
        mttm_ms: mean(&ttm),
        mttr_ms: mean(&ttr),
        rto_ms,
        breaches: breaches.len(),
    };
    (f, breaches)
}

/// Gathers the report for incidents detected in `[since, now]`.
pub async fn gather(
    store: &Store,
    clocks: &Clocks,
    configured: &BTreeMap<String, crate::config::Drill>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let incidents = store.incidents_detected_since(since).await?;
    let window = (now - since).num_milliseconds().max(0);
    let mut drills: BTreeMap<String, Drills> = configured
        .iter()
        .map(|(name, d)| {
            // A drill with no cadence is due when a person says: none counted.
            let due = match d
                .every
                .as_deref()
                .and_then(crate::model::duration::parse_duration)
            {
                Some(e) => ((window / (e.as_millis() as i64).max(1)) as usize).max(1),
                None => 0,
            };
            (
                name.clone(),
                Drills {
                    due,
                    ..Drills::default()
                },
            )
        })
        .collect();
    for r in store.drills_between(since, now).await? {
        if let Some(d) = drills.get_mut(&r.name) {
            match r.outcome.as_str() {
                "succeeded" => d.done += 1,
                _ => d.failed += 1,
            }
        }
    }
    let group = |key: &dyn Fn(&Incident) -> String| {
        let mut m: BTreeMap<String, Vec<&Incident>> = BTreeMap::new();
        for i in &incidents {
            m.entry(key(i)).or_default().push(i);
        }
        m
    };
    let by_severity: BTreeMap<String, Figures> = group(&|i| i.severity.clone())
        .into_iter()
        .map(|(k, v)| (k, figures(&v, clocks, now).0))
        .collect();
    let by_component: BTreeMap<String, Figures> =
        group(&|i| i.component.clone().unwrap_or_else(|| "-".into()))
            .into_iter()
            .map(|(k, v)| (k, figures(&v, clocks, now).0))
            .collect();
    let all: Vec<&Incident> = incidents.iter().collect();
    let (_, breaches) = figures(&all, clocks, now);
    let mut waits: BTreeMap<String, (Waits, Vec<i64>)> = BTreeMap::new();
    for i in &incidents {
        for r in store.incident_runs(&i.id).await? {
            // A run that asked for approval carries the plan its approvers read.
            if r.plan.is_empty() {
                continue;
            }
            let w = waits.entry(r.scenario.clone()).or_default();
            w.0.requests += 1;
            if let Some(started) = r.started_at {
                w.0.approved += 1;
                w.1.push((started - r.created_at).num_milliseconds());
            }
        }
    }
    let approvals = waits
        .into_iter()
        .map(|(k, (mut w, v))| {
            w.mean_ms = mean(&v);
            w.max_ms = v.iter().max().copied();
            (k, w)
        })
        .collect();
    Ok(Report {
        since,
        until: now,
        incidents: incidents.len(),
        by_severity,
        by_component,
        breaches,
        approvals,
        drills,
    })
}

pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("the report serializes")
}

fn d(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".into(), human_duration)
}

pub fn markdown_report(r: &Report) -> String {
    let mut out = format!(
        "# Incident report\n\n{} to {} UTC: {} incident(s).\n\n",
        r.since.format("%Y-%m-%d %H:%M"),
        r.until.format("%Y-%m-%d %H:%M"),
        r.incidents
    );
    for (title, table) in [
        ("By severity", &r.by_severity),
        ("By component", &r.by_component),
    ] {
        out.push_str(&format!(
            "## {title}\n\n| | incidents | MTTA | MTTM | MTTR | RTO | RTO breaches |\n|---|---|---|---|---|---|---|\n"
        ));
        for (k, f) in table {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                markdown(k),
                f.incidents,
                d(f.mtta_ms),
                d(f.mttm_ms),
                d(f.mttr_ms),
                d(f.rto_ms),
                f.breaches
            ));
        }
        out.push('\n');
    }
    out.push_str("## RTO breaches\n\n");
    if r.breaches.is_empty() {
        out.push_str("None.\n");
    }
    for b in &r.breaches {
        out.push_str(&format!(
            "- {} ({}{}): {} against an RTO of {}{}: {}\n",
            b.incident,
            b.severity,
            b.component
                .as_deref()
                .map(|c| format!(", {}", markdown(c)))
                .unwrap_or_default(),
            human_duration(b.took_ms),
            human_duration(b.rto_ms),
            if b.mitigated {
                ""
            } else {
                ", not mitigated yet"
            },
            markdown(&b.title)
        ));
    }
    out.push_str("\n## Approval latency per scenario\n\n| scenario | requests | approved | mean wait | longest |\n|---|---|---|---|---|\n");
    for (k, w) in &r.approvals {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            markdown(k),
            w.requests,
            w.approved,
            d(w.mean_ms),
            d(w.max_ms)
        ));
    }
    out.push_str("\n## Drills\n\n| drill | done | due | failed |\n|---|---|---|---|\n");
    for (k, d) in &r.drills {
        out.push_str(&format!(
            "| /drill {} | {} | {} | {} |\n",
            markdown(k),
            d.done,
            d.due,
            d.failed
        ));
    }
    out
}

/// `30d`, `12h`, `90m`, or a date (`2026-11-01`): the start of the window.
pub fn since(arg: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(days) = arg.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        return now.checked_sub_signed(chrono::Duration::days(days));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(arg, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    crate::model::duration::parse_duration(arg).map(|d| crate::model::duration::before(now, d))
}

#[cfg(test)]
mod tests;
