//! Rendering: the seeds' communication templates (minijinja files in `templates/`)
//! filled from the incident, the run and the timeline, plus the bot's own messages
//! (progress, approval requests).
//!
//! Every value printed by a template is escaped unless the template marks it safe, so
//! user text cannot mention `@channel` or break the formatting.

pub mod escape;
pub mod sample;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::value::Value as JValue;
use minijinja::Environment;
use serde_json::{json, Value};

use crate::model::incident::{kind, Incident, TimelineEvent};
use crate::model::run::{display_id, Run, StepRecord};

/// Top-level names every template may use. `args.X` and `vars.X` are checked per command.
pub const CONTEXT_ROOTS: &[&str] = &[
    "incident",
    "run",
    "steps",
    "timeline",
    "full_timeline",
    "args",
    "vars",
    "now",
    "today",
    "approvals",
    "failed_step",
    "stakeholder_channel",
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{0}` does not exist")]
    Missing(String),
    #[error("template `{name}`: {message}")]
    Template {
        name: String,
        message: String,
        /// Where in the template, when minijinja knows.
        line: Option<usize>,
    },
    #[error("cannot read templates in {0}: {1}")]
    Io(String, std::io::Error),
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Loads every `*.j2` file under `dir`, named by its path relative to `dir`.
    pub fn load(dir: &Path) -> Result<(Renderer, Vec<(String, RenderError)>), RenderError> {
        let mut env = Environment::new();
        env.set_formatter(|out, _state, value| {
            if value.is_undefined() || value.is_none() {
                return Ok(());
            }
            let text = value.to_string();
            let text = if value.is_safe() {
                text
            } else {
                escape::markdown(&text)
            };
            out.write_str(&text).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed")
            })
        });
        env.add_filter("tbd", tbd);
        let mut broken = Vec::new();
        let mut files = Vec::new();
        collect(dir, dir, &mut files).map_err(|e| RenderError::Io(dir.display().to_string(), e))?;
        files.sort();
        for (name, path) in files {
            let source = std::fs::read_to_string(&path)
                .map_err(|e| RenderError::Io(path.display().to_string(), e))?;
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                broken.push((
                    name.clone(),
                    RenderError::Template {
                        name,
                        message: in_words(&e),
                        line: e.line(),
                    },
                ));
            }
        }
        Ok((Renderer { env }, broken))
    }

    /// Every template's name.
    pub fn names(&self) -> Vec<String> {
        self.env.templates().map(|(n, _)| n.to_string()).collect()
    }

    /// A template's source text.
    pub fn source(&self, name: &str) -> Option<String> {
        self.env
            .get_template(name)
            .ok()
            .map(|t| t.source().to_string())
    }

    pub fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|_| RenderError::Missing(name.into()))?;
        let text = tmpl
            .render(JValue::from_serialize(ctx))
            .map_err(|e| RenderError::Template {
                name: name.into(),
                message: in_words(&e),
                line: e.line(),
            })?;
        Ok(without_unfilled(&text).trim().to_string())
    }

    /// Variables a template reads that it does not define itself, e.g. `args.reason`.
    pub fn variables(&self, name: &str) -> Result<BTreeSet<String>, RenderError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|_| RenderError::Missing(name.into()))?;
        Ok(tmpl.undeclared_variables(true).into_iter().collect())
    }
}

/// A minijinja error as one line: what is wrong, without the "(in file:line)" that
/// `warroom check` already prints in front.
fn in_words(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Marks a value warroom could not fill; a line holding it is left out of the post.
const UNFILLED: &str = "\u{E000}";

/// `{{ args.affected_users | tbd("affected users") }}`: the value, or, when there is
/// none, a mark that leaves the whole line out of the post (issue 12: no placeholder
/// ever reaches a reader). The label documents the field for template authors.
fn tbd(value: JValue, label: Option<String>) -> JValue {
    let empty = value.is_undefined() || value.is_none() || value.to_string().trim().is_empty();
    let _ = label;
    if empty {
        JValue::from_safe_string(UNFILLED.to_string())
    } else {
        value
    }
}

/// The rendered text without the lines that hold an unfilled value.
fn without_unfilled(text: &str) -> String {
    if !text.contains(UNFILLED) {
        return text.to_string();
    }
    text.lines()
        .filter(|l| !l.contains(UNFILLED))
        .collect::<Vec<_>>()
        .join("\n")
}

fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "j2") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, path));
        }
    }
    Ok(())
}

/// `HH:MM` in UTC, the seeds' timeline format.
pub fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// `850 ms`, `42 s`, `3 min 5 s`, `1 h 12 min`.
pub fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 if s % 60 == 0 => format!("{} min", s / 60),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ if (s % 3600) / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// "less than a minute", "1 minute", "42 minutes" (issue 12: "1 minutes").
pub fn minutes(n: i64) -> String {
    match n {
        i64::MIN..=0 => "less than a minute".into(),
        1 => "1 minute".into(),
        n => format!("{n} minutes"),
    }
}

/// Everything a template can read.
pub struct Context<'a> {
    pub incident: &'a Incident,
    pub run: Option<&'a Run>,
    pub steps: &'a [StepRecord],
    pub timeline: &'a [TimelineEvent],
    pub vars: &'a BTreeMap<String, String>,
    /// The command's arguments (a run's, or those a built-in supplies).
    pub args: &'a Value,
    /// (user, role, when) of each approval.
    pub approvals: &'a [(String, String, DateTime<Utc>)],
    /// The resolution time from the incident's RTO (`incident.eta`), when it has one.
    pub eta: Option<String>,
    pub stakeholder_channel: &'a str,
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    pub fn to_value(&self) -> Value {
        let i = self.incident;
        let end = i.resolved_at.unwrap_or(self.now);
        let elapsed_min = (end - i.detected_at).num_minutes();
        let event = |e: &TimelineEvent| json!({ "time": hhmm(e.at), "text": e.text, "kind": e.kind, "actor": e.actor });
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "name": s.name, "state": s.state.as_str(), "icon": s.state.icon(),
                    "phase": s.phase, "output": s.output,
                    "duration": s.duration_ms().map(human_duration),
                })
            })
            .collect();
        let failed = self
            .steps
            .iter()
            .find(|s| s.state == crate::model::run::StepState::Failed)
            .map(|s| json!({ "name": s.name, "output": s.output }));
        // What the run changed: the first step that reports "N rows affected".
        let rows_affected = self.steps.iter().find_map(|s| {
            let out = s.output.as_deref()?;
            let (n, rest) = out.split_once(' ')?;
            (rest.starts_with("row") && rest.contains("affected"))
                .then(|| n.parse::<i64>().ok())
                .flatten()
        });
        let run = self.run.map(|r| {
            let duration_ms = r
                .started_at
                .map(|s| (r.finished_at.unwrap_or(self.now) - s).num_milliseconds());
            json!({
                "id": display_id(r.id), "command": r.command, "state": r.state.as_str(),
                "requested_by": r.requested_by.id, "dry_run": r.dry_run,
                "started_at": r.started_at.map(hhmm), "finished_at": r.finished_at.map(hhmm),
                "duration": duration_ms.map(human_duration),
                "rows_affected": rows_affected,
            })
        });
        let args = self.args.clone();
        json!({
            "incident": {
                "id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
                "channel": i.channel, "commander": i.commander,
                "detected_at": hhmm(i.detected_at), "declared_at": hhmm(i.declared_at),
                "mitigated_at": i.mitigated_at.map(hhmm), "resolved_at": i.resolved_at.map(hhmm),
                "started": i.detected_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                "elapsed_minutes": elapsed_min,
                "elapsed": minutes(elapsed_min),
                "impact": i.impact, "acked_by": i.acked_by, "eta": self.eta,
            },
            "run": run,
            "steps": steps,
            "failed_step": failed,
            "timeline": self.timeline.iter().filter(|e| kind::is_headline(&e.kind)).map(event).collect::<Vec<_>>(),
            "full_timeline": self.timeline.iter().map(event).collect::<Vec<_>>(),
            "args": args,
            "vars": self.vars,
            "approvals": self.approvals.iter().map(|(u, r, t)| json!({"user": u, "role": r, "time": hhmm(*t)})).collect::<Vec<_>>(),
            "stakeholder_channel": self.stakeholder_channel,
            "now": hhmm(self.now),
            "today": self.now.format("%Y-%m-%d").to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(files: &[(&str, &str)]) -> Renderer {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        let (r, broken) = Renderer::load(dir.path()).unwrap();
        assert!(broken.is_empty());
        r
    }

    #[test]
    fn values_are_escaped_but_template_text_is_not() {
        let r = renderer(&[("t.md.j2", "**Issue:** {{ args.reason }}")]);
        let out = r
            .render(
                "t.md.j2",
                &json!({"args": {"reason": "@channel *now* <!here>"}}),
            )
            .unwrap();
        assert!(out.starts_with("**Issue:** "));
        assert!(!out.contains("@channel") && !out.contains("<!here>"));
        assert!(out.contains("\\*now\\*"));
    }

    /// Issue 12: "[to be filled: ...]" reached stakeholders on every RESOLVED post.
    #[test]
    fn a_field_nobody_filled_leaves_its_line_out() {
        let r = renderer(&[(
            "t.md.j2",
            "Issue: x\nAffected: {{ args.users | tbd(\"affected users\") }}\nNext: y",
        )]);
        assert_eq!(
            r.render("t.md.j2", &json!({"args": {}})).unwrap(),
            "Issue: x\nNext: y"
        );
        assert_eq!(
            r.render("t.md.j2", &json!({"args": {"users": "1200"}}))
                .unwrap(),
            "Issue: x\nAffected: 1200\nNext: y"
        );
    }

    #[test]
    fn variables_are_listed_with_their_path() {
        let r = renderer(&[(
            "t.md.j2",
            "{{ vars.issue }} {% for e in timeline %}{{ e.time }}{% endfor %}",
        )]);
        let vars = r.variables("t.md.j2").unwrap();
        assert!(vars.contains("vars.issue"), "{vars:?}");
        assert!(vars.contains("timeline"), "{vars:?}");
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        let table = [
            (0, "0 ms"),
            (850, "850 ms"),
            (42_000, "42 s"),
            (180_000, "3 min"),
            (185_000, "3 min 5 s"),
            (3_600_000, "1 h"),
            (4_320_000, "1 h 12 min"),
        ];
        for (ms, want) in table {
            assert_eq!(human_duration(ms), want);
        }
    }
}
