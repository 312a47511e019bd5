-- The deliverer's pass reads only the rows still to send (issue 18). With a year of
-- sent rows and ANALYZE's statistics (every row of (platform, state) alike), SQLite
-- scanned all of outbox for each pass (21 ms on 100k rows); this index holds only
-- the waiting rows, in delivery order.
CREATE INDEX outbox_waiting ON outbox (platform, id) WHERE state IN ('pending', 'sending');
