use super::*;

/// Seed 002's authorization table, plus one person holding two roles.
const MATRIX: &str = r#"
    [roles.oncall]
    title = "On-Call Engineer"
    members = ["U_ONCALL", "U_ONCALL2"]
    [roles.devsecops-lead]
    title = "DevSecOps Lead"
    members = ["U_LEAD", "U_LEAD2", "U_BOTH"]
    [roles.dba]
    title = "Database Admin"
    members = ["U_DBA", "U_BOTH", "slack:U_SLACKDBA"]
    [roles.security]
    title = "Security Team"
    members = ["U_SEC"]
    [roles.product-owner]
    title = "Product Owner"

    [scenarios.production-p1]
    title = "Production P1 Alert"
    request = ["oncall", "devsecops-lead"]
    decide = ["oncall", "devsecops-lead"]
    notify = ["product-owner"]
    [scenarios.staging-critical]
    title = "Staging Critical Issue"
    request = ["oncall"]
    decide = ["oncall"]
    notify = ["devsecops-lead"]
    [scenarios.security-incident]
    title = "Security Incident"
    request = ["oncall", "security", "devsecops-lead"]
    decide = ["security", "devsecops-lead"]
    [scenarios.data-corruption]
    title = "Data Corruption"
    request = ["oncall", "devsecops-lead", "dba"]
    decide = ["devsecops-lead", "dba"]
    approval_ttl = "15m"
"#;

fn m() -> Matrix {
    toml::from_str(MATRIX).expect("matrix parses")
}
fn u(id: &str) -> UserId {
    UserId::new("console", id)
}
fn yes(id: &str) -> Vote {
    Vote {
        user: u(id),
        approve: true,
    }
}

/// Each seed 002 row: requester, votes in order, the verdict after all votes.
#[test]
fn seed_002_rows_decide_as_the_table_says() {
    use Verdict::*;
    let pending = |m: &[&str]| Pending {
        missing: m.iter().map(|s| s.to_string()).collect(),
    };
    let table: &[(&str, &str, &[&str], Verdict)] = &[
        // Production P1 Alert: On-Call Engineer + DevSecOps Lead.
        (
            "production-p1",
            "U_ONCALL",
            &[],
            pending(&["DevSecOps Lead"]),
        ),
        ("production-p1", "U_ONCALL", &["U_LEAD"], Approved),
        (
            "production-p1",
            "U_LEAD",
            &[],
            pending(&["On-Call Engineer"]),
        ),
        ("production-p1", "U_LEAD", &["U_ONCALL"], Approved),
        (
            "production-p1",
            "U_ONCALL",
            &["U_ONCALL2"],
            pending(&["DevSecOps Lead"]),
        ),
        // Staging Critical Issue: On-Call Engineer alone.
        ("staging-critical", "U_ONCALL", &[], Approved),
        // Security Incident: Security Team + DevSecOps Lead.
        (
            "security-incident",
            "U_ONCALL",
            &[],
            pending(&["Security Team", "DevSecOps Lead"]),
        ),
        (
            "security-incident",
            "U_ONCALL",
            &["U_SEC"],
            pending(&["DevSecOps Lead"]),
        ),
        (
            "security-incident",
            "U_ONCALL",
            &["U_SEC", "U_LEAD"],
            Approved,
        ),
        ("security-incident", "U_SEC", &["U_LEAD"], Approved),
        // Data Corruption: DevSecOps Lead + Database Admin, two different people.
        (
            "data-corruption",
            "U_ONCALL",
            &[],
            pending(&["DevSecOps Lead", "Database Admin"]),
        ),
        (
            "data-corruption",
            "U_ONCALL",
            &["U_LEAD", "U_DBA"],
            Approved,
        ),
        ("data-corruption", "U_LEAD", &["U_DBA"], Approved),
        (
            "data-corruption",
            "U_DBA",
            &[],
            pending(&["DevSecOps Lead"]),
        ),
        // One person holding both roles counts once.
        (
            "data-corruption",
            "U_BOTH",
            &[],
            pending(&["Database Admin"]),
        ),
        (
            "data-corruption",
            "U_ONCALL",
            &["U_BOTH"],
            pending(&["Database Admin"]),
        ),
        (
            "data-corruption",
            "U_ONCALL",
            &["U_BOTH", "U_LEAD"],
            Approved,
        ),
        (
            "data-corruption",
            "U_ONCALL",
            &["U_LEAD", "U_BOTH"],
            Approved,
        ),
    ];
    let m = m();
    for (sc, req, votes, want) in table {
        let votes: Vec<Vote> = votes.iter().map(|v| yes(v)).collect();
        let got = m.verdict(sc, &u(req), &votes).unwrap();
        assert_eq!(&got, want, "{sc} requested by {req}, votes {votes:?}");
    }
}

