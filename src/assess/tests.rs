use super::*;

fn m(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n * 60))
}

/// Seed 002's thresholds, one row each, including the edges.
#[test]
fn seed_002_thresholds_decide() {
    use Decision::*;
    let table: Vec<(Facts, Decision)> = vec![
        (
            Facts {
                error_rate: Some(12.0),
                duration: m(6),
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                error_rate: Some(12.0),
                duration: m(4),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                error_rate: Some(10.0),
                duration: m(20),
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                error_rate: Some(5.0),
                duration: m(15),
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                error_rate: Some(5.0),
                duration: m(14),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                error_rate: Some(0.5),
                duration: m(60),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                data_corruption: true,
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                security: true,
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                system_down: true,
                duration: m(5),
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                system_down: true,
                duration: m(3),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                db_down: true,
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                auth_broken: true,
                ..Default::default()
            },
            Immediate,
        ),
        (
            Facts {
                sync_success: Some(85.0),
                duration: m(30),
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                sync_success: Some(85.0),
                duration: m(10),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                queue_size: Some(1500),
                queue_growing: true,
                duration: m(30),
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                queue_size: Some(1500),
                queue_growing: false,
                duration: m(30),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                crash_every: m(20),
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                crash_every: m(45),
                ..Default::default()
            },
            Monitor,
        ),
        (
            Facts {
                critical_feature_down: true,
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                multiple_p1: true,
                ..Default::default()
            },
            Scheduled,
        ),
        (
            Facts {
                multiple_p1: true,
                data_corruption: true,
                ..Default::default()
            },
            Immediate,
        ),
    ];
    for (facts, want) in table {
        assert_eq!(assess(&facts).decision, want, "{facts:?}");
    }
}

#[test]
fn seed_001_tree_picks_the_kanban_scenario() {
    let table: Vec<(Facts, &str)> = vec![
        (
            Facts {
                data_corruption: true,
                system_down: true,
                ..Default::default()
            },
            "/kanban-corruption",
        ),
        (
            Facts {
                system_down: true,
                ..Default::default()
            },
            "/kanban-off",
        ),
        (
            Facts {
                performance: true,
                affected: Some(60.0),
                ..Default::default()
            },
            "/kanban-off",
        ),
        (
            Facts {
                performance: true,
                affected: Some(30.0),
                ..Default::default()
            },
            "/kanban-selective-off",
        ),
        (
            Facts {
                performance: true,
                ..Default::default()
            },
            "/kanban-selective-off",
        ),
    ];
    for (facts, cmd) in table {
        let a = assess(&facts);
        assert!(
            a.kanban.expect("a scenario").1.starts_with(cmd),
            "{facts:?}"
        );
        assert!(a.commands[0].starts_with(cmd));
    }
    assert!(assess(&Facts {
        error_rate: Some(0.2),
        ..Default::default()
    })
    .kanban
    .is_none());
}

#[test]
fn seed_003_matrix_maps_issue_types_to_layers() {
    let table = [
        (
            IssueType::UiBug,
            ("yes", "no", "no", "Medium"),
            "/app-rollback frontend",
        ),
        (
            IssueType::ApiError,
            ("no", "yes", "no", "High"),
            "/app-rollback backend",
        ),
        (
            IssueType::Auth,
            ("maybe", "yes", "no", "High"),
            "/app-rollback backend",
        ),
        (
            IssueType::DataCorruption,
            ("no", "no", "yes", "Critical"),
            "/app-rollback database",
        ),
        (
            IssueType::Performance,
            ("maybe", "yes", "no", "Medium"),
            "/app-rollback backend",
        ),
        (
            IssueType::Security,
            ("yes", "yes", "maybe", "Critical"),
            "/app-rollback full",
        ),
    ];
    for (t, row, cmd) in table {
        let a = assess(&Facts {
            issue_type: Some(t),
            ..Default::default()
        });
        assert_eq!(a.matrix, Some(row), "{t:?}");
        assert!(a.commands.contains(&cmd), "{t:?}: {:?}", a.commands);
    }
}

/// Seed 003, "When to Rollback": "Performance degradation > 50%" is an immediate
/// rollback; 50% itself is not.
#[test]
fn seed_003_performance_degradation_over_half_is_an_immediate_rollback() {
    for (degradation, immediate) in [(Some(60.0), true), (Some(50.0), false), (None, false)] {
        let a = assess(&Facts {
            degradation,
            issue_type: Some(IssueType::Performance),
            ..Default::default()
        });
        assert_eq!(
            a.decision == Decision::Immediate,
            immediate,
            "{degradation:?}"
        );
        if immediate {
            assert!(
                a.because
                    .iter()
                    .any(|b| b == "Performance degradation > 50% (60%)"),
                "{:?}",
                a.because
            );
            assert!(a.commands.contains(&"/app-rollback backend"));
        }
    }
    let line = crate::command::parse::parse("/assess degradation=60% issue=performance").unwrap();
    assert_eq!(facts(&line).unwrap().degradation, Some(60.0));
    let line = crate::command::parse::parse("/assess degradation=lots").unwrap();
    assert!(facts(&line).is_err());
}

#[test]
fn facts_are_read_from_the_command_line_and_validated() {
    let line = crate::command::parse::parse(
        "/assess error_rate=12% duration=6m data_corruption=yes issue=api-error",
    )
    .unwrap();
    let f = facts(&line).unwrap();
    assert_eq!(
        (f.error_rate, f.duration, f.data_corruption, f.issue_type),
        (Some(12.0), m(6), true, Some(IssueType::ApiError))
    );
    for bad in [
        "/assess",
        "/assess error_rate=lots",
        "/assess error_rate=120",
        "/assess nonsense=1",
        "/assess data_corruption=maybe",
        "/assess issue=cosmic",
        "/assess 12",
    ] {
        let line = crate::command::parse::parse(bad).unwrap();
        assert!(facts(&line).is_err(), "{bad}");
    }
}

#[test]
fn the_answer_names_the_criteria_and_what_to_watch() {
    let text = render(&assess(&Facts {
        error_rate: Some(5.0),
        duration: m(9),
        ..Default::default()
    }));
    assert!(text.starts_with("🟢 **MONITOR & PATCH**"), "{text}");
    assert!(
        text.contains("reaches the scheduled-rollback threshold (15 minutes) in 6 min"),
        "{text}"
    );
    let text = render(&assess(&Facts {
        error_rate: Some(12.0),
        duration: m(6),
        ..Default::default()
    }));
    assert!(
        text.contains("Error rate > 10% sustained for 5 minutes (12% for 6 min)"),
        "{text}"
    );
    assert!(text.contains("`/rollback quick`"), "{text}");
}
