//! Durations as runbooks, settings and arguments write them: `500ms`, `90s` (or a
//! bare `90`), `5m`, `2h`. One parser, so a duration means the same everywhere.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Parses `250ms`, `30s`, `5m`, `2h` (and a bare number of seconds).
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => n,
        "" | "s" => n.checked_mul(1000)?,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        // Drill cadences ("every = \"30d\"": seed 000's "DR test within 30 days").
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// `t + d`, saturating at the latest time chrono can hold: time arithmetic on
/// durations from settings or arguments never panics.
pub fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t - d`, saturating at the earliest time chrono can hold.
pub fn before(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_overflow_to_none() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(
            parse_duration("30d"),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(parse_duration("60 parsecs"), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }

    /// Regression: `settle=99999999999h` panicked the approver with "DateTime +
    /// TimeDelta overflowed" after two SQL steps had already changed data.
    #[test]
    fn time_plus_a_huge_duration_saturates_instead_of_panicking() {
        let now = Utc::now();
        let huge = parse_duration("99999999999h").expect("parses");
        assert_eq!(after(now, huge), DateTime::<Utc>::MAX_UTC);
        assert_eq!(before(now, huge), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            after(now, Duration::from_secs(60)),
            now + chrono::Duration::seconds(60)
        );
    }
}
