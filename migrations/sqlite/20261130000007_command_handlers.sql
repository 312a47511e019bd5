-- A command accepted and then lost with the process that was handling it (kill -9,
-- OOM, a deploy) must not vanish silently. Each command names the process that
-- took it; each live process says so every second; a surviving process tells the
-- user about commands whose handler went quiet.
ALTER TABLE commands_received ADD COLUMN handler TEXT;
CREATE TABLE instances (
    id      TEXT   PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
CREATE INDEX commands_unfinished ON commands_received (platform, received_at)
    WHERE outcome = 'received';
