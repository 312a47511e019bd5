//! The JSON shape of the post-mortem, borrowed from the report.

use serde::Serialize;

#[derive(Serialize)]
pub struct Doc<'a> {
    pub incident: Incident<'a>,
    pub durations_minutes: Durations,
    pub roles: Vec<Role<'a>>,
    pub people: Vec<Person<'a>>,
    pub timeline: Vec<Entry<'a>>,
    pub runs: Vec<RunDoc<'a>>,
    pub action_items: Vec<Action<'a>>,
}

#[derive(Serialize)]
pub struct Incident<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub status: &'a str,
    pub channel: &'a str,
    pub commander: Option<&'a str>,
    pub impact: Option<&'a str>,
    pub detected_at: String,
    pub declared_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<&'a str>,
    pub mitigated_at: Option<String>,
    pub resolved_at: Option<String>,
}

#[derive(Serialize)]
pub struct Durations {
    pub to_acknowledge: Option<f64>,
    pub to_mitigate: Option<f64>,
    pub to_resolve: Option<f64>,
    pub rto: Option<f64>,
}

#[derive(Serialize)]
pub struct Role<'a> {
    pub role: &'a str,
    pub user: &'a str,
}

#[derive(Serialize)]
pub struct Person<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Entry<'a> {
    pub at: String,
    pub kind: &'a str,
    pub actor: Option<&'a str>,
    pub text: &'a str,
    pub run: Option<String>,
}

#[derive(Serialize)]
pub struct RunDoc<'a> {
    pub id: String,
    pub command: &'a str,
    pub state: &'a str,
    pub requested_by: &'a str,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub args: &'a serde_json::Value,
    pub approvals: Vec<Vote<'a>>,
    pub steps: Vec<Step<'a>>,
}

#[derive(Serialize)]
pub struct Vote<'a> {
    pub user: &'a str,
    pub approve: bool,
    pub role: &'a str,
    pub at: String,
}

#[derive(Serialize)]
pub struct Step<'a> {
    pub name: &'a str,
    pub phase: &'a str,
    pub kind: &'a str,
    pub state: &'a str,
    pub duration_ms: Option<i64>,
    pub output: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Action<'a> {
    pub text: &'a str,
    pub owner: Option<&'a str>,
    pub due: Option<&'a str>,
    pub created_by: &'a str,
    pub at: String,
}
