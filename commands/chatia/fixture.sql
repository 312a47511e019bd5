-- Seed 001 (chatia) schema as its runbook queries it, with data that exercises every
-- scenario: 40 companies (30 with Kanban V2 on), kanban errors for the top ones, and
-- scenario 3 corruption (orphan tags, duplicate ticket tags, invalid lanes).
-- Identifiers are unquoted, as in the seed, so PostgreSQL folds them to lower case.
CREATE TABLE Companies (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    settings JSONB
);
CREATE TABLE ErrorLogs (
    id        SERIAL PRIMARY KEY,
    companyId TEXT NOT NULL,
    context   TEXT NOT NULL,
    createdAt TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE Lanes (
    id        SERIAL PRIMARY KEY,
    companyId TEXT NOT NULL
);
CREATE TABLE Tags (
    id        SERIAL PRIMARY KEY,
    companyId TEXT,
    name      TEXT NOT NULL,
    createdAt TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE Tickets (
    id         SERIAL PRIMARY KEY,
    companyId  TEXT NOT NULL,
    kanbanLane INTEGER
);
CREATE TABLE TicketTags (
    id       SERIAL PRIMARY KEY,
    tagId    INTEGER NOT NULL,
    ticketId INTEGER NOT NULL
);

INSERT INTO Companies (id, name, settings)
SELECT 'company-' || lpad(i::text, 3, '0'), 'Company ' || i,
       jsonb_build_object('kanbanV2Enabled', i % 4 <> 0, 'plan', 'pro')
FROM generate_series(1, 40) AS i;
INSERT INTO Companies (id, name, settings) VALUES ('TEST_COMPANY_ID', 'Test company', '{"kanbanV2Enabled": false}');

-- Kanban errors in the last hour: 40, 33, 25, 18, 14, 12 for companies 1-6, 4 for 7.
INSERT INTO ErrorLogs (companyId, context, createdAt)
SELECT 'company-' || lpad(c::text, 3, '0'), 'kanban.socket', now() - (e || ' minutes')::interval
FROM (VALUES (1, 40), (2, 33), (3, 25), (4, 18), (5, 14), (6, 12), (7, 4)) AS t(c, n),
     generate_series(1, 50) AS e
WHERE e <= n;
-- Old and unrelated errors that must not count.
INSERT INTO ErrorLogs (companyId, context, createdAt)
SELECT 'company-010', 'kanban.socket', now() - interval '3 hours' FROM generate_series(1, 50);
INSERT INTO ErrorLogs (companyId, context, createdAt)
SELECT 'company-011', 'billing', now() FROM generate_series(1, 50);

INSERT INTO Lanes (companyId) SELECT 'company-001' FROM generate_series(1, 3);   -- ids 1-3
INSERT INTO Lanes (companyId) SELECT 'company-002' FROM generate_series(1, 3);   -- ids 4-6
INSERT INTO Tags (companyId, name) VALUES
    ('company-001', 'urgent'), ('company-001', 'vip'), ('company-002', 'bug'),
    (NULL, 'orphan-null'), ('company-999', 'orphan-gone');                         -- ids 1-5
INSERT INTO Tickets (companyId, kanbanLane) VALUES
    ('company-001', 1), ('company-001', 2), ('company-002', 4),
    ('company-001', 5), ('company-002', 99), ('company-002', NULL);                -- 4 and 5 invalid
INSERT INTO TicketTags (tagId, ticketId) VALUES
    (1, 1), (1, 1), (1, 1), (2, 2), (3, 3), (3, 3);                               -- 3 duplicates
