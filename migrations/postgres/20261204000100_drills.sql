-- Drills (issue 13): each rehearsal's outcome, for the last and next drill dates,
-- `warroom report` and the overdue reminders.
CREATE TABLE drill_runs (
    run_id      BIGINT PRIMARY KEY,
    name        TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX drill_runs_name ON drill_runs (name, finished_at);

-- When each configured drill was first seen (a drill never run is due one period
-- later), and the due date last reminded, so each overdue date is told once.
CREATE TABLE drill_clock (
    name         TEXT   PRIMARY KEY,
    since        BIGINT NOT NULL,
    reminded_due BIGINT
);
