//! `/help`: the commands a user may run, grouped by pack and marked when their
//! targets are not configured; `/help NAME` explains one command and who may
//! authorize it.

use crate::app::{App, Handled, Incoming};
use crate::chat::{Post, PostKind};
use crate::command::parse::CommandLine;
use crate::command::spec::CommandSpec;
use crate::failure::Failure;
use crate::render::escape;

pub async fn help(app: &App, msg: &Incoming, line: &CommandLine) -> Result<Handled, Failure> {
    let text = match line.positional.first() {
        Some(name) => {
            let name = name.trim_start_matches('/').to_ascii_lowercase();
            let family = app.catalog.family(&name);
            if family.is_empty() {
                let hint = app
                    .catalog
                    .suggest(&name)
                    .map_or(String::new(), |s| format!(" Did you mean /help {s}?"));
                return Err(Failure::Invalid(format!(
                    "No command /{}.{hint} Type /help for the list.",
                    escape::inline_code(&name)
                )));
            }
            family
                .iter()
                .map(|s| explain(app, s))
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        None => overview(app, msg),
    };
    app.send(&Post::new(&msg.channel, PostKind::Help, text).ephemeral(&msg.user))
        .await;
    Ok(Handled::done())
}

fn overview(app: &App, msg: &Incoming) -> String {
    let matrix = &app.catalog.matrix;
    let held = matrix.roles_of(&msg.user);
    // Grouped by pack, so the on-call engineer finds their system's runbook.
    let mut packs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut others = 0;
    for spec in app.catalog.specs() {
        let allowed = matrix
            .scenarios
            .get(&spec.file.command.scenario)
            .is_some_and(|s| s.request.iter().any(|r| held.contains(r.as_str())));
        if !allowed {
            others += 1;
            continue;
        }
        let missing = app.missing_config(spec);
        let needs = if missing.is_empty() {
            String::new()
        } else {
            format!(" ⚠️ not configured here (set {})", missing.join(", "))
        };
        packs
            .entry(format!("**{}**", spec.pack()))
            .or_default()
            .push(format!(
                "• `/{}` — {}{needs}",
                spec.full_name(),
                spec.file.command.help
            ));
    }
    let mine: Vec<String> = packs
        .into_iter()
        .map(|(header, lines)| format!("{header}\n{}", lines.join("\n")))
        .collect();
    let roles: Vec<String> = held.iter().map(|r| matrix.title(r)).collect();
    let mut out = format!(
        "**warroom** — you are {} ({}).\n",
        msg.user.id,
        if roles.is_empty() {
            "no role in the matrix".into()
        } else {
            roles.join(", ")
        }
    );
    if mine.is_empty() {
        out.push_str("You may not run any runbook command. Ask the incident commander to add you to the matrix.\n");
    } else {
        out.push_str("Runbook commands you may run, by system:\n");
        out.push_str(&mine.join("\n"));
        out.push('\n');
    }
    if others > 0 {
        out.push_str(&format!("({others} more need a role you do not hold.)\n"));
    }
    out.push_str(
        "Incident: `/incident declare P1 \"title\"`, `/incident status`, `/incident severity P0`, `/incident update \"...\"`, `/incident resolve`, `/ack`, `/note ...`, `/action \"...\" owner=@x due=2026-12-01`, `/postmortem`, `/checklist post-rollback`.\n\
         Always available: `/help <command>`, `/status`, `/assess <facts>`, `/approve RUN-n`, `/deny RUN-n`, `/confirm RUN-n`, `/cancel RUN-n`.\n\
         Add `dry-run=true` to any command to see exactly what it would do. Every command also works as `/warroom <command> ...`.",
    );
    out
}

fn explain(app: &App, spec: &CommandSpec) -> String {
    let matrix = &app.catalog.matrix;
    let mut out = format!(
        "**/{}** — {}\nUsage: `{}`",
        spec.full_name(),
        spec.file.command.help,
        spec.usage()
    );
    for a in &spec.file.args {
        let mut line = format!("\n• `{}`", a.name);
        if !a.help.is_empty() {
            line.push_str(&format!(": {}", a.help));
        }
        if !a.choices.is_empty() {
            line.push_str(&format!(" (one of {})", a.choices.join(", ")));
        }
        if let Some(d) = &a.default {
            line.push_str(&format!(" (default {d})"));
        }
        if a.required {
            line.push_str(" (required)");
        }
        out.push_str(&line);
    }
    if let Some(sc) = matrix.scenarios.get(&spec.file.command.scenario) {
        let titles = |ids: &[String]| {
            ids.iter()
                .map(|r| matrix.title(r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "\nAuthorization: {} — requested by {}",
            sc.title,
            titles(&sc.request)
        ));
        if !sc.decide.is_empty() {
            out.push_str(&format!(
                "; decided by {} (each a different person)",
                titles(&sc.decide)
            ));
        }
        if !sc.notify.is_empty() {
            out.push_str(&format!("; notifies {}", titles(&sc.notify)));
        }
        out.push('.');
    }
    if let Some(src) = &spec.file.command.source {
        out.push_str(&format!("\nRunbook: {src}"));
    }
    out
}
