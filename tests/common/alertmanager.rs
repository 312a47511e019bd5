//! The real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, which
//! `scripts/test` installs) started for one test: its webhook receiver is a
//! `warroom serve` the test started, with a bearer token, and small group timers
//! so a notification goes out within a second or two. Alerts are posted to its
//! API v2 (`POST /api/v2/alerts`, the `postableAlerts` of its OpenAPI spec,
//! api/v2/openapi.yaml in prometheus/alertmanager). Killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The binary, found on PATH; the test fails, never skips, without it.
pub fn binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("prometheus-alertmanager");
        if p.exists() {
            return p;
        }
    }
    panic!(
        "prometheus-alertmanager is not installed: ./scripts/test installs it \
         (apt-get install prometheus-alertmanager)"
    );
}

pub struct Alertmanager {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Alertmanager {
    /// Starts it with one receiver, `webhook` (warroom's URL), authenticated with
    /// `token` (`http_config.authorization`, Alertmanager's documented form).
    pub async fn start(webhook: &str, token: &str) -> Alertmanager {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "route:\n  receiver: warroom\n  group_by: ['alertname']\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: warroom\n    webhook_configs:\n      - url: '{webhook}'\n        \
             send_resolved: true\n        http_config:\n          authorization:\n            \
             type: Bearer\n            credentials: '{token}'\n"
        );
        let path = dir.path().join("alertmanager.yml");
        std::fs::write(&path, config).expect("write config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).expect("log");
        let child = Command::new(binary())
            .arg(format!("--config.file={}", path.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip cluster: one instance, no port 9094 to collide on.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus-alertmanager");
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{}/-/ready", am.url)).send().await {
                if r.status().is_success() {
                    return am;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("Alertmanager did not become ready: {}", am.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// Posts one alert (firing when `ends_at` is None, else resolved at it).
    pub async fn post(&self, labels: Value, annotations: Value, ends_at: Option<&str>) {
        let mut alert = json!({
            "labels": labels,
            "annotations": annotations,
            "generatorURL": "http://prometheus.example/graph?g0.expr=kanban_errors",
        });
        if let Some(t) = ends_at {
            alert["endsAt"] = json!(t);
        }
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&json!([alert]))
            .send()
            .await
            .expect("Alertmanager answers");
        assert!(
            r.status().is_success(),
            "Alertmanager refused the alert: {}",
            r.status()
        );
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
