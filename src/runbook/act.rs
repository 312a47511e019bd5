//! One step's action: rendering it for a dry run or an approver, and carrying it out.
//! The engine decides *when* a step runs; this module decides *what* running it means.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::actions::placeholder::Scope;
use crate::actions::{self, expect, http, redis, shell, sql, ActionError, ActionOutput, Param};
use crate::chat::{Post, PostKind};
use crate::command::spec::CommandSpec;
use crate::model::duration::parse_duration;
use crate::model::run::Run;
use crate::render::human_duration;
use crate::runbook::step::{Action, StepSpec, WaitSpec};
use crate::services::Services;

/// Value of a SQL parameter source for this run (or for a dry run, without one).
pub fn param(source: &str, spec: &CommandSpec, args: &Value, run: Option<&Run>) -> Param {
    if let Some(var) = source.strip_prefix("vars.") {
        return spec
            .file
            .vars
            .get(var)
            .map_or(Param::Null, |v| Param::Text(v.clone()));
    }
    match source {
        "incident.id" => run.map_or(Param::Text("(new incident)".into()), |r| {
            Param::Text(r.incident_id.clone())
        }),
        "run.id" => run.map_or(Param::Null, |r| Param::Int(r.id)),
        "run.requested_by" => run.map_or(Param::Null, |r| Param::Text(r.requested_by.id.clone())),
        s => match s.strip_prefix("args.").and_then(|name| args.get(name)) {
            Some(Value::String(t)) => Param::Text(t.clone()),
            Some(Value::Number(n)) => n.as_i64().map_or(Param::Null, Param::Int),
            Some(Value::Bool(b)) => Param::Bool(*b),
            _ => Param::Null,
        },
    }
}

/// The placeholders' values for a step of this run. `vars` are the command's with a
/// drill's laid over them (`drill::vars`).
pub fn scope<'a>(
    vars: &'a std::collections::BTreeMap<String, String>,
    args: &'a Value,
    run: Option<&'a Run>,
) -> Scope<'a> {
    Scope {
        args,
        vars,
        incident_id: run.map(|r| r.incident_id.as_str()),
        run_id: run.map(|r| r.id),
        requested_by: run.map(|r| r.requested_by.id.as_str()),
        // A run's `{now:...}` is when it was requested: what its approvers read is
        // what it runs, however long the approval took.
        now: run.map_or_else(Utc::now, |r| r.created_at),
    }
}

/// The step's time limit: its own timeout (else the default), plus a poll's whole
/// window or the wait this run's arguments ask for (a `settle=5s` wait is not
/// given a day's lease).
pub fn timeout(svc: &Services, step: &StepSpec, args: &Value) -> Duration {
    let own = step
        .timeout
        .as_deref()
        .or(Some(svc.settings.file.warroom.step_timeout.as_str()))
        .and_then(parse_duration)
        .unwrap_or(Duration::from_secs(60));
    limit(own, step, args)
}

fn limit(own: Duration, step: &StepSpec, args: &Value) -> Duration {
    let waits = match step.action() {
        Ok(Action::Wait(w)) => wait_duration(w, args).or_else(|| wait_duration_spec(w)),
        _ => step
            .watch
            .as_ref()
            .and_then(|w| super::watch::span(w, args)),
    };
    match step
        .poll
        .as_ref()
        .and_then(|p| parse_duration(&p.within))
        .or(waits)
    {
        Some(longest) => longest + own,
        None => own,
    }
}

/// A wait's fixed duration, or the longest its argument allows (a day).
fn wait_duration_spec(w: &WaitSpec) -> Option<Duration> {
    match &w.duration {
        Some(d) if w.duration_arg.is_none() => parse_duration(d),
        _ => Some(Duration::from_secs(24 * 3600)),
    }
}

pub fn wait_duration(w: &WaitSpec, args: &Value) -> Option<Duration> {
    match (&w.duration, &w.duration_arg) {
        (_, Some(arg)) => args
            .get(arg)
            .and_then(Value::as_u64)
            .map(Duration::from_millis),
        (Some(d), None) => parse_duration(d),
        (None, None) => None,
    }
}

/// A target's drill twin when these are a drill's arguments (for showing; running
/// goes through `drill::target`, which refuses a missing twin).
fn twin<'a>(svc: &'a Services, args: &Value, name: &'a str) -> &'a str {
    args.get(super::drill::DRILL_ARG)
        .and_then(Value::as_str)
        .and_then(|d| svc.settings.file.drills.get(d))
        .and_then(|d| d.twin(name))
        .unwrap_or(name)
}

