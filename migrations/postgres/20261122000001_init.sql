-- warroom state, PostgreSQL dialect. Times are unix milliseconds (UTC).
CREATE TABLE commands_received (
    id          BIGSERIAL PRIMARY KEY,
    received_at BIGINT  NOT NULL,
    platform    TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    dedup_key   TEXT    UNIQUE,
    outcome     TEXT    NOT NULL DEFAULT 'received',
    detail      TEXT,
    run_id      BIGINT
);

CREATE TABLE incidents (
    id           TEXT    PRIMARY KEY,
    day          TEXT    NOT NULL,
    seq          BIGINT NOT NULL,
    title        TEXT    NOT NULL,
    severity     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    commander    TEXT,
    detected_at  BIGINT  NOT NULL,
    declared_at  BIGINT  NOT NULL,
    mitigated_at BIGINT,
    resolved_at  BIGINT,
    UNIQUE (day, seq)
);
CREATE INDEX incidents_open_by_channel ON incidents (channel, status);

CREATE TABLE timeline (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    at          BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT,
    text        TEXT    NOT NULL,
    run_id      BIGINT,
    step_idx    BIGINT
);
CREATE INDEX timeline_by_incident ON timeline (incident_id, id);

CREATE TABLE runs (
    id                  BIGSERIAL PRIMARY KEY,
    incident_id         TEXT    NOT NULL REFERENCES incidents (id),
    command             TEXT    NOT NULL,
    scope               TEXT    NOT NULL,
    scenario            TEXT    NOT NULL,
    args_json           TEXT    NOT NULL,
    platform            TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    requested_by        TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    dry_run             BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    started_at          BIGINT,
    finished_at         BIGINT,
    approval_expires_at BIGINT,
    lease_owner         TEXT,
    lease_until         BIGINT,
    progress_ref        TEXT,
    detail              TEXT
);
-- One live run per scope, enforced by the database so that replicas cannot race.
CREATE UNIQUE INDEX runs_one_live_per_scope ON runs (scope)
    WHERE state IN ('awaiting_approval', 'running');

CREATE TABLE steps (
    run_id      BIGINT  NOT NULL REFERENCES runs (id),
    idx         BIGINT NOT NULL,
    phase       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    output      TEXT,
    PRIMARY KEY (run_id, idx)
);

CREATE TABLE votes (
    run_id  BIGINT NOT NULL REFERENCES runs (id),
    user_id TEXT   NOT NULL,
    role    TEXT   NOT NULL,
    approve BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (run_id, user_id)
);
