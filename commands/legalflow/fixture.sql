-- Seed 000 (LegalFlow) test fixture: the `legalflow` schema the runbook pack reaches,
-- with the function, view and tables the seed's SQL names, and a little data.
CREATE SCHEMA legalflow;

CREATE TABLE legalflow.feature_flags (
  key text PRIMARY KEY,
  enabled boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO legalflow.feature_flags (key, enabled) VALUES
  ('kill_switch', false),
  -- core: always on
  ('processos', true), ('clientes', true), ('documentos', true), ('inbox', true),
  -- optional
  ('jornadas', true), ('tickets', true), ('activities', true), ('deals', true),
  ('financeiro', true), ('relatorios', true);

CREATE TABLE legalflow.app_events (
  id bigserial PRIMARY KEY,
  event text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Seed 000, 1.1: "Immediate read-only mode".
CREATE FUNCTION legalflow.emergency_lockdown(reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE legalflow.feature_flags SET enabled = true, updated_at = now() WHERE key = 'kill_switch';
  INSERT INTO legalflow.app_events (event, payload)
  VALUES ('emergency_lockdown', jsonb_build_object('reason', reason));
END
$$;

CREATE TABLE legalflow.security_events (
  id bigserial PRIMARY KEY,
  event text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  source_ip text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE legalflow.request_metrics (
  id bigserial PRIMARY KEY,
  endpoint text NOT NULL,
  response_ms integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW legalflow.vw_performance_24h AS
SELECT endpoint,
       count(*) AS requests,
       (percentile_cont(0.95) WITHIN GROUP (ORDER BY response_ms))::integer AS p95_response_ms
FROM legalflow.request_metrics
WHERE created_at >= now() - interval '24 hours'
GROUP BY endpoint;

CREATE TABLE legalflow.clientes (
  id serial PRIMARY KEY,
  nome text NOT NULL
);

CREATE TABLE legalflow.processos (
  id serial PRIMARY KEY,
  cliente_id integer NOT NULL REFERENCES legalflow.clientes (id),
  numero_cnj text NOT NULL
);

CREATE TABLE legalflow.journey_instances (
  id serial PRIMARY KEY,
  processo_id integer NOT NULL REFERENCES legalflow.processos (id),
  status text NOT NULL
);

CREATE TABLE legalflow.tickets (
  id serial PRIMARY KEY,
  cliente_id integer REFERENCES legalflow.clientes (id),
  titulo text NOT NULL
);

CREATE TABLE legalflow.backup_logs (
  id bigserial PRIMARY KEY,
  backup_type text NOT NULL,
  status text NOT NULL,
  file_path text,
  file_size_bytes bigint,
  duration_seconds integer,
  created_by text DEFAULT current_user,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Seed 000, "Alert Thresholds": the monitoring thresholds table it inserts into.
CREATE TABLE legalflow.system_health (
  id bigserial PRIMARY KEY,
  metric_name text NOT NULL,
  metric_value numeric NOT NULL,
  metric_unit text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Data
INSERT INTO legalflow.clientes (nome) VALUES
  ('Silva Advogados'), ('Costa & Filhos'), ('Pereira Ltda');
INSERT INTO legalflow.processos (cliente_id, numero_cnj) VALUES
  (1, '0001234-55.2024.8.26.0100'), (1, '0004321-11.2024.8.26.0100'),
  (2, '0009999-00.2023.5.02.0001'), (3, '0005555-22.2024.4.03.6100');
INSERT INTO legalflow.journey_instances (processo_id, status) VALUES
  (1, 'active'), (2, 'active'), (3, 'completed'), (4, 'cancelled');
INSERT INTO legalflow.tickets (cliente_id, titulo) VALUES
  (1, 'Prazo de contestação'), (2, 'Audiência remarcada');

INSERT INTO legalflow.app_events (event, payload, created_at) VALUES
  ('api_error', '{"route": "/api/v1/processos", "status": 500}', now() - interval '10 minutes'),
  ('sync_error', '{"source": "tribunal"}', now() - interval '3 hours'),
  ('migration_applied', '{"version": "20240901_add_jornadas"}', now() - interval '2 days'),
  ('migration_applied', '{"version": "20240915_add_deals"}', now() - interval '1 day'),
  ('user_login', '{"user": "ana"}', now() - interval '5 minutes');

INSERT INTO legalflow.security_events (event, severity, source_ip, created_at) VALUES
  ('brute_force_login', 'critical', '203.0.113.7', now() - interval '15 minutes'),
  ('rate_limit_exceeded', 'low', '198.51.100.2', now() - interval '20 minutes'),
  ('privilege_escalation_attempt', 'high', '203.0.113.9', now() - interval '5 hours');

INSERT INTO legalflow.request_metrics (endpoint, response_ms, created_at)
SELECT '/api/v1/processos', 2500 + g, now() - interval '1 hour' FROM generate_series(1, 20) g;
INSERT INTO legalflow.request_metrics (endpoint, response_ms, created_at)
SELECT '/api/v1/clientes', 100 + g, now() - interval '1 hour' FROM generate_series(1, 20) g;

INSERT INTO legalflow.backup_logs (backup_type, status, file_path, file_size_bytes, duration_seconds, created_at)
VALUES ('scheduled', 'completed', '/backups/daily_backup_20240101.sql', 1024000, 300, now() - interval '1 day');
