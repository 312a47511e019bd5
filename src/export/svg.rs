//! The timeline chart: the incident's phases and each run on one time axis, with the
//! RTO marked. Plain SVG, no scripts, every text escaped.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::Report;
use crate::model::run::{display_id, RunState};
use crate::render::hhmm;

const WIDTH: f64 = 960.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 20.0;
const ROW: f64 = 28.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn timeline_svg(r: &Report) -> String {
    let i = &r.incident;
    let start = i.detected_at;
    let mut end = i.resolved_at.unwrap_or(r.now);
    for (run, _, _) in &r.runs {
        end = end.max(run.finished_at.unwrap_or(end));
    }
    if let Some(rto) = r.rto {
        end = end.max(start + chrono::Duration::from_std(rto).unwrap_or_default());
    }
    let span = (end - start).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        LEFT + (WIDTH - LEFT - RIGHT) * ((t - start).num_milliseconds().max(0) as f64 / span)
    };
    let rows = 2 + r.runs.len();
    let height = 50.0 + ROW * rows as f64 + 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
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
    // The incident's phases: open until mitigated, then monitoring until resolved.
    let y = 40.0;
    let _ = write!(s, r#"<text x="10" y="{}">Incident</text>"#, y + 16.0);
    let mitigated = i.mitigated_at.unwrap_or(i.resolved_at.unwrap_or(r.now));
    let _ = write!(
        s,
        r##"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="#e4572e"><title>open {}–{}</title></rect>"##,
        x(start),
        (x(mitigated) - x(start)).max(1.0),
        hhmm(start),
        hhmm(mitigated)
    );
    if let Some(m) = i.mitigated_at {
        let until = i.resolved_at.unwrap_or(r.now);
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="#f3a712"><title>monitoring {}–{}</title></rect>"##,
            x(m),
            (x(until) - x(m)).max(1.0),
            hhmm(m),
            hhmm(until)
        );
    }
    if let Some(a) = i.acked_at {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{y}" y2="{1}" stroke="#333" stroke-dasharray="2,2"><title>acknowledged {2}</title></line>"##,
            x(a),
            y + 20.0,
            hhmm(a)
        );
    }
    // Runs, coloured by outcome.
    for (n, (run, _, _)) in r.runs.iter().enumerate() {
        let y = 40.0 + ROW * (n + 1) as f64;
        let from = run.started_at.unwrap_or(run.created_at);
        let to = run.finished_at.unwrap_or(r.now);
        let color = match run.state {
            RunState::Succeeded => "#29bf12",
            RunState::Failed | RunState::Interrupted => "#d00000",
            RunState::Cancelled | RunState::Expired => "#999999",
            _ => "#4d96ff",
        };
        let label = format!("{} /{}", display_id(run.id), run.command);
        let _ = write!(
            s,
            r#"<text x="10" y="{}">{}</text>"#,
            y + 16.0,
            esc(&label.chars().take(24).collect::<String>())
        );
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{y}" width="{:.1}" height="20" fill="{color}"><title>{} {} {}–{}</title></rect>"#,
            x(from),
            (x(to) - x(from)).max(2.0),
            esc(&label),
            run.state.as_str(),
            hhmm(from),
            hhmm(to)
        );
    }
    let bottom = 40.0 + ROW * rows as f64;
    if let Some(rto) = r.rto {
        let at = x(start + chrono::Duration::from_std(rto).unwrap_or_default());
        let _ = write!(
            s,
            r##"<line x1="{at:.1}" x2="{at:.1}" y1="34" y2="{bottom}" stroke="#d00000" stroke-width="2"/><text x="{:.1}" y="{}" fill="#d00000">RTO</text>"##,
            at + 3.0,
            bottom
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#333"/>"##,
        WIDTH - RIGHT
    );
    for k in 0..=4 {
        let t = start + chrono::Duration::milliseconds((span * k as f64 / 4.0) as i64);
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(t),
            bottom + 18.0,
            t.format("%H:%M:%S")
        );
    }
    s.push_str("</svg>");
    s
}
