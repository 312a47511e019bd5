-- The deliverer's pass reads only the rows still to send (issue 18); the same
-- partial index as on SQLite, where a year of sent rows made each pass a full scan.
CREATE INDEX outbox_waiting ON outbox (platform, id) WHERE state IN ('pending', 'sending');
