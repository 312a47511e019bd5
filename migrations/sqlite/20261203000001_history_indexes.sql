-- Issue 18: statements on every command's or tick's path read these tables from end
-- to end; after a year of use (30k runs, 80k timers) `/status` ran 6x slower.
-- `tests/query_plans.rs` plans every statement of the store and fails on such a scan.
CREATE INDEX runs_by_incident ON runs (incident_id, id);
CREATE INDEX timers_by_incident ON timers (incident_id, due_at);
CREATE INDEX action_items_by_incident ON action_items (incident_id, id);
CREATE INDEX commands_by_channel ON commands_received (platform, channel, received_at);
CREATE INDEX incidents_open_by_platform ON incidents (platform, declared_at) WHERE status <> 'resolved';
