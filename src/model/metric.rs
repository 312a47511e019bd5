//! Metric label values, bounded: a value from outside (a severity, a platform)
//! becomes one of a few known words or `other`, so no label can grow a series
//! per user, channel or typed word.

/// P0..P3, else `other`.
pub fn severity(s: &str) -> &'static str {
    match s {
        "P0" => "P0",
        "P1" => "P1",
        "P2" => "P2",
        "P3" => "P3",
        _ => "other",
    }
}

/// The platforms warroom knows, else `other`.
pub fn platform(p: &str) -> &'static str {
    match p {
        "slack" => "slack",
        "discord" => "discord",
        "console" => "console",
        _ => "other",
    }
}
