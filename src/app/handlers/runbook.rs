//! Handling a runbook command: validate, authorize, open the incident, create the run,
//! then either ask for approvals or run it.

use chrono::Utc;

use super::run_ref;
use crate::app::{App, Handled, Incoming, Outcome};
use crate::authz::Refusal;
use crate::chat::{Post, PostKind};
use crate::command::parse::CommandLine;
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::incident::opening::{self, Opening};
use crate::model::duration::after;
use crate::model::incident::{kind, Incident};
use crate::model::run::{display_id, Phase, Run, RunState};
use crate::render::escape;
use crate::runbook::approval::{self, approval_post, members_of_titles};
use crate::runbook::drill::DRILL_ARG;
use crate::runbook::engine;
use crate::store::NewRun;

/// A runbook command that passed every check the matrix can make without state.
pub struct Prepared<'a> {
    pub line: CommandLine,
    pub spec: &'a CommandSpec,
    invocation: crate::command::spec::Invocation,
    plan: crate::authz::Plan,
    /// The drill this is a rehearsal of (`/drill NAME`): its targets are the twins.
    pub drill: Option<String>,
}

/// Binds the arguments and asks the matrix whether this user may request it. Pure:
/// platforms run it before they ack, so a typo or a refusal is the ack itself.
pub fn prepare<'a>(
    app: &App,
    msg: &Incoming,
    line: CommandLine,
    spec: &'a CommandSpec,
    rest: &[String],
) -> Result<Prepared<'a>, Failure> {
    let invocation = spec.bind(&line, rest).map_err(|e| {
        Failure::Invalid(format!(
            "{e}. Usage:\n{}\n(/help {} explains each argument.)",
            spec.usage(),
            spec.file.command.name
        ))
    })?;
    let what = format!("run /{}", spec.full_name());
    let plan = app
        .catalog
        .matrix
        .request(&spec.file.command.scenario, &msg.user)
        .map_err(|refusal| {
            let text = app.refusal_text(&refusal, &what);
            match refusal {
                Refusal::UnknownScenario(_) => Failure::Internal(text),
                _ => Failure::Denied(text),
            }
        })?;
    Ok(Prepared {
        line,
        spec,
        invocation,
        plan,
        drill: None,
    })
}

