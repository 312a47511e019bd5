use std::path::Path;

use chrono::Utc;

use super::*;
use crate::model::alert::AlertStatus;

fn catalog() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
    Catalog::load(&dir, &[]).0.expect("the shipped packs load")
}

fn alert(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Alert {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    Alert {
        source: "alertmanager",
        fingerprint: "f1".into(),
        group_key: "{}:{}".into(),
        status: AlertStatus::Firing,
        labels: map(labels),
        annotations: map(annotations),
        starts_at: Utc::now(),
        ends_at: None,
    }
}

#[test]
fn labels_fill_a_line_that_binds_and_is_offered_as_typed() {
    let a = alert(
        &[("alertname", "KanbanErrors")],
        &[("summary", "Kanban V2 error rate 12%")],
    );
    let s = suggest(
        &catalog(),
        "/kanban-off reason=\"{annotations.summary}\"",
        &a,
    );
    assert_eq!(
        s,
        Suggestion::Ready("/kanban-off reason=\"Kanban V2 error rate 12%\"".into())
    );
}

#[test]
fn a_value_its_argument_refuses_is_shown_with_the_reason_not_offered() {
    // `<` and `!` are outside kanban-off's reason pattern.
    let a = alert(&[("summary", "<b>boom</b>!")], &[]);
    match suggest(&catalog(), "/kanban-off reason=\"{labels.summary}\"", &a) {
        Suggestion::Refused { line, why } => {
            assert!(line.contains("<b>boom</b>!"), "{line}");
            assert!(why.contains("reason"), "{why}");
        }
        other => panic!("offered {other:?}"),
    }
}

#[test]
fn a_quote_in_a_label_cannot_add_an_argument() {
    // Without the check this would become reason="x" top=99 dry-run="false".
    let a = alert(&[("summary", "x\" top=99 dry-run=\"false")], &[]);
    match suggest(&catalog(), "/kanban-off reason=\"{labels.summary}\"", &a) {
        Suggestion::Refused { why, .. } => assert!(why.contains("quote"), "{why}"),
        other => panic!("offered {other:?}"),
    }
}

#[test]
fn a_missing_label_or_an_unknown_command_is_refused() {
    let a = alert(&[], &[]);
    let Suggestion::Refused { why, .. } =
        suggest(&catalog(), "/kanban-off reason=\"{labels.nope}\"", &a)
    else {
        panic!("offered without the label");
    };
    assert!(why.contains("labels.nope"), "{why}");
    let Suggestion::Refused { why, .. } = suggest(&catalog(), "/no-such-thing", &a) else {
        panic!("offered an unknown command");
    };
    assert!(why.contains("not a runbook command"), "{why}");
}
