-- StackQL Cloud Inventory: the Lakebase (PostgreSQL) data model.
-- Idempotent: the app applies it at every start; safe to run twice and on an existing database.
-- psql users: psql "$DATABASE_URL" -f scripts/init_lakebase.sql

CREATE SCHEMA IF NOT EXISTS stackql_app;
CREATE SCHEMA IF NOT EXISTS stackql_inventory;

-- Saved StackQL queries.
CREATE TABLE IF NOT EXISTS stackql_app.queries (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text        NOT NULL DEFAULT '',
  query_text  text        NOT NULL CHECK (length(query_text) > 0),
  provider    text        NOT NULL,
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A schedule turns a query into a Databricks Job writing <target_schema>.<target_table>.
-- ON DELETE RESTRICT: a query with schedules cannot be deleted (the app says so clearly).
CREATE TABLE IF NOT EXISTS stackql_app.schedules (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  query_id        bigint      NOT NULL REFERENCES stackql_app.queries (id) ON DELETE RESTRICT,
  job_id          text,
  cron_expression text        NOT NULL,
  target_schema   text        NOT NULL DEFAULT 'stackql_inventory',
  target_table    text        NOT NULL,
  is_active       boolean     NOT NULL DEFAULT true,
  last_run_at     timestamptz,
  last_run_status text CHECK (last_run_status IN ('RUNNING', 'SUCCESS', 'FAILED')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_target_unique UNIQUE (target_schema, target_table)
);
ALTER TABLE stackql_app.schedules ADD COLUMN IF NOT EXISTS last_error text;
CREATE INDEX IF NOT EXISTS schedules_query_id_idx ON stackql_app.schedules (query_id);

-- Which environment variable of a provider is filled from which Databricks secret.
CREATE TABLE IF NOT EXISTS stackql_app.provider_config (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider     text        NOT NULL,
  env_var_name text        NOT NULL,
  secret_scope text        NOT NULL,
  secret_key   text        NOT NULL,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT provider_config_unique UNIQUE (provider, env_var_name)
);

-- Run history: one row per runner invocation (scheduled job, "Run now", or the CLI).
-- A run outlives its schedule (schedule_id set to NULL) so the inventory keeps its history.
CREATE TABLE IF NOT EXISTS stackql_app.runs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  schedule_id   bigint REFERENCES stackql_app.schedules (id) ON DELETE SET NULL,
  query_id      bigint REFERENCES stackql_app.queries (id) ON DELETE SET NULL,
  target_schema text        NOT NULL,
  target_table  text        NOT NULL,
  trigger       text        NOT NULL DEFAULT 'local',
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  status        text        NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILED')),
  row_count     bigint,
  error         text
);
CREATE INDEX IF NOT EXISTS runs_schedule_idx ON stackql_app.runs (schedule_id, started_at DESC);
CREATE INDEX IF NOT EXISTS runs_target_idx ON stackql_app.runs (target_schema, target_table, started_at DESC);

-- access: the audit log, schedule owners, and profile permissions (README "Access control").
-- Who did what: one row per action (query run, save/delete query, schedule changes, mapping and
-- profile changes, Test, denied attempts). Written BEFORE the action runs ('started'), finished
-- after it; details never hold a secret value. Pruned after AUDIT_RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS stackql_app.audit (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  user_email  text        NOT NULL,
  role        text        NOT NULL,
  request_id  text        NOT NULL,
  action      text        NOT NULL,
  outcome     text        NOT NULL CHECK (outcome IN ('started', 'ok', 'failed', 'denied')),
  status      integer,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS audit_at_idx ON stackql_app.audit (at DESC);
CREATE INDEX IF NOT EXISTS audit_user_idx ON stackql_app.audit (user_email, at DESC);
-- Who created a schedule (editors change only their own). Older rows: the query's author.
ALTER TABLE stackql_app.schedules ADD COLUMN IF NOT EXISTS created_by text;
-- Profile permissions: when a (provider, profile) has rows here, only the listed principals
-- (e-mails, or group:<name>) and admins may use its credentials. No rows: everyone may.
CREATE TABLE IF NOT EXISTS stackql_app.profile_permissions (
  provider    text        NOT NULL,
  profile     text        NOT NULL DEFAULT 'default',
  principal   text        NOT NULL CHECK (length(principal) BETWEEN 1 AND 300),
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, profile, principal)
);
