use chrono::TimeZone;

use super::*;

fn incident(id: &str, title: &str, status: &str, component: Option<&str>) -> Incident {
    let t = Utc.with_ymd_and_hms(2026, 12, 3, 1, 0, 0).unwrap();
    Incident {
        id: id.into(),
        title: title.into(),
        severity: "P0".into(),
        status: status.into(),
        channel: "C_INC".into(),
        commander: Some("U_ONCALL".into()),
        detected_at: t,
        declared_at: t,
        mitigated_at: None,
        resolved_at: (status == "resolved").then_some(t),
        impact: None,
        acked_by: None,
        acked_at: None,
        last_update_at: None,
        component: component.map(str::to_string),
    }
}

fn post(id: &str, text: &str) -> StatusPost {
    let t = Utc.with_ymd_and_hms(2026, 12, 3, 1, 1, 0).unwrap();
    StatusPost {
        incident_id: id.into(),
        posted_at: t,
        updated_at: t,
        text: text.into(),
    }
}

const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>&amp;";

fn page() -> StatusPage {
    let file: ConfigFile = toml::from_str("").expect("defaults");
    assemble(
        &file,
        Utc::now(),
        vec![
            incident(
                "INC-20261203-001",
                HOSTILE,
                "investigating",
                Some("database"),
            ),
            incident("INC-20261203-002", "quiet one", "investigating", None),
            incident("INC-20261202-001", "old", "resolved", None),
        ],
        vec![
            post(
                "INC-20261203-001",
                &format!("INCIDENT ALERT: P0 - {HOSTILE}\n- Impact: **all**"),
            ),
            post("INC-20261203-001", "second `update`"),
            post("INC-20261202-001", "RESOLVED"),
        ],
    )
}

#[test]
fn hostile_text_is_escaped_everywhere_it_is_shown() {
    let p = page();
    let links = Links {
        json: "/status.json".into(),
        feed: "/status/feed.atom".into(),
    };
    for doc in [html(&p, &links), atom(&p, &links, "/status")] {
        assert!(!doc.contains("<script"), "{doc}");
        assert!(!doc.contains("<img"), "{doc}");
        assert!(!doc.contains("alert(2)>"), "a tag was closed: {doc}");
        assert!(
            doc.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{doc}"
        );
        assert!(
            doc.contains("&amp;amp;"),
            "entities are text, not entities: {doc}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&json(&p)).unwrap();
    assert_eq!(
        json["incidents"][0]["title"], HOSTILE,
        "JSON carries text as it was"
    );
}

#[test]
fn only_incidents_stakeholders_heard_of_are_listed_open_first_updates_in_order() {
    let p = page();
    let ids: Vec<&str> = p.incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["INC-20261203-001", "INC-20261202-001"]);
    let texts: Vec<&str> = p.incidents[0]
        .updates
        .iter()
        .map(|u| u.text.as_str())
        .collect();
    assert_eq!(texts.len(), 2);
    assert!(texts[1].starts_with("second"));
    let db = p.components.iter().find(|c| c.name == "database").unwrap();
    assert_eq!(db.status, "major_outage");
    assert!(p
        .components
        .iter()
        .filter(|c| c.name != "database")
        .all(|c| c.status == "operational"));
    let doc = html(
        &p,
        &Links {
            json: "j".into(),
            feed: "f".into(),
        },
    );
    assert!(
        doc.contains("<strong>all</strong>") && doc.contains("<code>update</code>"),
        "{doc}"
    );
    assert!(doc.contains("<main>") && doc.contains("<header>") && doc.contains("<footer>"));
    assert!(doc.contains("http-equiv=\"refresh\""));
}
