-- Which incident an alert group opened, claimed before it is opened: of two
-- processes receiving the first alerts of one group at once, only the one whose
-- insert succeeds opens the incident; the other waits for it and joins it.
CREATE TABLE alert_groups (
    source      TEXT   NOT NULL,
    group_key   TEXT   NOT NULL,
    incident_id TEXT,
    claimed_at  BIGINT NOT NULL,
    PRIMARY KEY (source, group_key)
);
