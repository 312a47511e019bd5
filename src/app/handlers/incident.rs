//! `/incident declare|status|severity|state|update|resolve|role|contacts`: the incident's
//! lifecycle. These, `/note` and friends (`notes`) and the checklists need a role of
//! the matrix's `incident-management` scenario; everything they do lands on the
//! timeline.

use chrono::Utc;

use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::command::parse::CommandLine;
use crate::failure::Failure;
use crate::incident::opening::{self, Opening};
use crate::incident::{clock, stakeholders};
use crate::model::incident::{kind, Incident, RESPONSE_ROLES, SEVERITIES, STATUSES};
use crate::render::escape::{inline_code, markdown};
use crate::render::{hhmm, human_duration};
use crate::store::IncidentField;

const SCENARIO: &str = "incident-management";
const USAGE: &str =
    "/incident declare P1 \"title\" [impact=\"...\"] | status | severity P0 | state identified | \
update \"...\" | resolve [\"summary\"] | role commander @user | contacts";

/// `/incident SUBCOMMAND ...`.
pub async fn dispatch(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let sub = line.positional.first().map(|s| s.to_ascii_lowercase());
    match sub.as_deref() {
        Some("declare") => declare(app, msg, line).await,
        Some("status") | None => status(app, msg).await,
        Some("severity") => severity(app, msg, line).await,
        Some("state") => state(app, msg, line).await,
        Some("update") => update(app, msg, line).await,
        Some("resolve") => resolve(app, msg, line).await,
        Some("role") => role(app, msg, line).await,
        Some("contacts") => super::contacts::contacts(app, msg).await,
        Some(other) => Err(Failure::Invalid(format!(
            "`{}` is not an /incident command. Usage: {USAGE}",
            inline_code(other)
        ))),
    }
}

/// Lifecycle and checklist commands need a role of the `incident-management`
/// scenario (when the matrix defines it).
pub fn authorize(app: &App, msg: &Incoming, line: &CommandLine) -> Result<(), Failure> {
    if app.catalog.matrix.scenarios.contains_key(SCENARIO) {
        app.catalog
            .matrix
            .request(SCENARIO, &msg.user)
            .map_err(|r| Failure::Denied(app.refusal_text(&r, &format!("use /{}", line.name))))?;
    }
    Ok(())
}

/// The channel's open incident, or the error that says how to declare one.
pub async fn open(app: &App, msg: &Incoming) -> Result<Incident, Failure> {
    app.store.open_incident(&msg.channel).await?.ok_or_else(|| {
        Failure::Invalid(
            "No open incident in this channel. Declare one: /incident declare P1 \"what is wrong\""
                .into(),
        )
    })
}

pub(super) fn text_after(line: &CommandLine, skip: usize, what: &str) -> Result<String, Failure> {
    let words: Vec<&str> = line
        .positional
        .iter()
        .skip(skip)
        .map(String::as_str)
        .collect();
    let text = words.join(" ");
    let len = text.chars().count();
    if len == 0 || len > 2000 {
        return Err(Failure::Invalid(format!(
            "{what} is missing (1 to 2000 characters; quote it: \"...\")."
        )));
    }
    Ok(text)
}

fn severity_arg(raw: Option<&String>) -> Result<String, Failure> {
    let sev = raw.map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    if SEVERITIES.contains(&sev.as_str()) {
        Ok(sev)
    } else {
        Err(Failure::Invalid(format!(
            "Severity must be one of {}. Usage: {USAGE}",
            SEVERITIES.join(", ")
        )))
    }
}

pub(super) async fn say(app: &App, msg: &Incoming, text: String) {
    app.send(&Post::new(&msg.channel, PostKind::Info, text))
        .await;
}

async fn declare(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    if let Some(open) = app.store.open_incident(&msg.channel).await? {
        return Err(Failure::Invalid(already_open(&open)));
    }
    let severity = severity_arg(line.positional.get(1))?;
    let title = text_after(line, 2, "The title")?;
    if let Some(component) = line.get("component") {
        let known = &app.settings.file.clocks.components;
        if !known.contains_key(component) {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err(Failure::Invalid(format!(
                "component must be one of {}",
                names.join(", ")
            )));
        }
    }
    let detected = format!("Incident declared: {title} ({severity}) by {}", msg.user.id);
    let opening = Opening {
        title: &title,
        severity: &severity,
        channel: &msg.channel,
        by: &msg.user.id,
        impact: line.get("impact"),
        component: line.get("component"),
        detected: &detected,
        acknowledged: true,
    };
    let incident = opening::open(app, &opening).await?;
    say(app, msg, format!("🚨 **{}** declared: {} ({severity}). Commander: {}. Clocks started; /incident status shows them.", incident.id, markdown(&title), msg.user.id)).await;
    clock::page_first_level(app, &incident).await?;
    stakeholders::alert(app, &incident, line.get("eta")).await?;
    Ok(Handled::done())
}