#[test]
fn only_the_request_roles_may_ask() {
    let m = m();
    assert!(m.request("production-p1", &u("U_ONCALL")).is_ok());
    assert!(m
        .request("staging-critical", &u("U_ONCALL"))
        .unwrap()
        .missing
        .is_empty());
    assert_eq!(
        m.request("staging-critical", &u("U_LEAD")),
        Err(Refusal::NotRequester {
            allowed: vec!["On-Call Engineer".into()]
        })
    );
    assert!(matches!(
        m.request("production-p1", &u("U_NOBODY")),
        Err(Refusal::NotRequester { .. })
    ));
    assert!(matches!(
        m.request("nope", &u("U_ONCALL")),
        Err(Refusal::UnknownScenario(_))
    ));
    assert_eq!(
        m.request("data-corruption", &u("U_DBA")).unwrap().ttl,
        Duration::from_secs(900)
    );
}

#[test]
fn a_requester_can_never_approve_their_own_run() {
    let m = m();
    assert_eq!(
        m.may_vote("data-corruption", &u("U_BOTH"), &[], &u("U_BOTH")),
        Err(Refusal::OwnRun)
    );
}

#[test]
fn votes_are_checked_for_role_need_and_repetition() {
    let m = m();
    let req = u("U_ONCALL");
    assert_eq!(
        m.may_vote("data-corruption", &req, &[], &u("U_LEAD")),
        Ok("DevSecOps Lead".into())
    );
    assert!(matches!(
        m.may_vote("data-corruption", &req, &[], &u("U_SEC")),
        Err(Refusal::NoDecidingRole { .. })
    ));
    assert_eq!(
        m.may_vote("data-corruption", &req, &[yes("U_LEAD")], &u("U_LEAD")),
        Err(Refusal::AlreadyDecided)
    );
    assert_eq!(
        m.may_vote("data-corruption", &req, &[yes("U_LEAD")], &u("U_LEAD2")),
        Err(Refusal::NotNeeded {
            role: "DevSecOps Lead".into(),
            still_needed: vec!["Database Admin".into()]
        })
    );
    // U_BOTH after a lead approved covers the DBA role.
    assert_eq!(
        m.may_vote("data-corruption", &req, &[yes("U_LEAD")], &u("U_BOTH")),
        Ok("Database Admin".into())
    );
}

#[test]
fn a_single_deny_decides() {
    let m = m();
    let votes = [
        yes("U_LEAD"),
        Vote {
            user: u("U_DBA"),
            approve: false,
        },
    ];
    assert_eq!(
        m.verdict("data-corruption", &u("U_ONCALL"), &votes),
        Ok(Verdict::Denied { by: u("U_DBA") })
    );
}

#[test]
fn platform_scoped_members_match_only_on_their_platform() {
    let m = m();
    assert!(m
        .roles_of(&UserId::new("slack", "U_SLACKDBA"))
        .contains("dba"));
    assert!(m.roles_of(&UserId::new("discord", "U_SLACKDBA")).is_empty());
    assert!(m.roles_of(&UserId::new("discord", "U_DBA")).contains("dba"));
}

/// Issue 11: `members = ["discord-role:999"]` let `--as discord-role:999` approve on
/// the console. Prefixed members match only on their platform; groups only as held.
#[test]
fn a_platform_scoped_member_string_is_never_a_user_id_elsewhere() {
    let m: Matrix = toml::from_str(
        r#"
        [roles.dba]
        title = "DBA"
        members = ["discord-role:999", "slack-group:S0DBA", "slack:U1"]
        [scenarios.s]
        title = "S"
        request = ["dba"]
    "#,
    )
    .expect("matrix parses");
    for (platform, id) in [
        ("console", "discord-role:999"),
        ("console", "slack-group:S0DBA"),
        ("console", "slack:U1"),
        ("discord", "discord-role:999"),
        ("slack", "slack-group:S0DBA"),
        ("slack", "S0DBA"),
    ] {
        assert!(
            m.roles_of(&UserId::new(platform, id)).is_empty(),
            "{platform} {id}"
        );
    }
    let held = |platform: &str, group: &str| {
        UserId::new(platform, "U9").with_groups(vec![group.to_string()])
    };
    assert!(m.roles_of(&held("slack", "S0DBA")).contains("dba"));
    assert!(m.roles_of(&held("discord", "999")).contains("dba"));
    // A Slack group id held on Discord (or a role id on Slack) grants nothing.
    assert!(m.roles_of(&held("discord", "S0DBA")).is_empty());
    assert!(m.roles_of(&held("slack", "999")).is_empty());
    assert!(m.roles_of(&UserId::new("slack", "U1")).contains("dba"));
}

#[test]
fn confirm_defaults_to_the_request_roles() {
    let m = m();
    assert!(m.may_confirm("staging-critical", &u("U_ONCALL")).is_ok());
    assert!(m.may_confirm("staging-critical", &u("U_DBA")).is_err());
}
