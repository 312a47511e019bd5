use chrono::TimeZone;

use super::*;

fn incident(id: &str, severity: &str, component: Option<&str>, ttm_min: Option<i64>) -> Incident {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let after = |m: i64| t + chrono::Duration::minutes(m);
    Incident {
        id: id.into(),
        title: format!("{id} title"),
        severity: severity.into(),
        status: if ttm_min.is_some() {
            "resolved"
        } else {
            "investigating"
        }
        .into(),
        channel: "C".into(),
        commander: None,
        detected_at: t,
        declared_at: t,
        mitigated_at: ttm_min.map(after),
        resolved_at: ttm_min.map(|m| after(m + 30)),
        impact: None,
        acked_by: Some("U".into()),
        acked_at: Some(after(2)),
        last_update_at: None,
        component: component.map(str::to_string),
    }
}

#[test]
fn means_and_breaches_follow_each_incidents_rto() {
    let clocks = Clocks::default();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
    // P0's RTO is 5 min; the api component's is 2 h (seed 004) and wins.
    let a = incident("INC-1", "P0", None, Some(4));
    let b = incident("INC-2", "P0", None, Some(10));
    let c = incident("INC-3", "P0", Some("api"), Some(60));
    let open = incident("INC-4", "P1", None, None);
    let (f, breaches) = figures(&[&a, &b], &clocks, now);
    assert_eq!(f.mtta_ms, Some(120_000));
    assert_eq!(f.mttm_ms, Some(7 * 60_000));
    assert_eq!(f.mttr_ms, Some(37 * 60_000));
    assert_eq!(f.rto_ms, Some(5 * 60_000));
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].incident, "INC-2");
    let (_, breaches) = figures(&[&c, &open], &clocks, now);
    let ids: Vec<&str> = breaches.iter().map(|b| b.incident.as_str()).collect();
    assert_eq!(
        ids,
        ["INC-4"],
        "api within 2 h; the open P1 a day past its 30 min"
    );
    assert!(!breaches[0].mitigated);
}

#[test]
fn the_window_is_days_a_duration_or_a_date() {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap();
    assert_eq!(
        since("30d", now),
        Some(Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap())
    );
    assert_eq!(
        since("12h", now),
        Some(Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap())
    );
    assert_eq!(
        since("2026-11-01", now),
        Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
    );
    for bad in ["", "d", "soon", "-3x"] {
        assert_eq!(since(bad, now), None, "{bad}");
    }
}
