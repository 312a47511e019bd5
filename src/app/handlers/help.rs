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
    let text = match line.positional.first().map(String::as_str) {
        Some("all") => everything(app, msg),
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
    app.send(&msg.private(Post::new(&msg.channel, PostKind::Help, text)))
        .await;
    Ok(Handled::done())
}

/// Whether `msg`'s author may request `spec`.
fn may_request(app: &App, held: &std::collections::BTreeSet<&str>, spec: &CommandSpec) -> bool {
    app.catalog
        .matrix
        .scenarios
        .get(&spec.file.command.scenario)
        .is_some_and(|s| s.request.iter().any(|r| held.contains(r.as_str())))
}

fn who(app: &App, msg: &Incoming, held: &std::collections::BTreeSet<&str>) -> String {
    let roles: Vec<String> = held.iter().map(|r| app.catalog.matrix.title(r)).collect();
    format!(
        "**warroom**: you are {} ({}).",
        msg.user.id,
        if roles.is_empty() {
            "no role in the matrix".into()
        } else {
            roles.join(", ")
        }
    )
}

/// The short answer (issue 12: 50 lines of commands, some the reader may not run):
/// the commands this person may run that work here, one line per system, then
/// the everyday incident commands. `/help all` has the rest.
fn overview(app: &App, msg: &Incoming) -> String {
    let held = app.catalog.matrix.roles_of(&msg.user);
    let mut packs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let (mut unconfigured, mut others) = (0, 0);
    for spec in app.catalog.specs() {
        if !may_request(app, &held, spec) {
            others += 1;
        } else if !app.missing_config(spec).is_empty() {
            unconfigured += 1;
        } else {
            packs
                .entry(spec.pack().to_string())
                .or_default()
                .push(format!("/{}", spec.full_name()));
        }
    }
    let mut out = who(app, msg, &held);
    if packs.is_empty() && unconfigured == 0 {
        out.push_str("\nYou may not run any runbook command.");
        if held.is_empty() {
            out.push_str(" Ask the incident commander to add you to the matrix.");
        }
    } else if packs.is_empty() {
        out.push_str(
            "\nNone of your runbook commands works here: their targets are not configured.",
        );
    } else {
        out.push_str(
            "\nYou can run, by system (`/help NAME` says what one does and who approves it):",
        );
        for (pack, names) in packs {
            out.push_str(&format!("\n• **{pack}**: {}", names.join(", ")));
        }
    }
    let mut more = Vec::new();
    if unconfigured > 0 {
        more.push(format!(
            "{unconfigured} of yours need targets not configured here"
        ));
    }
    if others > 0 {
        more.push(format!("{others} need a role you do not hold"));
    }
    if !more.is_empty() {
        out.push_str(&format!("\n({}: /help all lists them.)", more.join("; ")));
    }
    out.push_str(
        "\nIncident: /incident declare P1 \"title\" · /incident status · /ack · /note text · /incident resolve \"summary\"\n\
         Any command with dry-run=true shows what it would do, and runs nothing.",
    );
    out
}

/// `/help all`: every command, with what it does, whether this person may run it
/// and whether it works here.
fn everything(app: &App, msg: &Incoming) -> String {
    let matrix = &app.catalog.matrix;
    let held = matrix.roles_of(&msg.user);
    let mut packs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for spec in app.catalog.specs() {
        let mut note = String::new();
        if !may_request(app, &held, spec) {
            let by: Vec<String> = matrix
                .scenarios
                .get(&spec.file.command.scenario)
                .map(|s| s.request.iter().map(|r| matrix.title(r)).collect())
                .unwrap_or_default();
            note.push_str(&format!(" (needs {})", by.join(" or ")));
        }
        let missing = app.missing_config(spec);
        if !missing.is_empty() {
            note.push_str(&format!(
                " ⚠️ not configured here (set {})",
                missing.join(", ")
            ));
        }
        packs
            .entry(format!("**{}**", spec.pack()))
            .or_default()
            .push(format!(
                "• /{}: {}{note}",
                spec.full_name(),
                spec.file.command.help
            ));
    }
    let mut out = who(app, msg, &held);
    for (header, lines) in packs {
        out.push_str(&format!("\n{header}\n{}", lines.join("\n")));
    }
    out.push_str(
        "\n**Incident**: /incident declare P1 \"title\", /incident status, /incident severity P0, /incident update \"...\", /incident resolve \"summary\", /ack, /note text, /action \"text\" owner=U_LEAD due=2026-12-01, /postmortem, /checklist post-rollback\n\
         **Always**: /help NAME, /warroom status (open runs here), /assess facts, /approve RUN-n, /deny RUN-n, /confirm RUN-n, /cancel RUN-n\n\
         Any command with dry-run=true shows exactly what it would do. Every command also works as /warroom COMMAND ...",
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
