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
-- The Inventory page's "last successful run" of every table: one index probe a table, however long
-- the history (it was a scan of all runs per table).
CREATE INDEX IF NOT EXISTS runs_target_success_idx ON stackql_app.runs (target_schema, target_table, finished_at DESC)
  WHERE status = 'SUCCESS';

-- starter: publishing views for catalog consumers (dashboard, Genie). Stable names and columns;
-- no internal or secret fields (run errors can carry raw provider messages, so they stay out).
-- Counts of changes join in once change records exist (history issue: inventory_changes).
-- history: change counts of runs (the view below shows them as its last columns).
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS added_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS removed_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS modified_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS changes_baseline boolean;
CREATE OR REPLACE VIEW stackql_inventory.inventory_runs AS
SELECT r.id          AS run_id,
       r.schedule_id AS schedule_id,
       q.name        AS query_name,
       q.provider    AS provider,
       r.target_schema,
       r.target_table,
       r.trigger,
       r.status,
       r.row_count,
       r.started_at,
       r.finished_at,
       EXTRACT(EPOCH FROM (r.finished_at - r.started_at))::double precision AS duration_seconds,
       r.added_count   AS rows_added,
       r.removed_count AS rows_removed,
       r.modified_count AS rows_modified
FROM stackql_app.runs r
LEFT JOIN stackql_app.queries q ON q.id = r.query_id;
COMMENT ON VIEW stackql_inventory.inventory_runs IS
  'Run history of the StackQL inventory: one row per run of a scheduled query (scheduled job, Run now, or CLI).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.run_id IS 'Run id (unique).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.schedule_id IS 'Schedule that ran (NULL once the schedule is deleted).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.query_name IS 'Name of the saved StackQL query (NULL once the query is deleted).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.provider IS 'StackQL provider the query reads (aws, google, azure, github, ...).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.target_schema IS 'Schema of the inventory table written.';
COMMENT ON COLUMN stackql_inventory.inventory_runs.target_table IS 'Inventory table written by the run.';
COMMENT ON COLUMN stackql_inventory.inventory_runs.trigger IS 'What started the run: job, manual (Run now) or local (CLI).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.status IS 'RUNNING, SUCCESS, FAILED, or PARTIAL (some profile slices failed; their previous rows were kept).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.row_count IS 'Rows the run wrote (NULL while running or when it failed).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.started_at IS 'When the run started (UTC).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.finished_at IS 'When the run finished (NULL while running).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.duration_seconds IS 'Run time in seconds (NULL while running).';

-- profiles: a profile is a named credential set of one provider (aws/prod, aws/staging). Every
-- mapping belongs to one profile; rows made by the previous version become profile 'default'.
-- A provider has at most one mapping per env var AND profile (was: per env var).
ALTER TABLE stackql_app.provider_config ADD COLUMN IF NOT EXISTS profile text NOT NULL DEFAULT 'default';
ALTER TABLE stackql_app.provider_config DROP CONSTRAINT IF EXISTS provider_config_unique;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'stackql_app.provider_config'::regclass
                   AND conname = 'provider_config_profile_unique') THEN
    ALTER TABLE stackql_app.provider_config
      ADD CONSTRAINT provider_config_profile_unique UNIQUE (provider, profile, env_var_name);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'stackql_app.provider_config'::regclass
                   AND conname = 'provider_config_profile_name') THEN
    ALTER TABLE stackql_app.provider_config
      ADD CONSTRAINT provider_config_profile_name CHECK (profile ~ '^[a-z0-9][a-z0-9_-]{0,39}$');
  END IF;
END $$;

-- profiles: plain, non-secret values of a profile used in query text as {{ name }}
-- (e.g. regions = us-east-1, eu-west-1). Never secrets: they are shown on the Providers page.
CREATE TABLE IF NOT EXISTS stackql_app.profile_variables (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider   text        NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]{0,62}$'),
  profile    text        NOT NULL DEFAULT 'default' CHECK (profile ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  name       text        NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
  value      text        NOT NULL CHECK (length(value) BETWEEN 1 AND 4000),
  created_by text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT profile_variables_unique UNIQUE (provider, profile, name)
);

