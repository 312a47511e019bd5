-- The pace of a platform's bucket (a channel's public posts and edits, or its
-- private replies), shared by every replica: nothing of that bucket is sent before
-- `not_before` (unix ms). A delivery takes the next slot with a compare-and-set, and
-- a 429 pushes it out by the platform's Retry-After, so a replica never calls while
-- another was told to wait.
CREATE TABLE outbox_pace (
    platform   TEXT   NOT NULL,
    bucket     TEXT   NOT NULL,
    not_before BIGINT NOT NULL,
    PRIMARY KEY (platform, bucket)
);
-- Holding a channel's rows in order asks for its earlier undelivered rows.
CREATE INDEX outbox_channel_order ON outbox (platform, channel, id);
