-- Every state change of an outbox row (pending → sending → sent) rewrites each
-- index holding `state` (issue 18: at 1k accepted commands a second the state
-- database wrote ~55 KB of WAL per command). `outbox_waiting` now serves every
-- read that `outbox_due_by_platform` did: the deliverer's pass, the pending count,
-- the oldest retry (`outbox_trouble`) and the superseded-edit check, each bounded
-- by the rows still waiting rather than by history.
DROP INDEX outbox_due_by_platform;
