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

-- `warroom report` reads incidents by detection time, the status page the ones
-- resolved lately: neither may read every incident ever recorded.
CREATE INDEX incidents_detected ON incidents (detected_at);
CREATE INDEX incidents_resolved ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
