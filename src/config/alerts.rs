//! `[alerts]` and `[status]` of `warroom.toml`: how alerts become incidents (the
//! channel, the severity from a label, the component) and which runbook each
//! suggests (`[[alerts.rules]]`); and the stakeholder status page.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// The platform whose channels alert incidents open in (`slack`, `discord`);
    /// unset, the first one `warroom serve` runs.
    #[serde(default)]
    pub platform: Option<String>,
    /// Where an alert's incident opens unless a route says otherwise; unset,
    /// `[warroom] incident_channel`.
    #[serde(default)]
    pub channel: Option<String>,
    /// The label whose value picks the severity through `severities`.
    #[serde(default = "default_severity_label")]
    pub severity_label: String,
    /// Label value → P0..P3. A value not listed gets `default_severity`.
    #[serde(default = "default_severities")]
    pub severities: BTreeMap<String, String>,
    #[serde(default = "default_severity")]
    pub default_severity: String,
    /// The label naming seed 004's component (`database`, `api`...), whose RTO
    /// the incident's clocks then run on.
    #[serde(default = "default_component_label")]
    pub component_label: String,
    /// Label matchers → channel; the first that matches wins.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Label matchers → the command line warroom suggests (with a Run button).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            platform: None,
            channel: None,
            severity_label: default_severity_label(),
            severities: default_severities(),
            default_severity: default_severity(),
            component_label: default_component_label(),
            routes: Vec::new(),
            rules: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Every label here must have exactly this value.
    #[serde(rename = "match")]
    pub matchers: BTreeMap<String, String>,
    pub channel: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Every label here must have exactly this value.
    #[serde(rename = "match")]
    pub matchers: BTreeMap<String, String>,
    /// A command line; `{labels.X}` and `{annotations.X}` are replaced by the
    /// alert's values, each checked against the argument it lands in.
    pub run: String,
}

/// True when every matcher's label has its value.
pub fn matches(matchers: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn default_severity_label() -> String {
    "severity".into()
}
fn default_component_label() -> String {
    "component".into()
}
fn default_severity() -> String {
    "P2".into()
}
/// The usual Alertmanager `severity` label values, in seed 000's words
/// (Critical, High, Medium, Low) and Prometheus' customary ones.
fn default_severities() -> BTreeMap<String, String> {
    [
        ("critical", "P0"),
        ("page", "P0"),
        ("high", "P1"),
        ("error", "P1"),
        ("warning", "P2"),
        ("medium", "P2"),
        ("low", "P3"),
        ("info", "P3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `[status]`: the stakeholder status page `warroom serve` answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusPage {
    /// Where it is served (`/status`, `/status.json`, `/status/feed.atom`).
    #[serde(default = "default_status_path")]
    pub path: String,
    /// Its heading.
    #[serde(default = "default_status_title")]
    pub title: String,
    /// The environment variable holding a token the page asks for (as
    /// `Authorization: Bearer` or `?token=`); unset, the page is public.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Seconds between the page's own refreshes (meta refresh).
    #[serde(default = "default_refresh")]
    pub refresh: u32,
    /// How far back resolved incidents are listed, in days.
    #[serde(default = "default_days")]
    pub days: u32,
}

impl Default for StatusPage {
    fn default() -> Self {
        StatusPage {
            path: default_status_path(),
            title: default_status_title(),
            token_env: None,
            refresh: default_refresh(),
            days: default_days(),
        }
    }
}

fn default_status_path() -> String {
    "/status".into()
}
fn default_status_title() -> String {
    "Service status".into()
}
fn default_refresh() -> u32 {
    60
}
fn default_days() -> u32 {
    90
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matcher_needs_every_label_to_have_its_value() {
        let labels: BTreeMap<String, String> = [("alertname", "KanbanErrors"), ("env", "prod")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let m = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(matches(&m(&[("alertname", "KanbanErrors")]), &labels));
        assert!(matches(&m(&[]), &labels));
        assert!(!matches(
            &m(&[("alertname", "KanbanErrors"), ("env", "dev")]),
            &labels
        ));
        assert!(!matches(&m(&[("team", "x")]), &labels));
    }
}
