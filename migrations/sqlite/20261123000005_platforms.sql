-- Several chat platforms on one state database (`warroom serve` with Slack and
-- Discord at once): each incident and outbox row belongs to one platform, so each
-- platform's process fires only its own clocks and delivers only its own posts.
ALTER TABLE incidents ADD COLUMN platform TEXT NOT NULL DEFAULT 'console';
ALTER TABLE outbox ADD COLUMN platform TEXT NOT NULL DEFAULT 'console';
CREATE INDEX outbox_due_by_platform ON outbox (platform, state, not_before);
-- Whether a row counts toward (and waits for) the channel's pace: public posts and
-- edits do; a private reply to one user does not, so an error never queues behind
-- a busy channel.
ALTER TABLE outbox ADD COLUMN paced BIGINT NOT NULL DEFAULT 1;

-- Platform groups (Discord guild roles) a requester or approver held when they
-- acted, comma-separated: matrix roles may list a group instead of each person.
ALTER TABLE runs ADD COLUMN requester_groups TEXT NOT NULL DEFAULT '';
ALTER TABLE votes ADD COLUMN groups TEXT NOT NULL DEFAULT '';

-- A platform's short-lived handle for answering one user privately (a Discord
-- interaction token, valid 15 minutes): the newest per user and channel.
CREATE TABLE reply_handles (
    platform   TEXT   NOT NULL,
    channel    TEXT   NOT NULL,
    user_id    TEXT   NOT NULL,
    handle     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (platform, channel, user_id)
);

-- The message a step posted for people to act on (a checkpoint's Done button), so
-- it can be edited once someone has: a stale button invites a second press.
ALTER TABLE steps ADD COLUMN message_ref TEXT;

-- Who is who: the display name a platform gives each user id warroom has seen, so
-- the post-mortem can say "U0ABC (Alice Smith)". Ids stay the identity.
CREATE TABLE people (
    platform   TEXT   NOT NULL,
    user_id    TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, user_id)
);
