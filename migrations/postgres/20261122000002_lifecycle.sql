-- Incident lifecycle: impact, acknowledgement, updates, response roles, timers,
-- action items and the recorded channel history.
ALTER TABLE incidents ADD COLUMN impact TEXT;
ALTER TABLE incidents ADD COLUMN acked_by TEXT;
ALTER TABLE incidents ADD COLUMN acked_at BIGINT;
ALTER TABLE incidents ADD COLUMN last_update_at BIGINT;

CREATE TABLE incident_roles (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (incident_id, role)
);

-- Durable timers: RTO warnings, escalation levels, update reminders. A timer fires
-- once (fired_at set in the same statement that claims it); a restart resumes them.
CREATE TABLE timers (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    kind        TEXT    NOT NULL,
    due_at      BIGINT  NOT NULL,
    payload     TEXT    NOT NULL,
    fired_at    BIGINT,
    cancelled   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL AND cancelled = 0;

CREATE TABLE action_items (
    id          BIGSERIAL PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    text        TEXT    NOT NULL,
    owner       TEXT,
    due         TEXT,
    created_by  TEXT    NOT NULL,
    at          BIGINT  NOT NULL
);

-- The channel history, recorded live (console lines, platform message events).
CREATE TABLE messages (
    id        BIGSERIAL PRIMARY KEY,
    platform  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    user_id   TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    at        BIGINT  NOT NULL,
    ext_id    TEXT,
    UNIQUE (platform, channel, ext_id)
);
CREATE INDEX messages_by_channel ON messages (channel, at);
