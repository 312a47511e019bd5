//! Runs, their steps and the votes on them.
//!
//! State changes are compare-and-set (`UPDATE ... WHERE state = expected`) so that two
//! processes can never both start, approve or finish the same run.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Connection, Row};

use super::{from_millis, millis, opt_from_millis, Store, StoreError};
use crate::model::run::{Phase, Run, RunState, StepRecord, StepState};
use crate::model::user::{UserId, Vote};

const RUN_COLUMNS: &str =
    "id, incident_id, command, scope, scenario, args_json, platform, channel, \
     requested_by, state, dry_run, created_at, started_at, finished_at, approval_expires_at, \
     progress_ref, detail, requester_groups, plan";

#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub incident_id: &'a str,
    pub command: &'a str,
    pub scope: &'a str,
    pub scenario: &'a str,
    pub args: &'a serde_json::Value,
    pub channel: &'a str,
    pub requested_by: &'a UserId,
    pub state: RunState,
    pub dry_run: bool,
    pub at: DateTime<Utc>,
    pub approval_expires_at: Option<DateTime<Utc>>,
    /// (phase, name, kind) of every step, in order.
    pub steps: Vec<(Phase, String, &'static str)>,
}

/// A live run already holds the scope.
#[derive(Debug, Clone)]
pub struct RunConflict(pub Run);

/// A `votes` row read as `user_id, approve, role, at, groups`: the vote, the role
/// it was cast as, and when.
pub(super) fn vote_row(r: &AnyRow) -> (Vote, String, DateTime<Utc>) {
    let user: String = r.get(0);
    let (platform, id) = user.split_once(':').unwrap_or(("", &user));
    (
        Vote {
            user: UserId::new(platform, id).with_groups(split_groups(&r.get::<String, _>(4))),
            approve: r.get::<i64, _>(1) != 0,
        },
        r.get(2),
        from_millis(r.get(3)),
    )
}

fn run(r: &AnyRow) -> Result<Run, StoreError> {
    let state: String = r.get(9);
    let args: String = r.get(5);
    Ok(Run {
        id: r.get(0),
        incident_id: r.get(1),
        command: r.get(2),
        scope: r.get(3),
        scenario: r.get(4),
        args: serde_json::from_str(&args).map_err(|e| StoreError::Corrupt {
            table: "runs",
            what: e.to_string(),
        })?,
        requested_by: UserId::new(&r.get::<String, _>(6), &r.get::<String, _>(8))
            .with_groups(split_groups(&r.get::<String, _>(17))),
        channel: r.get(7),
        state: RunState::parse(&state).ok_or(StoreError::Corrupt {
            table: "runs",
            what: format!("unknown state {state}"),
        })?,
        dry_run: r.get::<i64, _>(10) != 0,
        created_at: from_millis(r.get(11)),
        started_at: opt_from_millis(r.get(12)),
        finished_at: opt_from_millis(r.get(13)),
        approval_expires_at: opt_from_millis(r.get(14)),
        progress_ref: r.get(15),
        detail: r.get(16),
        plan: r.get(18),
    })
}

/// Groups are stored comma-separated (platform group ids never contain commas).
pub(super) fn join_groups(user: &UserId) -> String {
    user.groups.join(",")
}

