//! The post-mortem as Markdown: seed 001's lessons-learned template and seed 002's
//! incident report, filled with what was recorded.

use std::fmt::Write;

use super::{Entry, Report};
use crate::model::run::display_id;
use crate::render::{escape, hhmm, human_duration};

/// Recorded text (anyone in the channel may have written it) as one table cell or
/// list item: on one line, escaped so it can neither format, link, open a heading
/// or code block, embed HTML, mention, nor reorder the text around it.
fn cell(s: &str) -> String {
    escape::markdown(s)
}

pub fn render(r: &Report, chart: Option<&str>) -> String {
    let i = &r.incident;
    let mut md = String::with_capacity(256 + 96 * (r.timeline.len() + r.messages.len()));
    let _ = writeln!(
        md,
        "# Incident Post-Mortem: {} — {}\n",
        i.id,
        cell(&i.title)
    );
    let _ = writeln!(md, "**Incident ID:** {}  ", i.id);
    let _ = writeln!(md, "**Date:** {}  ", i.detected_at.format("%Y-%m-%d"));
    let _ = writeln!(md, "**Severity:** {}  ", i.severity);
    let _ = writeln!(md, "**Status:** {}  ", i.status);
    let _ = writeln!(
        md,
        "**Commander:** {}  ",
        i.commander.as_deref().unwrap_or("[to be filled]")
    );
    let _ = writeln!(
        md,
        "**Affected Users / Impact:** {}\n",
        i.impact
            .as_deref()
            .map_or("[to be filled]".to_string(), cell)
    );

    md.push_str("## Summary\n\n");
    let succeeded: Vec<String> = r
        .runs
        .iter()
        .filter(|(run, _, _)| run.state == crate::model::run::RunState::Succeeded)
        .map(|(run, _, _)| format!("`/{}`", run.command))
        .collect();
    let _ = writeln!(
        md,
        "{} ({}) was detected at {} UTC{}.{}\n",
        cell(&i.title),
        i.severity,
        hhmm(i.detected_at),
        i.resolved_at
            .map_or(String::from(" and is not resolved yet"), |t| format!(
                " and resolved at {} UTC",
                hhmm(t)
            )),
        if succeeded.is_empty() {
            String::new()
        } else {
            format!(" Runbooks run: {}.", succeeded.join(", "))
        }
    );

    md.push_str("## Durations\n\n| Measure | Time | Against the RTO |\n|---|---|---|\n");
    let rto_ms = r.rto.map(|d| d.as_millis() as i64);
    let row = |md: &mut String, name: &str, at: Option<chrono::DateTime<chrono::Utc>>| {
        let Some(at) = at else {
            let _ = writeln!(md, "| {name} | — | |");
            return;
        };
        let ms = (at - i.detected_at).num_milliseconds();
        // The RTO the incident ran on: its component's when it names one.
        let which = crate::incident::clock::rto_name(i);
        let verdict = match rto_ms {
            Some(rto) if ms <= rto => {
                format!("within {which} of {}", human_duration(rto))
            }
            Some(rto) => format!(
                "**exceeded** {which} of {} by {}",
                human_duration(rto),
                human_duration(ms - rto)
            ),
            None => String::new(),
        };
        let _ = writeln!(md, "| {name} | {} | {verdict} |", human_duration(ms));
    };
    row(&mut md, "Time to acknowledge", i.acked_at);
    row(&mut md, "Time to mitigate", i.mitigated_at);
    row(&mut md, "Time to resolve", i.resolved_at);
    md.push('\n');

    if !r.roles.is_empty() {
        md.push_str("## Response team\n\n");
        for (role, user) in &r.roles {
            let _ = writeln!(md, "- {role}: {user}");
        }
        md.push('\n');
    }

    let people = r.people();
    if !people.is_empty() {
        md.push_str("## People\n\n");
        for (id, name) in people {
            let _ = writeln!(
                md,
                "- {id}: {}",
                name.map_or("(name not known)".into(), cell)
            );
        }
        md.push('\n');
    }

    md.push_str("## Timeline (UTC)\n\n");
    if let Some(chart) = chart {
        let _ = writeln!(md, "![Timeline of {}]({chart})\n", i.id);
    }
    for e in r.merged() {
        match e {
            Entry::Event(e) => {
                let _ = writeln!(md, "- {} - {}", e.at.format("%H:%M:%S"), cell(&e.text));
            }
            Entry::Message(m) => {
                let _ = writeln!(
                    md,
                    "- {} - 💬 {}: {}",
                    m.at.format("%H:%M:%S"),
                    cell(&m.user_id),
                    cell(&m.text)
                );
            }
        }
    }
    md.push('\n');

    md.push_str("## Runbooks run\n");
    if r.runs.is_empty() {
        md.push_str("\nNone.\n");
    }
    for (run, steps, votes) in &r.runs {
        let took = run
            .started_at
            .zip(run.finished_at)
            .map(|(s, f)| format!(", took {}", human_duration((f - s).num_milliseconds())))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "\n### {} `/{}` — {}{took}\n",
            display_id(run.id),
            run.command,
            run.state.as_str()
        );
        let _ = writeln!(
            md,
            "- Requested by {} at {} UTC",
            run.requested_by.id,
            hhmm(run.created_at)
        );
        for (v, role, at) in votes {
            let _ = writeln!(
                md,
                "- {} by {} ({role}) at {} UTC",
                if v.approve { "Approved" } else { "Denied" },
                v.user.id,
                hhmm(*at)
            );
        }
        if let Some((rat, ratified)) = r.ratifications.iter().find(|(x, _)| x.run_id == run.id) {
            let verdict = match rat.state.as_str() {
                "ratified" => format!(
                    "ratified at {} UTC",
                    rat.decided_at.map(hhmm).unwrap_or_default()
                ),
                "unratified" => format!("**NOT RATIFIED** by {} UTC; escalated", hhmm(rat.due_at)),
                _ => format!("awaiting ratification by {} UTC", hhmm(rat.due_at)),
            };
            let _ = writeln!(
                md,
                "- ⚡ Break-glass: ran on {}'s word, without waiting for approval; {verdict}",
                run.requested_by.id
            );
            for (v, role, at) in ratified {
                let _ = writeln!(
                    md,
                    "- Ratified by {} ({role}) at {} UTC",
                    v.user.id,
                    hhmm(*at)
                );
            }
        }
        md.push_str("\n| # | Step | Outcome | Duration | Output |\n|---|------|---------|----------|--------|\n");
        for s in steps {
            let dur = s.duration_ms().map(human_duration).unwrap_or_default();
            let out: String = s
                .output
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {dur} | {} |",
                s.idx + 1,
                cell(&s.name),
                s.state.as_str(),
                cell(&out)
            );
        }
    }

    md.push_str(
        "\n## Root Cause\n\n[to be filled: technical explanation of what caused the failure]\n\n",
    );
    retrospective(&mut md, r);
    md.push_str("## What Went Well\n\n- [to be filled]\n\n## What Could Be Improved\n\n- [to be filled]\n\n");
    md.push_str("## Action Items\n\n");
    if r.actions.is_empty() {
        md.push_str("- [ ] [Action] - Owner: [Name] - Due: [Date]\n");
    }
    for a in &r.actions {
        let _ = writeln!(
            md,
            "- [ ] {} - Owner: {} - Due: {}",
            cell(&a.text),
            a.owner.as_deref().unwrap_or("[Name]"),
            a.due.as_deref().unwrap_or("[Date]")
        );
    }
    md
}

