-- A small ProcessPilot-like schema for the pack tests: the tests dump it as the "good
-- backup", damage it, and check that the runbook's restore really brings it back.
-- Seed 004 shows no schema, so the pack's own SQL reads only information_schema.
CREATE TABLE users (
    id    SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);
CREATE TABLE processes (
    id       SERIAL PRIMARY KEY,
    owner_id INTEGER NOT NULL,
    name     TEXT NOT NULL,
    status   TEXT NOT NULL
);
CREATE TABLE process_steps (
    id         SERIAL PRIMARY KEY,
    process_id INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL
);
INSERT INTO users (email) VALUES ('ana@example.com'), ('bo@example.com'), ('cy@example.com');
INSERT INTO processes (owner_id, name, status) VALUES
    (1, 'Onboarding', 'active'), (2, 'Invoice approval', 'active'), (3, 'Offboarding', 'draft');
INSERT INTO process_steps (process_id, position, title) VALUES
    (1, 1, 'Create account'), (1, 2, 'Assign mentor'),
    (2, 1, 'Submit invoice'), (2, 2, 'Manager approves'), (2, 3, 'Pay'),
    (3, 1, 'Revoke access');
