-- The outbox keeps its sent rows, so it only grows. Pacing asks when a channel last
-- had a paced message delivered: without an index that scanned the whole table on
-- every delivery. The partial index holds only delivered paced rows.
CREATE INDEX outbox_paced_sent ON outbox (channel, sent_at) WHERE paced = 1 AND sent_at IS NOT NULL;
-- Every due-row query names its platform, so outbox_due_by_platform serves it;
-- the older index only cost each enqueue another page.
DROP INDEX outbox_due;
-- The clock looks for approval requests to expire every second; runs only grow.
CREATE INDEX runs_by_state ON runs (state);