/// Why `/incident declare` opens nothing: the channel's incident is still open, in
/// the words stakeholders were given for its state (a mitigated incident is open,
/// not resolved), and how to go on.
fn already_open(open: &Incident) -> String {
    let state = match open.status.as_str() {
        "monitoring" => format!(
            "mitigated{} and being monitored",
            open.mitigated_at
                .map(|t| format!(" at {} UTC", hhmm(t)))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    };
    format!(
        "{} ({}, {}) is still open in this channel: {state}. Nothing was declared. \
         Update it with /incident update \"...\" or /incident severity P0; once it is over, \
         /incident resolve \"summary\" closes it and a new one can be declared.",
        open.id,
        markdown(&open.title),
        open.severity
    )
}

async fn status(app: &App, msg: &Incoming) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let now = Utc::now();
    let elapsed = (now - i.detected_at).num_milliseconds();
    let mut out = format!(
        "**{}** {} — {} ({})\nOpen for {}, detected {} UTC.",
        i.id,
        i.severity,
        markdown(&i.title),
        i.status,
        human_duration(elapsed),
        hhmm(i.detected_at)
    );
    if let Some((name, c)) = i
        .component
        .as_ref()
        .and_then(|c| app.settings.file.clocks.components.get(c).map(|k| (c, k)))
    {
        out.push_str(&format!(
            "\nComponent: {name} ({} priority): RTO {}, RPO {} ({}).",
            c.priority,
            c.rto.as_deref().unwrap_or("the severity's"),
            c.rpo.as_deref().unwrap_or("not stated"),
            c.source
        ));
        // Seed 004's business impact classification of that priority.
        if let Some(class) = crate::config::impact_class(&c.priority) {
            out.push_str(&format!("\nBusiness impact ({}): {class}.", c.priority));
        }
    }
    if let (Some(rto), Some(at)) = (clock::rto_of(app, &i), i.mitigated_at) {
        // Recovery was reached: what the RTO measured is over.
        let took = (at - i.detected_at).num_milliseconds();
        let verdict = if took <= rto.as_millis() as i64 {
            "within"
        } else {
            "over"
        };
        out.push_str(&format!(
            "\nMitigated at {} UTC, {} after detection: {verdict} {} of {}.",
            hhmm(at),
            human_duration(took),
            clock::rto_name_in(&app.settings.file.clocks, &i),
            human_duration(rto.as_millis() as i64)
        ));
    } else if let Some(rto) = clock::rto_of(app, &i) {
        let left = rto.as_millis() as i64 - elapsed;
        out.push_str(&if left > 0 {
            format!(
                "\nRTO budget left: {} of {}.",
                human_duration(left),
                human_duration(rto.as_millis() as i64)
            )
        } else {
            format!(
                "\nRTO exceeded by {} ({} target).",
                human_duration(-left),
                human_duration(rto.as_millis() as i64)
            )
        });
    }
    out.push_str(&format!(
        "\nImpact: {}",
        i.impact.as_deref().map_or(
            "not stated (/incident update ... impact=\"...\")".to_string(),
            markdown
        )
    ));
    out.push_str(&match (&i.acked_by, i.acked_at) {
        (Some(who), Some(at)) => format!("\nAcknowledged by {who} at {} UTC.", hhmm(at)),
        _ => "\nNot acknowledged: type /ack to take it.".to_string(),
    });
    let roles = app.store.incident_roles(&i.id).await?;
    if !roles.is_empty() {
        let shown: Vec<String> = roles.iter().map(|(r, u)| format!("{r}: {u}")).collect();
        out.push_str(&format!("\nRoles: {}.", shown.join(", ")));
    }
    out.push_str(&format!(
        "\nLast stakeholder update: {}.",
        i.last_update_at
            .map_or("none yet".into(), |t| format!("{} UTC", hhmm(t)))
    ));
    for r in app
        .store
        .incident_runs(&i.id)
        .await?
        .iter()
        .filter(|r| r.state.is_live())
    {
        out.push_str(&format!(
            "\nOpen run: {} /{} — {}",
            crate::model::run::display_id(r.id),
            r.command,
            r.state.as_str().replace('_', " ")
        ));
    }
    let pending: Vec<String> = app
        .store
        .timers(&i.id)
        .await?
        .into_iter()
        .filter(|(k, _, fired, cancelled)| {
            // RTO marks and time levels will not fire after mitigation, nor the
            // early page once acknowledged.
            let moot = match k.split(':').next() {
                Some("rto" | "escalate") => i.mitigated_at.is_some(),
                Some("respond") => i.acked_at.is_some(),
                _ => false,
            };
            !(*fired || *cancelled || moot)
        })
        .map(|(k, due, _, _)| clock::describe_timer(app, &i, &k, due))
        .collect();
    if !pending.is_empty() {
        out.push_str(&format!("\nNext: {}.", pending.join("; ")));
    }
    app.send(&msg.private(Post::new(&msg.channel, PostKind::Info, out)))
        .await;
    Ok(Handled::done())
}

