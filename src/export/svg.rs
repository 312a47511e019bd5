//! The timeline chart: the incident's phases and each run on one time axis, scaled
//! to the incident, with round ticks, a legend and the RTO marked when it falls on
//! the chart. Plain SVG, no scripts, every text escaped.
//!
//! Issue 12: labels were clipped at the right edge, ticks fell at odd times
//! (20:00:34), run labels were cut, a 3-minute incident with a 2 h RTO was a 19 px
//! sliver, and a `monitoring` phase was drawn for an incident resolved directly.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use super::Report;
use crate::model::run::{display_id, RunState};
use crate::render::{hhmm, human_duration};

const WIDTH: f64 = 960.0;
/// Room right of the axis for the last tick's label, centred on its tick.
const RIGHT: f64 = 40.0;
const ROW: f64 = 28.0;
/// Width of a label character at font-size 12 (sans-serif, generous).
const CHAR: f64 = 7.2;

const OPEN: &str = "#e4572e";
const MONITORING: &str = "#f3a712";
const SUCCEEDED: &str = "#29bf12";
const FAILED: &str = "#d00000";
const STOPPED: &str = "#999999";
const LIVE: &str = "#4d96ff";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The tick step for a span: the first round step giving at most 8 ticks.
fn tick_step(span: Duration) -> Duration {
    const STEPS: &[i64] = &[
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];
    let secs = span.num_seconds().max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| secs / s <= 8)
        .unwrap_or_else(|| (secs / 8 / 86400 + 1) * 86400);
    Duration::seconds(step)
}

/// Ticks at whole multiples of `step` (20:00, 20:05, ...) within `[from, to]`.
fn ticks(from: DateTime<Utc>, to: DateTime<Utc>, step: Duration) -> Vec<DateTime<Utc>> {
    let s = step.num_seconds().max(1);
    let first = (from.timestamp() + s - 1).div_euclid(s) * s;
    (0..)
        .map(|k| first + k * s)
        .take_while(|t| *t <= to.timestamp())
        .filter_map(|t| DateTime::from_timestamp(t, 0))
        .collect()
}

