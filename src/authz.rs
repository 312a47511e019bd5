//! The authorization matrix and the pure decisions made against it.
//!
//! The matrix is data (`commands/matrix.toml`): roles with their members by platform
//! user id, and per scenario who may request, which roles must decide (each role covered
//! by a different person), who is notified and how long approval may take. Seed 002's
//! "Rollback Authorization" table is the model. Nothing here does I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;

use crate::model::user::{UserId, Vote};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub title: String,
    /// Platform user ids: `U_ONCALL` matches on every platform, `slack:U123` or
    /// `discord:1234` only there; `discord-role:5678` is every holder of that
    /// Discord guild role, `slack-group:S0123ABC` every member of that Slack user
    /// group.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// Who holds the role first and who backs them up, as the seeds' role tables say
    /// ("CTO", "Lead Developer"): seed 004's Role Assignments, seed 001's Contact List.
    #[serde(default)]
    pub primary: Option<String>,
    #[serde(default)]
    pub secondary: Option<String>,
    /// How to reach them outside chat (seed 004's "[PHONE] [EMAIL] [SLACK]").
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub title: String,
    /// Roles whose members may ask for a command of this scenario.
    pub request: Vec<String>,
    /// Roles that must all be covered, each by a different person, before it runs.
    /// The requester covers one of them if they hold it.
    #[serde(default)]
    pub decide: Vec<String>,
    #[serde(default)]
    pub notify: Vec<String>,
    /// How long a request may wait for its approvals, e.g. "15m".
    #[serde(default = "default_ttl")]
    pub approval_ttl: String,
    /// Who may tick a `confirm` checkpoint; defaults to `request`.
    #[serde(default)]
    pub confirm: Vec<String>,
}

fn default_ttl() -> String {
    "30m".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub roles: BTreeMap<String, Role>,
    pub scenarios: BTreeMap<String, Scenario>,
}

/// A request refused by the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownScenario(String),
    NotRequester {
        allowed: Vec<String>,
    },
    OwnRun,
    NoDecidingRole {
        needed: Vec<String>,
    },
    AlreadyDecided,
    NotNeeded {
        role: String,
        still_needed: Vec<String>,
    },
}

/// What a request needs before it may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Role titles still to be covered by approvers, in matrix order.
    pub missing: Vec<String>,
    pub ttl: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Pending { missing: Vec<String> },
    Denied { by: UserId },
}

impl Matrix {
    /// Role ids `user` holds.
    pub fn roles_of(&self, user: &UserId) -> BTreeSet<&str> {
        let scoped = format!("{}:{}", user.platform, user.id);
        // Slack calls its groups user groups, Discord guild roles.
        let group_prefix = match user.platform.as_str() {
            "slack" => "slack-group:".to_string(),
            platform => format!("{platform}-role:"),
        };
        let in_group = |m: &str| {
            m.strip_prefix(&group_prefix)
                .is_some_and(|g| user.groups.iter().any(|held| held == g))
        };
        // A member with a platform prefix (`discord-role:999`, `slack:U1`) matches
        // only on that platform, exactly: `--as discord-role:999` on the console is
        // not that role. A bare id (`U_ONCALL`) matches on every platform.
        let matches = |m: &str| {
            if m.contains(':') {
                m == scoped || in_group(m)
            } else {
                m == user.id
            }
        };
        self.roles
            .iter()
            .filter(|(_, r)| r.members.iter().any(|m| matches(m)))
            .map(|(id, _)| id.as_str())
            .collect()
    }

    pub fn title(&self, role: &str) -> String {
        self.roles
            .get(role)
            .map_or_else(|| role.to_string(), |r| r.title.clone())
    }

    fn titles(&self, roles: &[String]) -> Vec<String> {
        roles.iter().map(|r| self.title(r)).collect()
    }

    fn scenario(&self, id: &str) -> Result<&Scenario, Refusal> {
        self.scenarios
            .get(id)
            .ok_or_else(|| Refusal::UnknownScenario(id.into()))
    }

    /// May `user` ask for a command of `scenario`, and what must follow?
    pub fn request(&self, scenario: &str, user: &UserId) -> Result<Plan, Refusal> {
        let sc = self.scenario(scenario)?;
        let held = self.roles_of(user);
        if !sc.request.iter().any(|r| held.contains(r.as_str())) {
            return Err(Refusal::NotRequester {
                allowed: self.titles(&sc.request),
            });
        }
        let missing = match self.verdict(scenario, user, &[])? {
            Verdict::Pending { missing } => missing,
            _ => Vec::new(),
        };
        Ok(Plan {
            missing,
            ttl: crate::model::duration::parse_duration(&sc.approval_ttl)
                .unwrap_or(Duration::from_secs(1800)),
        })
    }

    /// The state of a request given the votes so far.
    pub fn verdict(
        &self,
        scenario: &str,
        requester: &UserId,
        votes: &[Vote],
    ) -> Result<Verdict, Refusal> {
        let sc = self.scenario(scenario)?;
        if let Some(no) = votes.iter().find(|v| !v.approve) {
            return Ok(Verdict::Denied {
                by: no.user.clone(),
            });
        }
        let mut people: Vec<&UserId> = vec![requester];
        for v in votes {
            if !people.contains(&&v.user) {
                people.push(&v.user);
            }
        }
        let covered = self.cover(&sc.decide, &people);
        let missing: Vec<String> = sc
            .decide
            .iter()
            .filter(|r| !covered.contains(*r))
            .cloned()
            .collect();
        Ok(if missing.is_empty() {
            Verdict::Approved
        } else {
            Verdict::Pending {
                missing: self.titles(&missing),
            }
        })
    }

