-- A post longer than one message goes out as several (Slack's ~12,000 characters of
-- blocks, Discord's 2,000): how many of them the platform has taken, so a retry after
-- a failure part-way resumes with the next one and never repeats one.
ALTER TABLE outbox ADD COLUMN parts_done BIGINT NOT NULL DEFAULT 0;