/// Why an `optional` step cannot run here, if it cannot: its target (a drill's
/// twin) is not configured, or its program is not on the children's PATH (seed 001's
/// `pm2 logs` check on a host without pm2, such as the demo).
pub fn unavailable(svc: &Services, step: &StepSpec, args: &Value) -> Option<String> {
    let reachable = step.target().is_none_or(|t| {
        let t = twin(svc, args, t);
        svc.targets.has(t) || svc.targets.sql_urls.contains_key(t)
    });
    if !reachable {
        return Some("skipped: target not configured".into());
    }
    match step.action() {
        Ok(Action::Shell(s)) if s.pg_env.is_none() => s
            .argv
            .first()
            .filter(|p| !on_path(p, &svc.settings.child_env))
            .map(|p| format!("skipped: `{p}` is not installed here")),
        _ => None,
    }
}

/// Whether a program name resolves on the children's PATH (a path is taken as found:
/// it may be relative to the step's directory).
fn on_path(program: &str, env: &crate::actions::shell::ChildEnv) -> bool {
    if program.contains('/') {
        return true;
    }
    env.vars
        .get("PATH")
        .map(|p| {
            p.split(':')
                .any(|dir| std::path::Path::new(dir).join(program).is_file())
        })
        .unwrap_or(false)
}

/// `Some(reason)` when `only_if` rules the step out for these arguments.
pub fn not_applicable(step: &StepSpec, args: &Value) -> Option<String> {
    step.only_if.iter().find_map(|(arg, want)| {
        let got = match args.get(arg) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        (got != *want).then(|| format!("not applicable: {arg} is not {want}"))
    })
}

/// Exactly what the step would do, with every value filled in.
pub fn describe(
    svc: &Services,
    spec: &CommandSpec,
    step: &StepSpec,
    args: &Value,
    run: Option<&Run>,
) -> String {
    let vars = super::drill::vars(svc, spec, args);
    let scope = scope(&vars, args, run);
    let mut body = match step.action() {
        Ok(Action::Sql(s)) => {
            let params: Vec<Param> = s.params.iter().map(|p| param(p, spec, args, run)).collect();
            let target = twin(svc, args, &s.target);
            let mut d = sql::describe(s, svc.targets.sql(target), &params);
            if target != s.target {
                d.push_str(&format!(
                    "
on the drill twin `{target}` (not `{}`)",
                    s.target
                ));
            }
            if !s.expect.is_empty() {
                let checks: Vec<String> = s
                    .expect
                    .iter()
                    .map(|(k, v)| format!("{k} {}", expect::show_expect(v)))
                    .collect();
                d.push_str(&format!("\nexpects: {}", checks.join(", ")));
            }
            if let Some(rows) = &s.expect_rows {
                d.push_str(&format!("\nexpects rows {rows}"));
            }
            d
        }
        Ok(Action::Http(h)) => http::describe(h, &scope),
        Ok(Action::Redis(r)) => redis::describe(r, &scope),
        Ok(Action::Shell(s)) => shell::describe(s, &scope),
        Ok(Action::Page(p)) => format!(
            "Page {}: {}",
            p.roles
                .iter()
                .map(|r| svc.catalog.matrix.title(r))
                .collect::<Vec<_>>()
                .join(", "),
            p.message
        ),
        Ok(Action::Confirm(c)) => {
            format!("Checkpoint: a person confirms \"{}\"", prompt(c, &scope))
        }
        Ok(Action::Post(p)) => format!(
            "Post `{}` to {}",
            p.template,
            p.channel.as_deref().unwrap_or("incident")
        ),
        Ok(Action::Wait(w)) => format!(
            "Wait {}",
            wait_duration(w, args).map_or("(no duration)".into(), |d| human_duration(
                d.as_millis() as i64
            ))
        ),
        Err(e) => e,
    };
    if let Some(t) = step.target() {
        let to = twin(svc, args, t);
        if to != t {
            body.push_str(&format!("\non the drill twin `{to}` (not `{t}`)"));
        }
    }
    if let Some(p) = &step.poll {
        body.push_str(&format!(
            "\nretried every {} until it holds, for at most {}",
            p.every, p.within
        ));
    }
    if let Some(w) = &step.watch {
        let span = super::watch::span(w, args).map_or("(no duration)".into(), |d| {
            human_duration(d.as_millis() as i64)
        });
        body.push_str(&format!(
            "\nchecked every {} for {span}: fails at the first check that does not hold",
            w.every
        ));
    }
    if !step.only_if.is_empty() {
        let conds: Vec<String> = step
            .only_if
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        body.push_str(&format!("\nonly if {}", conds.join(" and ")));
    }
    body
}