    /// Who covers each deciding role of an approved request, in the matrix's order
    /// (`("DevSecOps Lead", "U_LEAD")`): the final matching of people to roles, which
    /// may have moved a two-role approver since they voted.
    pub fn covered_by(
        &self,
        scenario: &str,
        requester: &UserId,
        votes: &[Vote],
    ) -> Result<Vec<(String, String)>, Refusal> {
        let sc = self.scenario(scenario)?;
        let mut people: Vec<&UserId> = vec![requester];
        for v in votes.iter().filter(|v| v.approve) {
            if !people.contains(&&v.user) {
                people.push(&v.user);
            }
        }
        let owner = self.assign(&sc.decide, &people);
        Ok(owner
            .into_iter()
            .map(|(r, p)| (self.title(&sc.decide[r]), people[p].id.clone()))
            .collect())
    }

    /// May `user` approve (or deny) this request now? Returns the role they decide as.
    pub fn may_vote(
        &self,
        scenario: &str,
        requester: &UserId,
        votes: &[Vote],
        user: &UserId,
    ) -> Result<String, Refusal> {
        let sc = self.scenario(scenario)?;
        if user == requester {
            return Err(Refusal::OwnRun);
        }
        if votes.iter().any(|v| &v.user == user) {
            return Err(Refusal::AlreadyDecided);
        }
        let held = self.roles_of(user);
        let deciding: Vec<&String> = sc
            .decide
            .iter()
            .filter(|r| held.contains(r.as_str()))
            .collect();
        if deciding.is_empty() {
            return Err(Refusal::NoDecidingRole {
                needed: self.titles(&sc.decide),
            });
        }
        let mut people: Vec<&UserId> = vec![requester];
        people.extend(votes.iter().map(|v| &v.user));
        let before = self.cover(&sc.decide, &people);
        people.push(user);
        let after = self.cover(&sc.decide, &people);
        if after.len() <= before.len() {
            let still: Vec<String> = sc
                .decide
                .iter()
                .filter(|r| !before.contains(*r))
                .cloned()
                .collect();
            return Err(Refusal::NotNeeded {
                role: self.title(deciding[0]),
                still_needed: self.titles(&still),
            });
        }
        // The role the voter covers in the new matching, which is one they hold:
        // not the slot the matching freed (regression: the second approver was
        // recorded "as Database Admin" when a two-role approver had moved there).
        let voter = people.len() - 1;
        let role = self
            .assign(&sc.decide, &people)
            .into_iter()
            .find(|&(_, p)| p == voter)
            .map_or_else(|| deciding[0].clone(), |(r, _)| sc.decide[r].clone());
        Ok(self.title(&role))
    }

    /// May `user` tick a confirm checkpoint of this scenario?
    pub fn may_confirm(&self, scenario: &str, user: &UserId) -> Result<(), Refusal> {
        let sc = self.scenario(scenario)?;
        let allowed = if sc.confirm.is_empty() {
            &sc.request
        } else {
            &sc.confirm
        };
        let held = self.roles_of(user);
        if allowed.iter().any(|r| held.contains(r.as_str())) {
            Ok(())
        } else {
            Err(Refusal::NotRequester {
                allowed: self.titles(allowed),
            })
        }
    }

    /// Members of the roles to notify for a scenario.
    pub fn notify_roles(&self, scenario: &str) -> Vec<String> {
        self.scenarios
            .get(scenario)
            .map(|s| self.titles(&s.notify))
            .unwrap_or_default()
    }

    /// The largest set of `roles` coverable with each person covering at most one role
    /// they hold (bipartite matching by augmenting paths; sets here are tiny).
    fn cover(&self, roles: &[String], people: &[&UserId]) -> BTreeSet<String> {
        self.assign(roles, people)
            .keys()
            .map(|&r| roles[r].clone())
            .collect()
    }

    /// The matching itself: role index → the index of the person covering it.
    fn assign(&self, roles: &[String], people: &[&UserId]) -> BTreeMap<usize, usize> {
        let held: Vec<BTreeSet<&str>> = people.iter().map(|p| self.roles_of(p)).collect();
        let mut owner: BTreeMap<usize, usize> = BTreeMap::new();
        for person in 0..people.len() {
            let mut seen = vec![false; roles.len()];
            augment(person, roles, &held, &mut owner, &mut seen);
        }
        owner
    }
}

fn augment(
    person: usize,
    roles: &[String],
    held: &[BTreeSet<&str>],
    owner: &mut BTreeMap<usize, usize>,
    seen: &mut [bool],
) -> bool {
    for (r, role) in roles.iter().enumerate() {
        if seen[r] || !held[person].contains(role.as_str()) {
            continue;
        }
        seen[r] = true;
        let free = match owner.get(&r) {
            None => true,
            Some(&other) => augment(other, roles, held, owner, seen),
        };
        if free {
            owner.insert(r, person);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests;
