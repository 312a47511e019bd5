-- The component an incident concerns (seed 004's RTO/RPO table), and checklist ticks.
ALTER TABLE incidents ADD COLUMN component TEXT;

CREATE TABLE checklists (
    incident_id TEXT   NOT NULL REFERENCES incidents (id),
    name        TEXT   NOT NULL,
    message_ref TEXT,
    PRIMARY KEY (incident_id, name)
);

CREATE TABLE checklist_ticks (
    incident_id TEXT   NOT NULL REFERENCES incidents (id),
    name        TEXT   NOT NULL,
    item        BIGINT NOT NULL,
    user_id     TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (incident_id, name, item)
);