async fn severity(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let sev = severity_arg(line.positional.get(1))?;
    if sev == i.severity {
        return Err(Failure::Invalid(format!("{} is already {sev}.", i.id)));
    }
    app.store
        .set_incident_field(&i.id, IncidentField::Severity, Some(&sev))
        .await?;
    let text = format!(
        "Severity changed from {} to {sev} by {}",
        i.severity, msg.user.id
    );
    app.event(&i.id, kind::STATUS, Some(&msg.user.id), &text, None, None)
        .await?;
    let i = open(app, msg).await?;
    clock::schedule_rto(app, &i).await?;
    clock::schedule_escalation(app, &i).await?;
    say(
        app,
        msg,
        format!("**{}** {text}. RTO clocks recomputed.", i.id),
    )
    .await;
    stakeholders::update(app, &i, &text).await?;
    Ok(Handled::done())
}

async fn state(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let want = line
        .positional
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if !STATUSES.contains(&want.as_str()) || want == "resolved" {
        return Err(Failure::Invalid(format!("State must be one of investigating, identified, mitigating, monitoring (to close it: /incident resolve). It is {}.", i.status)));
    }
    app.store
        .set_incident_status(&i.id, &want, Utc::now())
        .await?;
    let text = format!(
        "Status changed from {} to {want} by {}",
        i.status, msg.user.id
    );
    app.event(&i.id, kind::STATUS, Some(&msg.user.id), &text, None, None)
        .await?;
    say(app, msg, format!("**{}** {text}.", i.id)).await;
    stakeholders::update(app, &open(app, msg).await?, &text).await?;
    Ok(Handled::done())
}

async fn update(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let text = text_after(line, 1, "The update")?;
    if let Some(impact) = line.get("impact") {
        app.store
            .set_incident_field(&i.id, IncidentField::Impact, Some(impact))
            .await?;
    }
    app.event(
        &i.id,
        kind::STATUS,
        Some(&msg.user.id),
        &format!("Update from {}: {text}", msg.user.id),
        None,
        None,
    )
    .await?;
    stakeholders::update(app, &open(app, msg).await?, &text).await?;
    say(
        app,
        msg,
        format!(
            "**{}** update sent to {}.",
            i.id, app.settings.file.warroom.stakeholder_channel
        ),
    )
    .await;
    Ok(Handled::done())
}

async fn resolve(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    if let Some(live) = app
        .store
        .incident_runs(&i.id)
        .await?
        .into_iter()
        .find(|r| r.state.is_live())
    {
        return Err(Failure::Invalid(format!(
            "{} /{} is still {}. Finish or /cancel it before resolving.",
            crate::model::run::display_id(live.id),
            live.command,
            live.state.as_str().replace('_', " ")
        )));
    }
    let summary = text_after(line, 1, "").ok();
    let now = Utc::now();
    app.store
        .set_incident_status(&i.id, "resolved", now)
        .await?;
    app.store.cancel_timers(&i.id, "").await?;
    let took = human_duration((now - i.detected_at).num_milliseconds());
    app.event(
        &i.id,
        kind::RESOLVED,
        Some(&msg.user.id),
        "Incident resolved",
        None,
        None,
    )
    .await?;
    say(
        app,
        msg,
        format!(
            "✅ **{}** resolved by {} after {took}. Clocks stopped. /postmortem drafts the report.",
            i.id, msg.user.id
        ),
    )
    .await;
    stakeholders::resolved(app, &i, summary.as_deref()).await?;
    Ok(Handled::done())
}

/// `@U123`, `<@U123>` or `U123` → `U123`.
pub(super) fn user_ref(raw: &str) -> Option<String> {
    let id = raw
        .trim_start_matches("<@")
        .trim_end_matches('>')
        .trim_start_matches('@');
    let reserved = ["channel", "here", "everyone"].contains(&id.to_ascii_lowercase().as_str());
    let ok = !reserved
        && !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    ok.then(|| id.to_string())
}

async fn role(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let i = open(app, msg).await?;
    let usage = format!("Usage: /incident role <{}> @user", RESPONSE_ROLES.join("|"));
    let role = line
        .positional
        .get(1)
        .map(|s| s.to_ascii_lowercase())
        .filter(|r| RESPONSE_ROLES.contains(&r.as_str()))
        .ok_or_else(|| Failure::Invalid(usage.clone()))?;
    let user = line
        .positional
        .get(2)
        .and_then(|u| user_ref(u))
        .ok_or_else(|| Failure::Invalid(usage))?;
    app.store
        .set_incident_role(&i.id, &role, &user, Utc::now())
        .await?;
    if role == "commander" {
        app.store
            .set_incident_field(&i.id, IncidentField::Commander, Some(&user))
            .await?;
    }
    let text = format!("{user} is now {role} (assigned by {})", msg.user.id);
    app.event(&i.id, kind::STATUS, Some(&msg.user.id), &text, None, None)
        .await?;
    let mut post = Post::new(
        &msg.channel,
        PostKind::Page,
        format!("**{}** {text}.", i.id),
    );
    post.mentions = vec![user];
    app.send(&post).await;
    Ok(Handled::done())
}

#[cfg(test)]
mod tests;
