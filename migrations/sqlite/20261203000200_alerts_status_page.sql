-- Alerts from monitoring (Alertmanager), recorded before anything is done with
-- them: one row per alert (source + fingerprint). A repeat delivery updates its
-- row (`received`, `last_seen`); a change of status or a new start is a new
-- episode of the same row. `incident_id` is the incident it opened or joined.
CREATE TABLE alerts (
    source      TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    group_key   TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    labels      TEXT   NOT NULL,
    annotations TEXT   NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT,
    incident_id TEXT,
    received    BIGINT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (source, fingerprint)
);
CREATE INDEX alerts_group ON alerts (source, group_key);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- What stakeholders were told, as they read it: each stakeholder message, its text
-- replaced when a burst edits it. The status page shows these and nothing else.
CREATE TABLE status_posts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT   NOT NULL,
    posted_at   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    text        TEXT   NOT NULL
);
CREATE INDEX status_posts_incident ON status_posts (incident_id, id);
