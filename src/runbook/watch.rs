//! Watching a step: re-checking its action on an interval for a while, failing at
//! the first check that does not hold (seed 002's "Monitor for 15 minutes before
//! declaring success", seed 001's "Monitorar por 2 horas"). Time moves only through
//! the sleep it is given, so a test drives hours of it on manual time.

use std::time::Duration;

use serde_json::Value;

use crate::actions::{ActionError, ActionOutput};
use crate::model::duration::parse_duration;
use crate::render::human_duration;
use crate::runbook::step::WatchSpec;

/// How long a watch must hold: its `for`, or its duration argument's value.
pub fn span(w: &WatchSpec, args: &Value) -> Option<Duration> {
    match (&w.lasting, &w.for_arg) {
        (_, Some(arg)) => args
            .get(arg)
            .and_then(Value::as_u64)
            .map(Duration::from_millis),
        (Some(d), None) => parse_duration(d),
        (None, None) => None,
    }
}

/// Checks with `check` at once and then every `every` until `span` has passed; the
/// first check that fails fails the watch. Time moves only through `sleep` (the
/// elapsed time is the sum of the pauses), so a test drives a two-hour watch with a
/// sleep that returns at once.
pub async fn hold<C, CF, S, SF>(
    every: Duration,
    span: Duration,
    mut check: C,
    mut sleep: S,
) -> Result<ActionOutput, ActionError>
where
    C: FnMut() -> CF,
    CF: std::future::Future<Output = Result<ActionOutput, ActionError>>,
    S: FnMut(Duration) -> SF,
    SF: std::future::Future<Output = ()>,
{
    let every = every.max(Duration::from_millis(1));
    let (mut elapsed, mut checks) = (Duration::ZERO, 0u32);
    loop {
        checks += 1;
        let last = check().await.map_err(|e| {
            ActionError::Failed(format!(
                "check {checks} failed after {} of {}: {e}",
                human_duration(elapsed.as_millis() as i64),
                human_duration(span.as_millis() as i64)
            ))
        })?;
        if elapsed >= span {
            return Ok(ActionOutput {
                summary: format!(
                    "held for {} ({checks} checks, every {}); last: {}",
                    human_duration(span.as_millis() as i64),
                    human_duration(every.as_millis() as i64),
                    last.summary
                ),
                table: None,
            });
        }
        let pause = every.min(span - elapsed);
        sleep(pause).await;
        elapsed += pause;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 001's "Monitorar por 2 horas" as a watch every 10 minutes: 13 checks over
    /// two hours of manual time (each pause recorded, none slept), and the first check
    /// that fails fails the watch at the time it failed.
    #[tokio::test]
    async fn a_watch_checks_every_interval_for_its_span_and_fails_at_the_first_bad_check() {
        use std::cell::RefCell;
        let every = Duration::from_secs(600);
        let span = Duration::from_secs(7200);
        let ok = || async {
            Ok(ActionOutput {
                summary: "orphan_tags = 0".into(),
                table: None,
            })
        };
        let slept = RefCell::new(Vec::new());
        let sleep = |d: Duration| {
            slept.borrow_mut().push(d);
            async {}
        };
        let out = hold(every, span, ok, sleep).await.expect("holds");
        assert_eq!(
            out.summary,
            "held for 2 h (13 checks, every 10 min); last: orphan_tags = 0"
        );
        assert_eq!(slept.borrow().iter().sum::<Duration>(), span);
        assert_eq!(slept.borrow().len(), 12);

        let checks = RefCell::new(0);
        let breaks_at_4 = || {
            *checks.borrow_mut() += 1;
            let n = *checks.borrow();
            async move {
                if n < 4 {
                    Ok(ActionOutput {
                        summary: "ok".into(),
                        table: None,
                    })
                } else {
                    Err(ActionError::Failed("orphan_tags: expected 0, got 2".into()))
                }
            }
        };
        let err = hold(every, span, breaks_at_4, |_| async {})
            .await
            .expect_err("the fourth check fails");
        assert_eq!(
            err.to_string(),
            "check 4 failed after 30 min of 2 h: orphan_tags: expected 0, got 2"
        );
        // An uneven span ends on time: the last pause is what is left.
        let out = hold(every, Duration::from_secs(900), ok, |_| async {})
            .await
            .expect("holds");
        assert!(
            out.summary.starts_with("held for 15 min (3 checks"),
            "{}",
            out.summary
        );
    }
}
