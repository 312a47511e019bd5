-- The deliverer's pass reads only the rows still to send (issue 18); the same
-- partial index as on SQLite, where a year of sent rows made each pass a full scan.
CREATE INDEX outbox_waiting ON outbox (platform, id) WHERE state IN ('pending', 'sending');

-- The same for the runs waiting for approval, read by every /status and every
-- tick (a year of finished runs made runs_by_state look useless), and for the
-- open incidents the status page lists.
CREATE INDEX runs_live ON runs (id) WHERE state IN ('awaiting_approval', 'running');
CREATE INDEX incidents_open ON incidents (declared_at) WHERE status <> 'resolved';