/// For a SQL step marked `preview`, how many rows it would change, measured inside
/// a transaction that is rolled back: "would delete 30 rows, then update 2 rows".
/// `None` for every other step.
pub async fn measure(
    svc: &Services,
    spec: &CommandSpec,
    step: &StepSpec,
    args: &Value,
    run: Option<&Run>,
) -> Option<String> {
    let Ok(Action::Sql(s)) = step.action() else {
        return None;
    };
    if !s.preview {
        return None;
    }
    // A drill measures on its twin, never on production.
    let Some(target) = svc.targets.sql(twin(svc, args, &s.target)) else {
        return Some("(not measured: target not configured)".into());
    };
    let params: Vec<Param> = s.params.iter().map(|p| param(p, spec, args, run)).collect();
    Some(match sql::preview(s, target, &params).await {
        Ok(counts) if counts.is_empty() => "changes no rows (it only reads)".into(),
        Ok(counts) => {
            let parts: Vec<String> = counts
                .iter()
                .map(|(verb, n)| {
                    let rows = if *n == 1 { "row" } else { "rows" };
                    format!("{verb} {n} {rows}")
                })
                .collect();
            format!(
                "would {} (measured just now in a transaction that was rolled back)",
                parts.join(", then ")
            )
        }
        Err(e) => format!("(could not measure: {e})"),
    })
}

/// A checkpoint's prompt with its placeholders filled (the backup about to be
/// restored, the version being deployed).
pub fn prompt(c: &crate::runbook::step::ConfirmSpec, scope: &Scope<'_>) -> String {
    crate::actions::placeholder::expand(
        &c.prompt,
        scope,
        crate::actions::placeholder::Encoding::Plain,
    )
    .unwrap_or_else(|_| c.prompt.clone())
}

/// Carries out the step once, or polls it, within the step's timeout.
pub async fn execute(
    svc: &Services,
    spec: &CommandSpec,
    step: &StepSpec,
    run: &Run,
) -> Result<ActionOutput, ActionError> {
    let limit = timeout(svc, step, &run.args);
    let work = async {
        if let Some(w) = &step.watch {
            let every = parse_duration(&w.every).unwrap_or(Duration::from_secs(60));
            let span = super::watch::span(w, &run.args).unwrap_or_default();
            return super::watch::hold(
                every,
                span,
                || once(svc, spec, step, run),
                tokio::time::sleep,
            )
            .await;
        }
        let Some(poll) = &step.poll else {
            return once(svc, spec, step, run).await;
        };
        let every = parse_duration(&poll.every).unwrap_or(Duration::from_secs(10));
        let within = parse_duration(&poll.within).unwrap_or(Duration::from_secs(300));
        let deadline = tokio::time::Instant::now() + within;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match once(svc, spec, step, run).await {
                Ok(mut out) => {
                    if attempts > 1 {
                        out.summary = format!("{} (after {attempts} attempts)", out.summary);
                    }
                    return Ok(out);
                }
                Err(e) if tokio::time::Instant::now() + every > deadline => {
                    return Err(ActionError::Failed(format!(
                        "still failing after {attempts} attempts over {}: {e}",
                        poll.within
                    )));
                }
                Err(_) => tokio::time::sleep(every).await,
            }
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(ActionError::Timeout(limit)),
    }
}

