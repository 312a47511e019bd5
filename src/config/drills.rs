//! `[drills.NAME]` of `warroom.toml`: a runbook rehearsed against a drill target set
//! (each production target swapped for its staging twin), how often it is due, and
//! where that cadence comes from (seed 000's monthly DR test, seed 002's quarterly
//! rollback drill, seed 001's staging test, seed 004's monthly recovery drills).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    /// The command line it rehearses, as typed: `/rollback quick reason="drill"`.
    pub run: String,
    /// How often it is due: "30d", "90d". None: when a person decides (seed 001's
    /// staging test runs before each production rollout), never reminded.
    #[serde(default)]
    pub every: Option<String>,
    /// Where the cadence and the procedure come from ("seed 002, Rollback Testing").
    pub source: String,
    /// Production target → its drill twin. Every target the runbook reaches must
    /// have one: a drill never runs against production.
    #[serde(default)]
    pub targets: BTreeMap<String, String>,
    /// Targets that already are the drill environment (seed 000's `$DR_TEST_URL`),
    /// reached as they are.
    #[serde(default)]
    pub staging: Vec<String>,
    /// Deployment vars for the drill (a staging checkout, staging process names),
    /// laid over `[vars]`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Programs the drill's author vouches act on staging here (by their drill vars
    /// or their own `--env=staging`): a `shell` step without `pg_env` runs in a
    /// drill only if its program is listed.
    #[serde(default)]
    pub programs: Vec<String>,
}

impl Drill {
    /// The twin of a production target, if the drill names one.
    pub fn twin<'a>(&'a self, target: &'a str) -> Option<&'a str> {
        match self.staging.iter().any(|t| t == target) {
            true => Some(target),
            false => self.targets.get(target).map(String::as_str),
        }
    }
}
