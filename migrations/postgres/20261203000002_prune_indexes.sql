-- The hourly prune (store/prune.rs) finds what it deletes by index, not by reading
-- every timer and every post ever made.
CREATE INDEX timers_done ON timers (due_at) WHERE fired_at IS NOT NULL OR cancelled = 1;
CREATE INDEX outbox_sent_by_time ON outbox (sent_at) WHERE state = 'sent';