pub(super) fn split_groups(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    /// Creates a run and its pending steps in one transaction. Fails with the live run
    /// when the scope is taken (the partial unique index decides, not a read).
    pub async fn create_run(&self, n: &NewRun<'_>) -> Result<Result<Run, RunConflict>, StoreError> {
        let mut writing = self.writing().await?;
        let mut tx = writing.begin().await?;
        let sql = self.sql(
            "INSERT INTO runs (incident_id, command, scope, scenario, args_json, platform, channel,
                requested_by, state, dry_run, created_at, approval_expires_at, started_at,
                requester_groups)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT DO NOTHING
             RETURNING id",
        );
        let id: Option<i64> = sqlx::query_scalar(&sql)
            .bind(n.incident_id)
            .bind(n.command)
            .bind(n.scope)
            .bind(n.scenario)
            .bind(n.args.to_string())
            .bind(&n.requested_by.platform)
            .bind(n.channel)
            .bind(&n.requested_by.id)
            .bind(n.state.as_str())
            .bind(i64::from(n.dry_run))
            .bind(millis(n.at))
            .bind(n.approval_expires_at.map(millis))
            .bind((n.state == RunState::Running).then(|| millis(n.at)))
            .bind(join_groups(n.requested_by))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            drop(writing);
            return match self.live_run(n.scope).await? {
                Some(live) => Ok(Err(RunConflict(live))),
                None => Err(StoreError::Corrupt {
                    table: "runs",
                    what: format!("scope {} refused a run but holds none", n.scope),
                }),
            };
        };
        let sql = self.sql(
            "INSERT INTO steps (run_id, idx, phase, name, kind, state) VALUES ($1, $2, $3, $4, $5, 'pending')",
        );
        for (idx, (phase, name, kind)) in n.steps.iter().enumerate() {
            sqlx::query(&sql)
                .bind(id)
                .bind(idx as i64)
                .bind(phase.as_str())
                .bind(name)
                .bind(*kind)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        drop(writing);
        Ok(Ok(self.run(id).await?.ok_or(StoreError::Corrupt {
            table: "runs",
            what: format!("run {id} vanished after insert"),
        })?))
    }

    pub async fn run(&self, id: i64) -> Result<Option<Run>, StoreError> {
        let sql = self.sql(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"));
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        row.as_ref().map(run).transpose()
    }

    pub async fn live_run(&self, scope: &str) -> Result<Option<Run>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE scope = $1 AND state IN ('awaiting_approval', 'running')"
        ));
        let row = sqlx::query(&sql)
            .bind(scope)
            .fetch_optional(&mut *self.reading().await?)
            .await?;
        row.as_ref().map(run).transpose()
    }

    /// Runs in `state`, oldest first.
    /// Runs in `state`, oldest first. The live states read the partial index
    /// `runs_live`, so every `/status` and tick costs the same after a year of
    /// finished runs (issue 18: with statistics, SQLite scanned them all).
    pub async fn runs_in_state(&self, state: RunState) -> Result<Vec<Run>, StoreError> {
        let sql = if matches!(state, RunState::AwaitingApproval | RunState::Running) {
            self.sql(&format!(
                "SELECT {RUN_COLUMNS} FROM runs \
                 WHERE state IN ('awaiting_approval', 'running') AND state = $1 ORDER BY id"
            ))
        } else {
            self.sql(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE state = $1 ORDER BY id"
            ))
        };
        let rows = sqlx::query(&sql)
            .bind(state.as_str())
            .fetch_all(&mut *self.reading().await?)
            .await?;
        rows.iter().map(run).collect()
    }

    pub async fn incident_runs(&self, incident_id: &str) -> Result<Vec<Run>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE incident_id = $1 ORDER BY id"
        ));
        let rows = sqlx::query(&sql)
            .bind(incident_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        rows.iter().map(run).collect()
    }

    /// Moves a run from `from` to `to`; false if another process moved it first.
    pub async fn transition(
        &self,
        id: i64,
        from: RunState,
        to: RunState,
        at: DateTime<Utc>,
        detail: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE runs SET state = $1,
               started_at = CASE WHEN $1 = 'running' AND started_at IS NULL THEN $2 ELSE started_at END,
               finished_at = CASE WHEN $1 IN ('running', 'awaiting_approval') THEN finished_at ELSE $2 END,
               detail = COALESCE($3, detail)
             WHERE id = $4 AND state = $5",
        );
        let done = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(millis(at))
            .bind(detail)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *self.writing().await?)
            .await?;
        let moved = done.rows_affected() == 1;
        if moved {
            self.observe_run(id, from, to, at).await;
        }
        Ok(moved)
    }

    /// The metrics of a run's move: how long approvals were waited for (by
    /// scenario), how runs end and how long they took (by command). Names come
    /// from the command files, so the labels are bounded. Observed here, where
    /// every path (pipeline, ticker, recovery) moves runs.
    async fn observe_run(&self, id: i64, from: RunState, to: RunState, at: DateTime<Utc>) {
        let Ok(Some(r)) = self.run(id).await else {
            return;
        };
        let secs = |since: DateTime<Utc>| (at - since).num_milliseconds().max(0) as f64 / 1000.0;
        if from == RunState::AwaitingApproval {
            metrics::histogram!("warroom_approval_wait_seconds", "scenario" => r.scenario.clone(), "outcome" => to.as_str())
                .record(secs(r.created_at));
        }
        if !to.is_live() {
            metrics::counter!("warroom_runs_total", "command" => r.command.clone(), "outcome" => to.as_str())
                .increment(1);
            metrics::histogram!("warroom_run_duration_seconds", "command" => r.command, "outcome" => to.as_str())
                .record(secs(r.started_at.unwrap_or(r.created_at)));
        }
    }

    /// Takes the run for this process until `until`. False if another live process holds it.
    pub async fn claim(
        &self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE runs SET lease_owner = $1, lease_until = $2
             WHERE id = $3 AND state = 'running'
               AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)",
        );
        let done = sqlx::query(&sql)
            .bind(owner)
            .bind(millis(until))
            .bind(id)
            .bind(millis(now))
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2");
        sqlx::query(&sql)
            .bind(id)
            .bind(owner)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Running runs whose process is gone, whatever their steps were doing: the
    /// lease the engine renews before each step lapsed (killed before the first
    /// step, during one, between two, or after the last), or no lease was ever
    /// taken and nothing has moved since `quiet_since` (killed between starting
    /// the run and driving it). A run parked at a checkpoint holds no lease and is
    /// not orphaned: it waits for `/confirm`.
    pub async fn orphaned_runs(
        &self,
        now: DateTime<Utc>,
        quiet_since: DateTime<Utc>,
    ) -> Result<Vec<Run>, StoreError> {
        let sql = self.sql(&format!(
            "SELECT {RUN_COLUMNS} FROM runs r WHERE state = 'running'
               AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.state = 'waiting')
               AND (lease_until < $1
                 OR (lease_until IS NULL
                     AND EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.state = 'running'))
                 OR (lease_until IS NULL AND COALESCE(started_at, created_at) < $2
                     AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id
                                     AND COALESCE(s.finished_at, s.started_at, 0) >= $2)))
             ORDER BY id"
        ));
        let rows = sqlx::query(&sql)
            .bind(millis(now))
            .bind(millis(quiet_since))
            .fetch_all(&mut *self.reading().await?)
            .await?;
        rows.iter().map(run).collect()
    }

    pub async fn set_progress_ref(&self, id: i64, r: &str) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE runs SET progress_ref = $1 WHERE id = $2");
        sqlx::query(&sql)
            .bind(r)
            .bind(id)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    pub async fn steps(&self, run_id: i64) -> Result<Vec<StepRecord>, StoreError> {
        let sql = self.sql(
            "SELECT idx, phase, name, kind, state, started_at, finished_at, output, message_ref
             FROM steps WHERE run_id = $1 ORDER BY idx",
        );
        let rows = sqlx::query(&sql)
            .bind(run_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.get(4);
                Ok(StepRecord {
                    idx: r.get(0),
                    phase: r.get(1),
                    name: r.get(2),
                    kind: r.get(3),
                    state: StepState::parse(&state).ok_or(StoreError::Corrupt {
                        table: "steps",
                        what: format!("unknown state {state}"),
                    })?,
                    started_at: opt_from_millis(r.get(5)),
                    finished_at: opt_from_millis(r.get(6)),
                    output: r.get(7),
                    message_ref: r.get(8),
                })
            })
            .collect()
    }

    pub async fn set_step_message(
        &self,
        run_id: i64,
        idx: i64,
        message_ref: &str,
    ) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE steps SET message_ref = $1 WHERE run_id = $2 AND idx = $3");
        sqlx::query(&sql)
            .bind(message_ref)
            .bind(run_id)
            .bind(idx)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(())
    }

    /// Moves a step from `from` to `to`. Entering `running` stamps the start; leaving it
    /// stamps the end. False if the step was not in `from`.
    pub async fn step_transition(
        &self,
        run_id: i64,
        idx: i64,
        from: StepState,
        to: StepState,
        at: DateTime<Utc>,
        output: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE steps SET state = $1,
               started_at = CASE WHEN $1 = 'running' THEN $2 ELSE started_at END,
               finished_at = CASE WHEN $1 IN ('succeeded', 'failed', 'skipped') THEN $2 ELSE finished_at END,
               output = COALESCE($3, output)
             WHERE run_id = $4 AND idx = $5 AND state = $6",
        );
        let done = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(millis(at))
            .bind(output)
            .bind(run_id)
            .bind(idx)
            .bind(from.as_str())
            .execute(&mut *self.writing().await?)
            .await?;
        let moved = done.rows_affected() == 1;
        if moved
            && matches!(
                to,
                StepState::Succeeded | StepState::Failed | StepState::Skipped
            )
        {
            self.observe_step(run_id, idx, to, at).await;
        }
        Ok(moved)
    }

    /// A step's end: its outcome and, when it ran, its duration, by command.
    async fn observe_step(&self, run_id: i64, idx: i64, to: StepState, at: DateTime<Utc>) {
        let sql = self.sql(
            "SELECT r.command, s.started_at FROM steps s JOIN runs r ON r.id = s.run_id
             WHERE s.run_id = $1 AND s.idx = $2",
        );
        let Ok(mut conn) = self.reading().await else {
            return;
        };
        let row = match sqlx::query(&sql)
            .bind(run_id)
            .bind(idx)
            .fetch_optional(&mut *conn)
            .await
        {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(e) => {
                super::readers::trouble(&e);
                return;
            }
        };
        let command: String = row.get(0);
        let started: Option<i64> = row.get(1);
        metrics::counter!("warroom_steps_total", "command" => command.clone(), "outcome" => to.as_str())
            .increment(1);
        if let Some(started) = started {
            metrics::histogram!("warroom_step_duration_seconds", "command" => command, "outcome" => to.as_str())
                .record((millis(at) - started).max(0) as f64 / 1000.0);
        }
    }

    /// Starts a main step (pending → running), only while its run is `running`:
    /// false once it was cancelled or reported interrupted, so a `/cancel` that
    /// lands between the engine's claim and the step's start still stops it.
    pub async fn start_step(
        &self,
        run_id: i64,
        idx: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE steps SET state = 'running', started_at = $1
             WHERE run_id = $2 AND idx = $3 AND state = 'pending'
               AND EXISTS (SELECT 1 FROM runs WHERE id = $2 AND state = 'running')",
        );
        let done = sqlx::query(&sql)
            .bind(millis(at))
            .bind(run_id)
            .bind(idx)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a vote; false if this user already voted on the run.
    /// Records a vote on the run's plan `plan`; false if this person already
    /// decided on that plan.
    pub async fn add_vote(
        &self,
        run_id: i64,
        user: &UserId,
        role: &str,
        approve: bool,
        at: DateTime<Utc>,
        plan: &str,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO votes (run_id, user_id, role, approve, at, groups, plan)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT DO NOTHING",
        );
        let done = sqlx::query(&sql)
            .bind(run_id)
            .bind(format!("{}:{}", user.platform, user.id))
            .bind(role)
            .bind(i64::from(approve))
            .bind(millis(at))
            .bind(join_groups(user))
            .bind(plan)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves the run to a new plan (compare-and-set on the old one): the votes cast
    /// on the old plan stop counting. False if another process moved it first.
    pub async fn set_run_plan(
        &self,
        run_id: i64,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql("UPDATE runs SET plan = $1 WHERE id = $2 AND plan = $3"))
            .bind(to)
            .bind(run_id)
            .bind(from)
            .execute(&mut *self.writing().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Votes on the run's current plan, with the role each voter decided as and
    /// when, in the order given.
    pub async fn votes(
        &self,
        run_id: i64,
    ) -> Result<Vec<(Vote, String, DateTime<Utc>)>, StoreError> {
        let sql = self.sql(
            "SELECT v.user_id, v.approve, v.role, v.at, v.groups FROM votes v \
             JOIN runs r ON r.id = v.run_id AND r.plan = v.plan \
             WHERE v.run_id = $1 ORDER BY v.at, v.user_id",
        );
        let rows = sqlx::query(&sql)
            .bind(run_id)
            .fetch_all(&mut *self.reading().await?)
            .await?;
        Ok(rows.iter().map(vote_row).collect())
    }
}
