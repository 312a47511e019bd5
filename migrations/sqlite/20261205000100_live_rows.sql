-- The deliverer's pass reads only the rows still to send (issue 18). With a year of
-- sent rows and ANALYZE's statistics (every row of (platform, state) alike), SQLite
-- scanned all of outbox for each pass (21 ms on 100k rows); this index holds only
-- the waiting rows, in delivery order.
CREATE INDEX outbox_waiting ON outbox (platform, id) WHERE state IN ('pending', 'sending');

-- The same for the runs waiting for approval, read by every /status and every
-- tick (a year of finished runs made runs_by_state look useless), and for the
-- open incidents the status page lists.
CREATE INDEX runs_live ON runs (id) WHERE state IN ('awaiting_approval', 'running');
CREATE INDEX incidents_open ON incidents (declared_at) WHERE status <> 'resolved';
