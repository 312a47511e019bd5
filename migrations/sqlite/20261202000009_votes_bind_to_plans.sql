-- Votes bind to the plan they approved (issue 15): a run remembers the hash of
-- what it will do as its request showed it, and each vote the hash its voter saw.
-- When the plan changes before the run starts, the votes cast on the old one no
-- longer count, and their rows stay (the audit chain covers them). A person may
-- vote once per plan, so the key grows a plan column (SQLite cannot alter a key:
-- the table is rebuilt).
ALTER TABLE runs ADD COLUMN plan TEXT NOT NULL DEFAULT '';

CREATE TABLE votes_by_plan (
    run_id  BIGINT NOT NULL REFERENCES runs (id),
    user_id TEXT   NOT NULL,
    role    TEXT   NOT NULL,
    approve BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    groups  TEXT   NOT NULL DEFAULT '',
    plan    TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, user_id, plan)
);
INSERT INTO votes_by_plan (run_id, user_id, role, approve, at, groups, plan)
    SELECT run_id, user_id, role, approve, at, groups, '' FROM votes;
DROP TABLE votes;
ALTER TABLE votes_by_plan RENAME TO votes;
