//! The stakeholder status page of `warroom serve`, read in a real headless
//! Chromium (Debian's `chromium`) during an incident an alert opened and after it
//! is resolved, with screenshots at 320 px (the narrowest phone width WCAG 2.1's
//! reflow criterion 1.4.10 names) in the test's output directory. It shows what
//! stakeholders were told, escaped, and nothing of the timeline; its JSON and Atom
//! forms say the same; `warroom export status --out DIR` writes it as files.

mod common;

use common::chromium;
use common::fake_slack::FakeSlack;
use common::serve::{eventually, slack_team, team_env, with_slack, Served};
use common::StateDb;
use secrecy::SecretString;
use serde_json::{json, Value};
use warroom::app::Incoming;
use warroom::model::user::UserId;

const TOKEN: &str = "am-token-status";
/// An alert summary written to break out of HTML, were it not escaped.
const HOSTILE: &str =
    "API down <script>document.title='pwned'</script><img src=x onerror=alert(1)>";
const INTERNAL: &str = "internal: DELETE FROM sessions WHERE user_id = 42";

fn delivery(status: &str, ends: &str) -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"ApiDown\"}", "status": status,
        "receiver": "warroom", "groupLabels": {"alertname": "ApiDown"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": status,
                    "labels": {"alertname": "ApiDown", "severity": "critical", "component": "api"},
                    "annotations": {"summary": HOSTILE},
                    "startsAt": "2026-12-03T01:00:00Z", "endsAt": ends,
                    "generatorURL": "", "fingerprint": "0123456789abcdef"}]
    })
}

fn out_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status_page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn chromium_reads_the_status_page_during_and_after_an_incident() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    fake.invite("C_INC");
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    env.settings.hooks.alertmanager = Some(SecretString::from(TOKEN.to_string()));
    env.settings.file.status.title = "Acme status".into();
    let served = Served::start(env.settings.clone()).await;
    let app = served.app("slack").clone();
    let http = reqwest::Client::new();
    let r = http
        .post(served.url("/hooks/alertmanager"))
        .bearer_auth(TOKEN)
        .json(&delivery("firing", "0001-01-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let incident = app
        .store
        .open_incident("C_INC")
        .await
        .unwrap()
        .expect("opened");
    // Said on the timeline, never to stakeholders.
    app.event(&incident.id, "note", Some("U_DBA"), INTERNAL, None, None)
        .await
        .unwrap();

    let url = served.url("/status");
    let dom = chromium::dump_dom(&url).await;
    let text = chromium::text(&dom);
    assert!(text.contains("Acme status"), "{text}");
    assert!(text.contains("1 incident is open."), "{text}");
    assert!(text.contains(&incident.id), "{text}");
    assert!(
        text.contains("INCIDENT ALERT: P0"),
        "the stakeholder alert: {text}"
    );
    assert!(
        text.contains(HOSTILE),
        "the hostile title is shown as text: {text}"
    );
    assert!(text.contains("api Critical Major outage"), "{text}");
    assert!(text.contains("database Critical Operational"), "{text}");
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
    assert!(!dom.contains("pwned</title>"), "no script ran: {dom}");
    for private in [INTERNAL, "U_DBA", "alertmanager", "C_INC"] {
        assert!(
            !text.contains(private),
            "{private} is not for stakeholders: {text}"
        );
    }
    for landmark in [
        "<header>",
        "<main>",
        "<footer>",
        "lang=\"en\"",
        "name=\"viewport\"",
    ] {
        assert!(dom.contains(landmark), "{landmark}");
    }
    assert!(
        dom.contains("http-equiv=\"refresh\""),
        "it refreshes itself"
    );
    let during = out_dir().join("status-during.png");
    chromium::screenshot(&url, &during, 320, 1600).await;

    // The JSON and the feed say the same, no more.
    let j: Value = http
        .get(served.url("/status.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["incidents"][0]["id"], incident.id.as_str());
    assert_eq!(j["incidents"][0]["title"], HOSTILE);
    assert!(!j.to_string().contains(INTERNAL));
    let feed = http
        .get(served.url("/status/feed.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        feed.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let feed = feed.text().await.unwrap();
    assert!(
        feed.starts_with("<?xml") && feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    assert!(
        feed.contains(&incident.id) && !feed.contains("<script"),
        "{feed}"
    );

    // Resolved by the commander; the page says so on its next load.
    let resolve = Incoming {
        user: UserId::new("slack", "U_IC"),
        channel: "C_INC".into(),
        text: "/incident resolve \"API back\"".into(),
        dedup_key: None,
    };
    app.handle(&resolve).await;
    eventually("the incident to be resolved", || async {
        app.store.open_incident("C_INC").await.unwrap().is_none()
    })
    .await;
    let dom = chromium::dump_dom(&url).await;
    let text = chromium::text(&dom);
    assert!(text.contains("All systems operational."), "{text}");
    assert!(text.contains("Open incidents None."), "{text}");
    let past = text
        .split("Resolved in the last 90 days")
        .nth(1)
        .unwrap_or_default();
    assert!(
        past.contains(&incident.id) && past.contains("RESOLVED"),
        "{text}"
    );
    assert!(text.contains("api Critical Operational"), "{text}");
    let after = out_dir().join("status-after.png");
    chromium::screenshot(&url, &after, 320, 2200).await;
    eprintln!("screenshots: {} {}", during.display(), after.display());

    // The same page as static files.
    let files = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["export", "status", "--out"])
        .arg(files.path())
        .arg("--config")
        .arg(env.config_path())
        .env(
            "WARROOM_DATABASE_URL",
            secrecy::ExposeSecret::expose_secret(&env.settings.database_url),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = std::fs::read_to_string(files.path().join("index.html")).unwrap();
    assert!(index.contains(&incident.id) && index.contains("href=\"feed.atom\""));
    let file_dom = chromium::dump_dom(&format!(
        "file://{}",
        files.path().join("index.html").display()
    ))
    .await;
    assert!(chromium::text(&file_dom).contains("All systems operational."));
    assert!(files.path().join("status.json").exists() && files.path().join("feed.atom").exists());
    served.stop().await;
}

#[tokio::test]
async fn a_status_page_behind_a_token_asks_for_it() {
    let fake = FakeSlack::start().await;
    slack_team(&fake);
    let (mut env, _commands) = team_env(StateDb::Sqlite).await;
    with_slack(&mut env.settings, &fake.api_url(), true);
    env.settings.status_token = Some(SecretString::from("page-token".to_string()));
    env.settings.file.status.path = "/internal-status".into();
    let served = Served::start(env.settings.clone()).await;
    let http = reqwest::Client::new();
    for path in [
        "/internal-status",
        "/internal-status.json",
        "/internal-status/feed.atom",
    ] {
        let r = http.get(served.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = http
            .get(served.url(path))
            .bearer_auth("page-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let r = http
            .get(served.url(&format!("{path}?token=page-token")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    assert_eq!(
        http.get(served.url("/status"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    served.stop().await;
}
