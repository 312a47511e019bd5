-- The durable outbox: every post and edit bound for a chat platform, delivered by a
-- worker that paces per channel, honours Retry-After and retries with backoff.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT    NOT NULL,
    op           TEXT    NOT NULL,
    target       BIGINT,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',
    attempts     BIGINT  NOT NULL DEFAULT 0,
    not_before   BIGINT  NOT NULL,
    lease_until  BIGINT,
    platform_ref TEXT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (state, not_before);