async fn once(
    svc: &Services,
    spec: &CommandSpec,
    step: &StepSpec,
    run: &Run,
) -> Result<ActionOutput, ActionError> {
    let vars = super::drill::vars(svc, spec, &run.args);
    let scope = scope(&vars, &run.args, Some(run));
    match step.action().map_err(ActionError::Failed)? {
        Action::Sql(s) => {
            let name = super::drill::target(svc, Some(run), &s.target)?;
            let target = svc
                .targets
                .sql(name)
                .ok_or_else(|| ActionError::NoTarget(name.to_string()))?;
            let params: Vec<Param> = s
                .params
                .iter()
                .map(|p| param(p, spec, &run.args, Some(run)))
                .collect();
            sql::run(s, target, &params).await
        }
        Action::Http(h) => {
            let name = super::drill::target(svc, Some(run), &h.target)?;
            let target = svc
                .targets
                .http
                .get(name)
                .ok_or_else(|| ActionError::NoTarget(name.to_string()))?;
            http::run(h, target, &scope).await
        }
        Action::Redis(r) => {
            let name = super::drill::target(svc, Some(run), &r.target)?;
            let target = svc
                .targets
                .redis
                .get(name)
                .ok_or_else(|| ActionError::NoTarget(name.to_string()))?;
            redis::run(r, target, &scope).await
        }
        Action::Shell(s) => {
            let pg = match &s.pg_env {
                Some(name) => {
                    let name = super::drill::target(svc, Some(run), name)?;
                    let url = svc
                        .targets
                        .sql_urls
                        .get(name)
                        .ok_or_else(|| ActionError::NoTarget(name.to_string()))?;
                    Some(
                        shell::pg_env_from_url(secrecy::ExposeSecret::expose_secret(url))
                            .map_err(ActionError::Failed)?,
                    )
                }
                None => None,
            };
            shell::run(
                s,
                &scope,
                &svc.settings.child_env,
                pg,
                timeout(svc, step, &run.args),
            )
            .await
        }
        Action::Wait(w) => {
            let d = wait_duration(w, &run.args)
                .ok_or_else(|| ActionError::Failed("wait has no duration".into()))?;
            tokio::time::sleep(d).await;
            Ok(ActionOutput {
                summary: format!("waited {}", human_duration(d.as_millis() as i64)),
                table: None,
            })
        }
        Action::Post(p) => {
            // A drill tells nobody outside its channel.
            let to_stakeholders =
                p.channel.as_deref() == Some("stakeholders") && !super::drill::is_drill(&run.args);
            let channel = match to_stakeholders {
                true => svc.settings.file.warroom.stakeholder_channel.clone(),
                false => run.channel.clone(),
            };
            let text = super::posts::render(svc, spec, run.id, &p.template)
                .await
                .map_err(|e| ActionError::Failed(e.to_string()))?;
            match (to_stakeholders, run.incident_id.as_str()) {
                // A step's announcement to stakeholders counts as an update (the
                // reminder clock is re-armed) and stands on its own.
                (true, incident) if !incident.is_empty() => {
                    crate::incident::stakeholders::announce(
                        svc,
                        incident,
                        PostKind::Template,
                        text,
                    )
                    .await
                    .map_err(|e| ActionError::Failed(e.to_string()))?;
                }
                _ => {
                    svc.send(&Post::new(&channel, PostKind::Template, text))
                        .await;
                }
            }
            Ok(ActionOutput {
                summary: format!("posted {} to {channel}", p.template),
                table: None,
            })
        }
        Action::Page(p) => {
            let titles: Vec<String> = p
                .roles
                .iter()
                .map(|r| svc.catalog.matrix.title(r))
                .collect();
            let mut post = Post::new(
                &run.channel,
                PostKind::Page,
                format!("📟 {} — {}", titles.join(", "), p.message),
            );
            // Not the person who asked for the run: they are already on it.
            post.mentions = p
                .roles
                .iter()
                .filter_map(|r| svc.catalog.matrix.roles.get(r))
                .flat_map(|r| r.members.iter().cloned())
                .filter(|m| *m != run.requested_by.id)
                .collect();
            post.mentions.dedup();
            // A drill pages nobody: it says whom the real run would page.
            if super::drill::is_drill(&run.args) {
                post.mentions.clear();
                post.kind = PostKind::Info;
                post.text = format!(
                    "🧪 drill: the real run would page {} — {}",
                    titles.join(", "),
                    p.message
                );
                svc.send(&post).await;
                return Ok(ActionOutput {
                    summary: format!("drill: would page {}", titles.join(", ")),
                    table: None,
                });
            }
            let n = post.mentions.len();
            svc.send(&post).await;
            Ok(ActionOutput {
                summary: format!("paged {} ({n} people)", titles.join(", ")),
                table: None,
            })
        }
        Action::Confirm(_) => Err(ActionError::Failed(
            "checkpoints are handled by the engine".into(),
        )),
    }
}

/// Cuts an action's output for the step record.
pub fn excerpt(s: &str) -> String {
    actions::truncate(s, actions::OUTPUT_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(toml_text: &str) -> StepSpec {
        toml::from_str(toml_text).expect("step parses")
    }

    #[test]
    fn a_waits_limit_is_what_this_run_asked_for_not_the_longest_allowed() {
        let own = Duration::from_secs(60);
        let settle = step("name = \"settle\"\n[wait]\nduration_arg = \"settle\"\n");
        let asked = serde_json::json!({ "settle": 5_000 });
        assert_eq!(limit(own, &settle, &asked), Duration::from_secs(65));
        // Without the argument (never, once bound), the longest it allows.
        assert_eq!(
            limit(own, &settle, &serde_json::json!({})),
            Duration::from_secs(24 * 3600 + 60)
        );
        let fixed = step("name = \"pause\"\n[wait]\nduration = \"2m\"\n");
        assert_eq!(
            limit(own, &fixed, &serde_json::json!({})),
            Duration::from_secs(180)
        );
        let watched = step(
            "name = \"holds?\"\n[watch]\nevery = \"10m\"\nfor = \"2h\"\n[http]\ntarget = \"api\"\npath = \"/health\"\n",
        );
        assert_eq!(
            limit(own, &watched, &serde_json::json!({})),
            own + Duration::from_secs(7200),
            "a watch's lease covers its whole window"
        );
        let polled = step(
            "name = \"up?\"\n[poll]\nevery = \"5s\"\nwithin = \"3m\"\n[http]\ntarget = \"api\"\npath = \"/health\"\n",
        );
        assert_eq!(
            limit(own, &polled, &serde_json::json!({})),
            Duration::from_secs(240)
        );
    }
}