-- int-types: the source-key -> column mapping of each inventory table, written by the inventory
-- writer in its transaction and reused on every run, so a key's values never move to another column.
CREATE TABLE IF NOT EXISTS stackql_app.inventory_columns (
  target_schema text    NOT NULL,
  target_table  text    NOT NULL,
  source_key    text    NOT NULL,
  column_name   text    NOT NULL,
  position      integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_schema, target_table, source_key),
  CONSTRAINT inventory_columns_name_unique UNIQUE (target_schema, target_table, column_name)
);

-- int-snapshots: the per-schedule shrink guard. A run whose snapshot has fewer rows than this
-- percentage of the table's current rows is refused (FAILED, previous rows kept). NULL = off.
ALTER TABLE stackql_app.schedules ADD COLUMN IF NOT EXISTS shrink_guard_pct smallint;
DO $$
BEGIN
  ALTER TABLE stackql_app.schedules ADD CONSTRAINT schedules_shrink_guard_pct_range
    CHECK (shrink_guard_pct IS NULL OR shrink_guard_pct BETWEEN 1 AND 100);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- explorer: StackQL metadata (SHOW SERVICES / SHOW RESOURCES / DESCRIBE / SHOW METHODS results),
-- cached per provider + installed version and statement. Metadata does not change within a provider
-- version, so rows are never updated in place; app instances share them. No credentials are involved.
CREATE TABLE IF NOT EXISTS stackql_app.metadata_cache (
  provider   text        NOT NULL,
  version    text        NOT NULL,
  statement  text        NOT NULL,
  payload    jsonb       NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, version, statement)
);

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
-- The Audit page's action filter: its list of actions is a skip scan of this index (a few probes,
-- not a pass over a year of rows), and filtering by action reads it newest first.
CREATE INDEX IF NOT EXISTS audit_action_idx ON stackql_app.audit (action, at DESC);
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

-- fanout: a schedule may run across several profiles (slices). `profiles` holds slice specs
-- ('aws/prod', 'aws/staging', or 'aws/*' for every profile of aws); NULL/empty = the default profile.
ALTER TABLE stackql_app.schedules ADD COLUMN IF NOT EXISTS profiles text[];
-- A run where some slices failed is PARTIAL. The status CHECKs are replaced (guarded: only when
-- the current definition does not allow PARTIAL yet), so a database of the previous version keeps working.
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT conname, conrelid::regclass::text AS rel FROM pg_constraint
           WHERE contype = 'c' AND conrelid IN ('stackql_app.runs'::regclass, 'stackql_app.schedules'::regclass)
             AND pg_get_constraintdef(oid) ~ 'RUNNING' AND pg_get_constraintdef(oid) !~ 'PARTIAL'
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.rel, c.conname);
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'runs_status_values') THEN
    ALTER TABLE stackql_app.runs ADD CONSTRAINT runs_status_values
      CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILED', 'PARTIAL'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'schedules_last_run_status_values') THEN
    ALTER TABLE stackql_app.schedules ADD CONSTRAINT schedules_last_run_status_values
      CHECK (last_run_status IN ('RUNNING', 'SUCCESS', 'FAILED', 'PARTIAL'));
  END IF;
END $$;
-- Per-slice outcomes of a fan-out run, shown under the run on the Schedules page.
CREATE TABLE IF NOT EXISTS stackql_app.run_slices (
  run_id     bigint      NOT NULL REFERENCES stackql_app.runs (id) ON DELETE CASCADE,
  provider   text        NOT NULL,
  profile    text        NOT NULL,
  status     text        NOT NULL CHECK (status IN ('SUCCESS', 'FAILED')),
  rows       bigint,
  elapsed_ms integer     NOT NULL DEFAULT 0,
  error      text,
  PRIMARY KEY (run_id, provider, profile)
);