/// Seed 002's "Document in Incident Report" fields (Root Cause, Impact, Actions
/// Taken) and its template's Resolution: what warroom knows is filled, the rest is
/// left for the author, field by field.
fn retrospective(md: &mut String, r: &Report) {
    let i = &r.incident;
    let fill = "[to be filled]";
    md.push_str(&format!(
        "- What broke: {fill}\n- Why it broke: {fill}\n- Why it wasn't caught in staging: {fill}\n\n"
    ));
    let downtime = i
        .mitigated_at
        .or(i.resolved_at)
        .map_or("not mitigated yet".to_string(), |t| {
            crate::render::human_duration((t - i.detected_at).num_milliseconds())
        });
    let _ = writeln!(
        md,
        "## Impact\n\n- Users affected: {}\n- Downtime: {downtime} (detection to mitigation)\n- Transactions lost: {fill}\n- Data corrupted: {fill}\n- Revenue impact: {fill}\n- Data loss: [to be filled: Yes / No - details]\n",
        i.impact.as_deref().map_or(fill.to_string(), cell)
    );
    let ran: Vec<&str> = r
        .runs
        .iter()
        .filter(|(run, _, _)| run.state == crate::model::run::RunState::Succeeded)
        .map(|(run, _, _)| run.command.as_str())
        .collect();
    let kind = ran
        .iter()
        .filter_map(|c| c.strip_prefix("rollback "))
        .map(|sub| sub.split(' ').next().unwrap_or(sub))
        .collect::<Vec<_>>();
    let yes_if = |words: &[&str]| {
        if ran.iter().any(|c| words.iter().any(|w| c.contains(w))) {
            "Yes".to_string()
        } else {
            "[to be filled: Yes / No]".to_string()
        }
    };
    let _ = writeln!(
        md,
        "## Actions Taken\n\n- Rollback type: {}\n- Database rollback: {}\n- Data restoration: {}\n- Customer notification: [to be filled: Yes / No]\n",
        if kind.is_empty() {
            "[to be filled: Quick / Full / Partial]".to_string()
        } else {
            kind.join(", ")
        },
        yes_if(&["db-", "migration", "rollback full"]),
        yes_if(&["restore"]),
    );
    md.push_str("## Resolution\n\n");
    if ran.is_empty() {
        let _ = writeln!(md, "{fill}: steps taken to resolve the incident.");
    }
    for c in &ran {
        let _ = writeln!(md, "- `/{c}` (see Runbooks run)");
    }
    md.push_str("\n## Lessons Learned\n\n- What worked well: see What Went Well\n- What needs improvement: see What Could Be Improved\n- Action items: see Action Items\n\n");
}
