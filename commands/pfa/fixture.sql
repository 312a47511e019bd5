-- Seed 002 (PFA Vanguard, ADR-008) schema as its rollback plan touches it: the v3.0.0
-- tables (pfa_records, pfa_modification, feature_flags) plus what the Phase 4 migration
-- 20251128000003_phase4_bidirectional_sync_infrastructure added (pfa_write_queue,
-- pfa_sync_conflict and four sync columns on pfa_modification), with data in each.
CREATE TABLE pfa_records (
    id              SERIAL PRIMARY KEY,
    organization_id TEXT NOT NULL,
    pfa_id          TEXT NOT NULL,
    category        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE pfa_modification (
    id             SERIAL PRIMARY KEY,
    record_id      INTEGER NOT NULL REFERENCES pfa_records (id),
    field          TEXT NOT NULL,
    new_value      TEXT,
    modified_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Added by the Phase 4 migration.
    sync_status    TEXT NOT NULL DEFAULT 'pending',
    synced_at      TIMESTAMPTZ,
    sync_error     TEXT,
    pems_version   INTEGER
);
CREATE TABLE pfa_write_queue (
    id              SERIAL PRIMARY KEY,
    modification_id INTEGER NOT NULL REFERENCES pfa_modification (id),
    status          TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE pfa_sync_conflict (
    id              SERIAL PRIMARY KEY,
    modification_id INTEGER NOT NULL REFERENCES pfa_modification (id),
    write_queue_id  INTEGER REFERENCES pfa_write_queue (id),
    pems_value      TEXT,
    local_value     TEXT
);
CREATE TABLE feature_flags (
    flag_name TEXT PRIMARY KEY,
    enabled   BOOLEAN NOT NULL
);

-- 120 records: 80 for org-rio, 40 for org-sp.
INSERT INTO pfa_records (organization_id, pfa_id, category)
SELECT CASE WHEN i <= 80 THEN 'org-rio' ELSE 'org-sp' END,
       'PFA-' || lpad(i::text, 4, '0'),
       (ARRAY['Equipment', 'Labor', 'Material'])[1 + i % 3]
FROM generate_series(1, 120) AS i;

INSERT INTO pfa_modification (record_id, field, new_value, sync_status, synced_at, sync_error, pems_version)
SELECT 1 + i % 120, 'category', 'Equipment',
       (ARRAY['synced', 'pending', 'failed'])[1 + i % 3],
       CASE WHEN i % 3 = 0 THEN now() END,
       CASE WHEN i % 3 = 2 THEN 'PEMS 409 conflict' END,
       i
FROM generate_series(1, 30) AS i;

INSERT INTO pfa_write_queue (modification_id, status, attempts)
SELECT id, CASE WHEN sync_status = 'failed' THEN 'failed' ELSE 'queued' END, id % 4
FROM pfa_modification WHERE sync_status <> 'synced';

INSERT INTO pfa_sync_conflict (modification_id, write_queue_id, pems_value, local_value)
SELECT modification_id, id, 'Labor', 'Equipment' FROM pfa_write_queue WHERE status = 'failed';

INSERT INTO feature_flags (flag_name, enabled) VALUES
    ('bi_directional_sync', true),
    ('pems_read_sync', true),
    ('csv_export', true);