-- history: change records of every run (added / removed / modified rows), key columns of schedules,
-- change counts of runs. Written by the inventory writer in the run's own transaction.
ALTER TABLE stackql_app.schedules ADD COLUMN IF NOT EXISTS key_columns text[];
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS added_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS removed_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS modified_count bigint;
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS changes_baseline boolean;
CREATE TABLE IF NOT EXISTS stackql_app.inventory_changes (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id          bigint      NOT NULL,
  schedule_id     bigint,
  target_schema   text        NOT NULL,
  target_table    text        NOT NULL,
  change_kind     text        NOT NULL CHECK (change_kind IN ('added', 'removed', 'modified')),
  profile         text,
  row_key         jsonb,
  changed_columns text[],
  before          jsonb,
  after           jsonb,
  changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS inventory_changes_run_idx ON stackql_app.inventory_changes (run_id, id);
-- By time: retention, and the dashboard's latest changes (ORDER BY changed_at DESC LIMIT ...). The
-- (table, time) index went: it cost ~0.3 s per 200k records written and the app reads by run.
DROP INDEX IF EXISTS stackql_app.inventory_changes_target_idx;
DROP INDEX IF EXISTS stackql_app.inventory_changes_time_brin;
CREATE INDEX IF NOT EXISTS inventory_changes_time_idx ON stackql_app.inventory_changes (changed_at);
CREATE OR REPLACE VIEW stackql_inventory.inventory_changes AS
SELECT c.run_id, c.schedule_id, c.target_table, c.change_kind, c.profile, c.row_key, c.changed_columns,
       c.before, c.after, c.changed_at, c.target_schema
FROM stackql_app.inventory_changes c;
COMMENT ON TABLE stackql_app.inventory_changes IS
  'One record per row a run added, removed or modified in an inventory table (see the view stackql_inventory.inventory_changes).';
COMMENT ON VIEW stackql_inventory.inventory_changes IS
  'What changed in the StackQL inventory: one row per resource a run added, removed or modified, compared with the table''s previous snapshot. A table''s first run records no rows (a baseline). Kept CHANGE_RETENTION_DAYS days (default 90).';
COMMENT ON COLUMN stackql_inventory.inventory_changes.run_id IS 'Run that recorded the change (stackql_inventory.inventory_runs.run_id).';
COMMENT ON COLUMN stackql_inventory.inventory_changes.schedule_id IS 'Schedule of the run (NULL for runs without a schedule).';
COMMENT ON COLUMN stackql_inventory.inventory_changes.target_table IS 'Inventory table that changed.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.change_kind IS 'added: a row that was not in the previous snapshot; removed: a row of the previous snapshot that is gone; modified: a row with the same key whose other columns changed. Without key columns a changed row is removed + added.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.profile IS 'Credential profile that read the row (the _profile column of fan-out runs), else NULL.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.row_key IS 'The row''s key columns and values as a JSON object (the schedule''s key columns); NULL when the schedule names no keys.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.changed_columns IS 'For modified rows: the columns whose values changed (table column names), else NULL.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.before IS 'The whole row before the run (removed and modified), else NULL.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.after IS 'The whole row after the run (added and modified), else NULL.';
COMMENT ON COLUMN stackql_inventory.inventory_changes.changed_at IS 'When the run committed the change (UTC).';
COMMENT ON COLUMN stackql_inventory.inventory_changes.target_schema IS 'Schema of the inventory table.';
COMMENT ON COLUMN stackql_inventory.inventory_runs.rows_added IS 'Rows the run added (NULL for failed runs and runs before change history).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.rows_removed IS 'Rows the run removed (NULL for failed runs and runs before change history).';
COMMENT ON COLUMN stackql_inventory.inventory_runs.rows_modified IS 'Rows the run modified (same key, other values changed).';

-- history (delta write): the digest set of each keyed inventory table — per row a hash of its key,
-- the key itself (the COPY text of the key columns) and a keyed 53-bit digest of what was written,
-- so a run stages only the rows whose digest changed (src/db/digests.ts). Internal to the writer;
-- rebuilt when missing. The rows live in an entries table per inventory table, created by the writer
-- (stackql_app.stackql_digests_<hash>, src/db/digest-entries.ts); inventory_digests below held them
-- for every table in earlier versions and is emptied table by table as the writer rebuilds sets.
CREATE TABLE IF NOT EXISTS stackql_app.inventory_digest_sets (
  target_schema text        NOT NULL,
  target_table  text        NOT NULL,
  seed          bigint      NOT NULL,
  key_columns   text[]      NOT NULL,
  row_count     bigint      NOT NULL,
  verified_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_schema, target_table)
);
CREATE TABLE IF NOT EXISTS stackql_app.inventory_digests (
  target_schema text   NOT NULL,
  target_table  text   NOT NULL,
  key_hash      bigint NOT NULL,
  slice         text   NOT NULL DEFAULT '',
  row_key       text   NOT NULL,
  digest        bigint NOT NULL,
  PRIMARY KEY (target_schema, target_table, key_hash)
);
-- digest packs (src/db/digest-packs.ts): a run reads a table's digests as a few packed values, then
-- the entries written since they were packed (`version` above the set's `packed_version`; a NULL
-- digest is a row that went, until the next rebuild). A set without `packed_version` (made by the
-- previous version) is not used: the next write compares every row and packs the set.
ALTER TABLE stackql_app.inventory_digests ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
ALTER TABLE stackql_app.inventory_digests ALTER COLUMN digest DROP NOT NULL;
-- Partial: a full write stores its entries at version 0 (all packed), so only the entries narrowed
-- writes changed are indexed (maintaining a full index cost ~1 s per 200k entries written).
DROP INDEX IF EXISTS stackql_app.inventory_digests_version_idx;
CREATE INDEX IF NOT EXISTS inventory_digests_overlay_idx
  ON stackql_app.inventory_digests (target_schema, target_table, version) WHERE version > 0;
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS write_version bigint NOT NULL DEFAULT 0;
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS packed_version bigint;
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS overlay bigint NOT NULL DEFAULT 0;
-- Entries tables per inventory table (src/db/digest-entries.ts): the write that last kept a set's
-- entries table, and its packs' version (packed_version stays NULL for such sets, so a previous
-- version of the writer, which reads the shared entries, compares in full instead of using them).
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS entries_version bigint;
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS entries_packed_version bigint;
CREATE TABLE IF NOT EXISTS stackql_app.inventory_digest_packs (
  target_schema text    NOT NULL,
  target_table  text    NOT NULL,
  slice         text    NOT NULL,
  chunk         integer NOT NULL,
  entries       integer NOT NULL,
  -- per entry: key hash and digest as two big-endian float8s; uncompressed (hashes do not compress)
  pairs         bytea   NOT NULL,
  PRIMARY KEY (target_schema, target_table, slice, chunk)
);
ALTER TABLE stackql_app.inventory_digest_packs ALTER COLUMN pairs SET STORAGE EXTERNAL;
-- edit guard (src/db/edit-guard.ts): every statement that writes a keyed inventory table outside the
-- writer (a hand edit, another tool) counts one edit here, through a statement trigger the writer puts
-- on its keyed tables. A digest set is trusted only while the table's edits are the ones its last
-- write saw (`checked_edits`); otherwise the next run compares every row. Replaces counting the
-- table's rows on every run (which also missed edits that keep the row count).
CREATE TABLE IF NOT EXISTS stackql_app.inventory_edits (
  target_schema text   NOT NULL,
  target_table  text   NOT NULL,
  edits         bigint NOT NULL,
  PRIMARY KEY (target_schema, target_table)
);
ALTER TABLE stackql_app.inventory_digest_sets ADD COLUMN IF NOT EXISTS checked_edits bigint;
-- SECURITY DEFINER: whoever edits the table may not write stackql_app; the writer's own statements
-- (stackql.writer = on, set in its transaction) are not edits.
CREATE OR REPLACE FUNCTION stackql_app.inventory_edited() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF current_setting('stackql.writer', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO stackql_app.inventory_edits AS e (target_schema, target_table, edits)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, 1)
    ON CONFLICT (target_schema, target_table) DO UPDATE SET edits = e.edits + 1;
  END IF;
  RETURN NULL;
END
$$;

-- fanout2: for_each iterations (`--profile p --job-run-id R`) and their finish task (`--finish`)
-- are separate runner processes of one Databricks job run: they share ONE runs row, found by the
-- job run id ({{job.run_id}}). NULL for every other run (local, Run now, single-task jobs).
ALTER TABLE stackql_app.runs ADD COLUMN IF NOT EXISTS job_run_id text;
CREATE UNIQUE INDEX IF NOT EXISTS runs_job_run_id_idx ON stackql_app.runs (job_run_id)
  WHERE job_run_id IS NOT NULL;
