-- The tamper-evident audit trail (store/audit.rs): a hash chain over received
-- commands, timeline events and votes, sealed in order. The same in both dialects.
CREATE TABLE audit (
    seq       BIGINT NOT NULL PRIMARY KEY,
    source    TEXT   NOT NULL,
    source_id TEXT   NOT NULL,
    at        BIGINT NOT NULL,
    content   TEXT   NOT NULL,
    prev      TEXT   NOT NULL,
    hash      TEXT   NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX audit_by_time ON audit (at);

-- One row: who is sealing (its lock serializes sealers) and the highest source ids
-- sealed so far, so a seal looks only at recent rows.
CREATE TABLE audit_head (
    id            BIGINT NOT NULL PRIMARY KEY,
    sealing_at    BIGINT NOT NULL DEFAULT 0,
    command_mark  BIGINT NOT NULL DEFAULT 0,
    timeline_mark BIGINT NOT NULL DEFAULT 0
);
INSERT INTO audit_head (id) VALUES (1);
