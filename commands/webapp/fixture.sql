-- Seed 003's app keeps its data in Supabase; warroom.toml names no SQL target for it,
-- so the pack's steps do not query it. This small table is what the pack tests load
-- (the harness starts every pack on a fixture database).
CREATE TABLE clients (
    id    SERIAL PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT NOT NULL
);
INSERT INTO clients (name, email) VALUES
    ('Acme', 'ops@acme.example'), ('Globex', 'it@globex.example');