pub async fn run(app: &App, msg: &Incoming, prepared: Prepared<'_>) -> Result<Handled, Failure> {
    let Prepared {
        line,
        spec,
        invocation,
        plan,
        drill,
    } = prepared;
    let line = &line;
    let scenario = &spec.file.command.scenario;
    let mut args: serde_json::Map<String, serde_json::Value> = invocation
        .args
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    if let Some(d) = &drill {
        args.insert(DRILL_ARG.into(), d.clone().into());
    }
    let args = serde_json::Value::Object(args);
    if invocation.dry_run {
        let text = format!(
            "🧪 Dry run of /{} — nothing was changed.\n{}",
            spec.full_name(),
            engine::plan(app, spec, &args, None).await
        );
        app.send(&msg.private(Post::new(&msg.channel, PostKind::Info, text)))
            .await;
        return Ok(Handled::done());
    }

    // A drill's own check (every target's twin configured) ran before it got here.
    let missing = match drill {
        Some(_) => Vec::new(),
        None => app.missing_config(spec),
    };
    if !missing.is_empty() {
        return Err(Failure::Unavailable(format!(
            "/{} cannot run here: set {} for warroom and restart it. Nothing was run. \
             (`dry-run=true` still shows what it would do.)",
            spec.full_name(),
            missing.join(", ")
        )));
    }
    let incident = match &drill {
        Some(name) => open_drill_incident(app, msg, spec, name).await?,
        None => open_or_create_incident(app, msg, spec, &args).await?,
    };
    let now = Utc::now();
    let needs_approval = !plan.missing.is_empty();
    let steps: Vec<(Phase, String, &'static str)> = spec
        .file
        .steps
        .iter()
        .map(|s| (Phase::Main, s.name.clone(), s.kind()))
        .chain(
            spec.file
                .on_failure
                .iter()
                .map(|s| (Phase::OnFailure, s.name.clone(), s.kind())),
        )
        .collect();
    // A drill holds its own scope: it never blocks (or is superseded by) the real
    // command in production.
    let scope = match &drill {
        Some(name) => format!("drill:{name}:{}", spec.scope()),
        None => spec.scope(),
    };
    let full = spec.full_name();
    // An emergency stop the seed calls immediate runs now on its requester's word;
    // the approvers the matrix wants ratify it afterwards (runbook::breakglass).
    let break_glass = spec
        .file
        .command
        .break_glass
        .as_deref()
        .and_then(crate::model::duration::parse_duration)
        .filter(|_| needs_approval);
    let waits = needs_approval && break_glass.is_none();
    let new = NewRun {
        incident_id: &incident.id,
        command: &full,
        scope: &scope,
        scenario,
        args: &args,
        channel: &msg.channel,
        requested_by: &msg.user,
        state: if waits {
            RunState::AwaitingApproval
        } else {
            RunState::Running
        },
        dry_run: false,
        at: now,
        approval_expires_at: waits.then(|| after(now, plan.ttl)),
        steps,
    };
    expire_stale(app, &scope).await?;
    let run = match app.store.create_run(&new).await? {
        Ok(run) => run,
        Err(conflict) => {
            // A higher-severity command supersedes a lower-severity request that
            // only waits (for approval or at a checkpoint) in its scope.
            let retried = if super::supersede::supersede(app, msg, spec, &conflict.0).await? {
                app.store.create_run(&new).await?
            } else {
                Err(conflict)
            };
            match retried {
                Ok(run) => run,
                Err(conflict) => return Err(busy(&conflict.0)),
            }
        }
    };
    let shown_args = shown_args(line);
    app.event(
        &incident.id,
        kind::COMMAND,
        Some(&msg.user.id),
        &format!(
            "{} requested /{}{} as {}",
            msg.user.id,
            full,
            shown_args,
            display_id(run.id)
        ),
        Some(run.id),
        None,
    )
    .await?;
    if let Some(within) = break_glass {
        crate::runbook::breakglass::open(app, &run, &plan.missing, within).await?;
    }
    if waits {
        // The plan the approvers will read is the one their votes bind to.
        let mut run = run;
        let hash = approval::plan_hash(app, spec, &run);
        if app.store.set_run_plan(run.id, &run.plan, &hash).await? {
            run.plan = hash;
        }
        request_approval(app, spec, &run, &plan.missing).await?;
        return Ok(Handled {
            outcome: Outcome::Waiting,
            run_id: Some(run.id),
        });
    }
    run_ref::drive(app, run.id).await
}

/// Why a run cannot start: another holds its scope.
fn busy(live: &Run) -> Failure {
    let verb = if live.state == RunState::AwaitingApproval {
        "already waiting for approval"
    } else {
        "already running"
    };
    Failure::Invalid(format!(
        "/{} is {verb} as {}, started by {} at {} UTC. See it with /status; the requester can stop it with /cancel {}.",
        live.command,
        display_id(live.id),
        live.requested_by.id,
        crate::render::hhmm(live.created_at),
        display_id(live.id)
    ))
}

/// ` reason="..." top=5`, escaped, for the timeline and messages.
fn shown_args(line: &CommandLine) -> String {
    line.named
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", escape::inline_code(v)))
        .chain(
            line.positional
                .iter()
                .map(|p| format!(" {}", escape::inline_code(p))),
        )
        .collect()
}

/// Marks this scope's approval requests that outlived their window as expired, so a
/// fresh request is not refused by a dead one.
async fn expire_stale(app: &App, scope: &str) -> Result<(), Failure> {
    if let Some(live) = app.store.live_run(scope).await? {
        if live.state == RunState::AwaitingApproval
            && live.approval_expires_at.is_some_and(|t| t < Utc::now())
        {
            approval::expire(app, &live).await?;
        }
    }
    Ok(())
}

async fn open_or_create_incident(
    app: &App,
    msg: &Incoming,
    spec: &CommandSpec,
    args: &serde_json::Value,
) -> Result<Incident, Failure> {
    if let Some(open) = app.store.open_incident(&msg.channel).await? {
        return Ok(open);
    }
    let h = &spec.file.command;
    if !h.opens_incident {
        return Err(Failure::Invalid(format!(
            "/{} is for an open incident, and this channel has none: nothing ran. Type it in the incident's channel, or open one first with /incident declare P1 \"title\".",
            spec.full_name()
        )));
    }
    let title = h.title.clone().unwrap_or_else(|| h.help.clone());
    let severity = h.severity.clone().unwrap_or_else(|| "P2".into());
    let detected = format!(
        "Incident detected: {title} ({severity}), opened by /{}",
        spec.full_name()
    );
    let opening = Opening {
        title: &title,
        severity: &severity,
        channel: &msg.channel,
        by: &msg.user.id,
        impact: args.get("impact").and_then(serde_json::Value::as_str),
        component: h.component.as_deref(),
        detected: &detected,
        acknowledged: true,
    };
    let incident = opening::open(app, &opening).await?;
    crate::incident::clock::page_first_level(app, &incident).await?;
    crate::incident::stakeholders::alert(app, &incident, None).await?;
    Ok(incident)
}

/// A drill's incident: its own (never the channel's open one), titled as a drill,
/// with its RTO clock for the timings but no escalation pages, no update reminders
/// and no stakeholder alert.
async fn open_drill_incident(
    app: &App,
    msg: &Incoming,
    spec: &CommandSpec,
    name: &str,
) -> Result<Incident, Failure> {
    if let Some(open) = app.store.open_incident(&msg.channel).await? {
        return Err(Failure::Invalid(format!(
            "{} is open in this channel: a drill runs in a channel of its own, so its posts never mix with a real incident's. Nothing ran.",
            open.id
        )));
    }
    let h = &spec.file.command;
    let title = format!(
        "DRILL {name}: {}",
        h.title.clone().unwrap_or_else(|| h.help.clone())
    );
    let severity = h.severity.clone().unwrap_or_else(|| "P2".into());
    let detected = format!(
        "Drill started: /drill {name} rehearses /{}",
        spec.full_name()
    );
    let opening = Opening {
        title: &title,
        severity: &severity,
        channel: &msg.channel,
        by: &msg.user.id,
        impact: Some("none: a drill against the drill targets"),
        component: h.component.as_deref(),
        detected: &detected,
        acknowledged: true,
    };
    let incident = opening::open(app, &opening).await?;
    for timers in ["escalate:", "respond", "update"] {
        app.store.cancel_timers(&incident.id, timers).await?;
    }
    Ok(incident)
}

async fn request_approval(
    app: &App,
    spec: &CommandSpec,
    run: &Run,
    missing: &[String],
) -> Result<(), Failure> {
    let mut post = approval_post(app, spec, run, missing, &[]).await;
    post.mentions = members_of_titles(app, missing);
    if let Some(r) = app.send(&post).await {
        app.store.set_progress_ref(run.id, &r.encode()).await?;
    }
    Ok(())
}
