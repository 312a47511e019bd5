//! Durations as runbooks, settings and arguments write them: `500ms`, `90s` (or a
//! bare `90`), `5m`, `2h`. One parser, so a duration means the same everywhere.

use std::time::Duration;

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
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}
