//! The progress message of a run: one message per run, edited in place, a header
//! with the run's state and one line per step (✅ / ⏳ / ❌ with output and duration).

use crate::actions;
use crate::model::run::{display_id, Run, RunState, StepRecord, StepState};
use crate::render::human_duration;

/// The progress message: a header and one line per step.
pub fn progress_text(run: &Run, steps: &[StepRecord], header_note: &str) -> String {
    let state = match run.state {
        RunState::Running if steps.iter().any(|s| s.state == StepState::Waiting) => {
            "waiting for a checkpoint".to_string()
        }
        RunState::Succeeded | RunState::Failed => {
            let took = run
                .started_at
                .zip(run.finished_at)
                .map(|(s, f)| human_duration((f - s).num_milliseconds()));
            format!("{} in {}", run.state.as_str(), took.unwrap_or_default())
        }
        s => s.as_str().replace('_', " "),
    };
    let icon = match run.state {
        RunState::Succeeded => "✅",
        RunState::Failed | RunState::Interrupted => "❌",
        RunState::Cancelled | RunState::Expired => "⛔",
        _ => "⏳",
    };
    let mut out = format!(
        "{icon} **{}** /{} — {state} (requested by {})",
        display_id(run.id),
        run.command,
        run.requested_by.id
    );
    if !header_note.is_empty() {
        out.push('\n');
        out.push_str(header_note);
    }
    for s in steps {
        if s.phase != "main" && s.state == StepState::Pending {
            continue;
        }
        let mut line = format!("\n{} {}", s.state.icon(), s.name);
        if s.phase != "main" {
            line.push_str(" (on failure)");
        }
        if let Some(out) = s.output.as_deref().filter(|o| !o.is_empty()) {
            let first = out.lines().next().unwrap_or_default();
            line.push_str(&format!(" — {}", actions::truncate(first, 120)));
        }
        if let Some(ms) = s.duration_ms() {
            line.push_str(&format!(" ({})", human_duration(ms)));
        }
        out.push_str(&line);
    }
    out
}