pub fn timeline_svg(r: &Report) -> String {
    let i = &r.incident;
    let start = i.detected_at;
    let mut end = i.resolved_at.unwrap_or(r.now);
    for (run, _, _) in &r.runs {
        end = end.max(run.finished_at.unwrap_or(end));
    }
    let rto_at = r
        .rto
        .map(|d| start + Duration::from_std(d).unwrap_or_default());
    // Scaled to the incident: the RTO widens the chart only when it is near.
    if let Some(at) = rto_at {
        if (at - start) <= (end - start) * 3 / 2 {
            end = end.max(at);
        }
    }
    let end = end + (end - start).max(Duration::seconds(10)) / 20;
    let span = (end - start).num_milliseconds().max(1) as f64;
    let labels: Vec<String> = r
        .runs
        .iter()
        .map(|(run, _, _)| format!("{} /{}", display_id(run.id), run.command))
        .collect();
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let left = (20.0 + CHAR * widest.max(8) as f64).clamp(120.0, 420.0);
    let x = |t: DateTime<Utc>| {
        left + (WIDTH - left - RIGHT) * ((t - start).num_milliseconds().max(0) as f64 / span)
    };
    let rows = 1 + r.runs.len();
    let bottom = 40.0 + ROW * rows as f64 + 8.0;
    let height = bottom + 80.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        s,
        r#"<title>{} timeline</title><rect width="100%" height="100%" fill="white"/>"#,
        esc(&i.id)
    );
    let _ = write!(
        s,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{} — {} ({})</text>"#,
        esc(&i.id),
        esc(&i.title),
        esc(&i.severity)
    );
    // The phases that happened: open until mitigated; monitoring only when the
    // incident was mitigated before it was resolved (not at the same moment).
    let y = 40.0;
    let _ = write!(s, r#"<text x="10" y="{}">Incident</text>"#, y + 15.0);
    let resolved_or_now = i.resolved_at.unwrap_or(r.now);
    let mitigated = i.mitigated_at.unwrap_or(resolved_or_now);
    let _ = write!(
        s,
        r##"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="{OPEN}"><title>open {}–{}</title></rect>"##,
        x(start),
        (x(mitigated) - x(start)).max(1.0),
        hhmm(start),
        hhmm(mitigated)
    );
    let monitored = i
        .mitigated_at
        .filter(|m| resolved_or_now - *m >= Duration::seconds(1));
    if let Some(m) = monitored {
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="{MONITORING}"><title>monitoring {}–{}</title></rect>"##,
            x(m),
            (x(resolved_or_now) - x(m)).max(1.0),
            hhmm(m),
            hhmm(resolved_or_now)
        );
    }
    if let Some(a) = i.acked_at {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="#333" stroke-width="2" stroke-dasharray="3,2"><title>acknowledged {3}</title></line>"##,
            x(a),
            y - 3.0,
            y + 23.0,
            hhmm(a)
        );
    }
    // Runs, coloured by outcome, labelled in full.
    for (n, ((run, _, _), label)) in r.runs.iter().zip(&labels).enumerate() {
        let y = 40.0 + ROW * (n + 1) as f64;
        let from = run.started_at.unwrap_or(run.created_at);
        let to = run.finished_at.unwrap_or(r.now);
        let color = match run.state {
            RunState::Succeeded => SUCCEEDED,
            RunState::Failed | RunState::Interrupted => FAILED,
            RunState::Cancelled | RunState::Expired => STOPPED,
            _ => LIVE,
        };
        let _ = write!(s, r#"<text x="10" y="{}">{}</text>"#, y + 15.0, esc(label));
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="{color}"><title>{} {} {}–{}</title></rect>"#,
            x(from),
            (x(to) - x(from)).max(2.0),
            esc(label),
            run.state.as_str(),
            hhmm(from),
            hhmm(to)
        );
    }
    let mut rto_note = None;
    if let (Some(at), Some(rto)) = (rto_at, r.rto) {
        let rto_text = human_duration(rto.as_millis() as i64);
        if at <= end {
            let ax = x(at);
            let _ = write!(
                s,
                r##"<line x1="{ax:.1}" x2="{ax:.1}" y1="34" y2="{bottom}" stroke="{FAILED}" stroke-width="2"/><text x="{:.1}" y="32" fill="{FAILED}" text-anchor="middle">RTO {}</text>"##,
                ax.min(WIDTH - 40.0),
                rto_text
            );
        } else {
            rto_note = Some(format!(
                "RTO {rto_text} (at {} UTC, past the end of this chart)",
                hhmm(at)
            ));
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#333"/>"##,
        WIDTH - RIGHT
    );
    let step = tick_step(end - start);
    let seconds = step.num_seconds() < 60;
    for t in ticks(start, end, step) {
        let tx = x(t);
        let _ = write!(
            s,
            r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{bottom}" y2="{}" stroke="#333"/><text x="{tx:.1}" y="{}" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 17.0,
            t.format(if seconds { "%H:%M:%S" } else { "%H:%M" })
        );
    }
    let _ = write!(s, r#"<text x="10" y="{}">UTC</text>"#, bottom + 17.0);
    // The legend: what each colour and line means.
    let mut lx = 10.0;
    let ly = bottom + 40.0;
    let mut entries: Vec<(String, &str)> = vec![
        ("open".into(), OPEN),
        ("monitoring".into(), MONITORING),
        ("run succeeded".into(), SUCCEEDED),
        ("run failed".into(), FAILED),
        ("run cancelled or expired".into(), STOPPED),
        ("run in progress".into(), LIVE),
    ];
    if i.acked_at.is_some() {
        entries.push(("acknowledged (dashed)".into(), "#333"));
    }
    for (label, color) in &entries {
        let _ = write!(
            s,
            r#"<rect x="{lx:.1}" y="{}" width="12" height="12" fill="{color}"/><text x="{:.1}" y="{}">{}</text>"#,
            ly - 10.0,
            lx + 16.0,
            ly,
            esc(label)
        );
        lx += 16.0 + CHAR * label.chars().count() as f64 + 14.0;
    }
    if let Some(note) = rto_note {
        let _ = write!(
            s,
            r#"<text x="10" y="{}" fill="{FAILED}">{}</text>"#,
            ly + 22.0,
            esc(&note)
        );
    } else if r.rto.is_some() {
        let _ = write!(
            s,
            r#"<text x="10" y="{}" fill="{FAILED}">Red line: the RTO</text>"#,
            ly + 22.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    /// Issue 12: a 3-minute incident with a 2 h RTO (seed 004's API component) was a
    /// 19 px sliver; its run label was cut; a monitoring phase was drawn for an
    /// incident resolved directly; the last tick's label was clipped.
    #[test]
    fn a_short_incident_fills_the_chart_with_full_labels_and_only_real_phases() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T20:00:34Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut incident = sample::incident(t0);
        incident.mitigated_at = Some(t0 + Duration::minutes(3));
        incident.resolved_at = incident.mitigated_at;
        incident.acked_at = Some(t0);
        let mut run = sample::run(t0);
        run.command = "kanban-selective-off-with-a-long-name".into();
        run.started_at = Some(t0 + Duration::seconds(10));
        run.finished_at = Some(t0 + Duration::minutes(2));
        let report = Report {
            incident,
            timeline: vec![],
            messages: vec![],
            runs: vec![(run, vec![], vec![])],
            roles: vec![],
            actions: vec![],
            ratifications: vec![],
            names: Default::default(),
            rto: Some(std::time::Duration::from_secs(7200)),
            now: t0 + Duration::minutes(10),
        };
        let svg = timeline_svg(&report);
        assert!(
            svg.contains(">RUN-1 /kanban-selective-off-with-a-long-name</text>"),
            "{svg}"
        );
        assert!(!svg.contains("<title>monitoring"), "{svg}");
        assert!(svg.contains("past the end of this chart"), "{svg}");
        let width = |svg: &str, title: &str| -> f64 {
            let at = svg.find(&format!("<title>{title}")).unwrap();
            let rect = &svg[svg[..at].rfind("<rect").unwrap()..at];
            let w = rect.split("width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        };
        assert!(width(&svg, "RUN-1") > 300.0, "{svg}");
        for label in [
            "open",
            "monitoring",
            "run succeeded",
            "run failed",
            "acknowledged",
        ] {
            assert!(
                svg.contains(&format!(">{label}")),
                "legend lacks {label}: {svg}"
            );
        }
        // Every tick label fits: centred, at most 4 characters of 7.2 px each side.
        for part in svg.split("text-anchor=\"middle\">").skip(1) {
            let _ = part;
        }
        for x in svg
            .split("<text x=\"")
            .skip(1)
            .filter_map(|t| t.split('"').next()?.parse::<f64>().ok())
        {
            assert!(x <= WIDTH - 30.0, "a label starts at {x}: {svg}");
        }
        let ticks: Vec<&str> = svg
            .split("text-anchor=\"middle\">")
            .skip(1)
            .filter_map(|t| t.split('<').next())
            .filter(|t| t.contains(':'))
            .collect();
        assert!(
            ticks
                .iter()
                .all(|t| t.ends_with(":00") || t.ends_with(":30")),
            "{ticks:?}"
        );
    }

    #[test]
    fn ticks_are_round_and_at_most_eight() {
        let at = |h, m, s| {
            DateTime::parse_from_rfc3339(&format!("2026-12-01T{h:02}:{m:02}:{s:02}Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let from = at(20, 0, 34);
        let to = at(20, 3, 10);
        let step = tick_step(to - from);
        assert_eq!(step, Duration::seconds(30));
        let t: Vec<String> = ticks(from, to, step)
            .iter()
            .map(|t| t.format("%H:%M:%S").to_string())
            .collect();
        assert_eq!(
            t,
            ["20:01:00", "20:01:30", "20:02:00", "20:02:30", "20:03:00"]
        );
        let long = tick_step(at(23, 0, 0) - at(20, 0, 0));
        assert_eq!(long, Duration::minutes(30));
        assert!(ticks(at(20, 0, 0), at(23, 0, 0), long).len() <= 8);
    }
}
