-- Break-glass (issue 13): a stop a seed calls immediate runs on one authorized
-- person's word, and the approvers the matrix still wants are asked to ratify it
-- afterwards, by `due_at` (unix ms). `state` moves once, compare-and-set, from
-- 'pending' to 'ratified' or to 'unratified' (the deadline passed: escalated, and
-- marked so in the timeline and the post-mortem). Ratifications are votes with the
-- plan 'ratify', so the audit chain covers them like approvals.
CREATE TABLE ratifications (
    run_id      BIGINT NOT NULL PRIMARY KEY REFERENCES runs (id),
    incident_id TEXT   NOT NULL,
    requested_at BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    state       TEXT   NOT NULL DEFAULT 'pending',
    decided_at  BIGINT,
    message_ref TEXT
);
CREATE INDEX ratifications_pending ON ratifications (state, due_at);
