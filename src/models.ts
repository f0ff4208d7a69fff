// Plain typed objects passed between the DB service, the services and the pages.
// The TypeBox schemas double as route-input validation.
import { type Static, Type } from 'typebox'

/** Lower-case SQL identifier we create and accept for inventory tables and schemas. */
export const IDENTIFIER_PATTERN = '^[a-z_][a-z0-9_]{0,59}$'
/** Environment variable name as POSIX shells accept it. */
export const ENV_VAR_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'
/** Databricks secret scope and key names. */
export const SECRET_NAME_PATTERN = '^[A-Za-z0-9_.-]{1,128}$'
export const PROVIDER_PATTERN = '^[a-z][a-z0-9_]{0,62}$'

/** A row id as it may appear in a URL: a positive integer that JavaScript holds exactly. */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
/** Route params `/:id`. */
export const IdParams = Type.Object({ id: Id })

export const QueryInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000, default: '' }),
  query_text: Type.String({ minLength: 1, maxLength: 100_000 }),
  provider: Type.String({ pattern: PROVIDER_PATTERN }),
})
export type QueryInput = Static<typeof QueryInput>

export interface Query extends QueryInput {
  id: number
  created_by: string
  created_at: Date
  updated_at: Date
}

export const ScheduleInput = Type.Object({
  query_id: Id,
  cron_expression: Type.String({ minLength: 1, maxLength: 120 }),
  target_schema: Type.String({ pattern: IDENTIFIER_PATTERN, default: 'stackql_inventory' }),
  target_table: Type.String({ pattern: IDENTIFIER_PATTERN }),
})
export type ScheduleInput = Static<typeof ScheduleInput>

export type RunStatus = 'RUNNING' | 'SUCCESS' | 'FAILED'

export interface Schedule extends ScheduleInput {
  id: number
  /** Databricks job id (int64, kept as a string); null when saved without a workspace. */
  job_id: string | null
  is_active: boolean
  last_run_at: Date | null
  last_run_status: RunStatus | null
  /** Why the last run (or the job creation) failed, when it did. */
  last_error: string | null
  /** Who created it (null for schedules made before access control: their query's author owns them). */
  created_by?: string | null
  created_at: Date
  updated_at: Date
}

/** A schedule joined with its query's name and provider, as the Schedules page lists it. */
export interface ScheduleView extends Schedule {
  query_name: string
  provider: string
}

export const ProviderConfigInput = Type.Object({
  provider: Type.String({ pattern: PROVIDER_PATTERN }),
  env_var_name: Type.String({ pattern: ENV_VAR_PATTERN }),
  secret_scope: Type.String({ pattern: SECRET_NAME_PATTERN }),
  secret_key: Type.String({ pattern: SECRET_NAME_PATTERN }),
})
export type ProviderConfigInput = Static<typeof ProviderConfigInput>

export interface ProviderConfig extends ProviderConfigInput {
  id: number
  created_by: string
  created_at: Date
}

export interface Run {
  id: number
  schedule_id: number | null
  query_id: number | null
  target_schema: string
  target_table: string
  started_at: Date
  finished_at: Date | null
  status: RunStatus
  row_count: number | null
  error: string | null
  /** 'local' (child process / CLI) or 'databricks' (a job run). */
  trigger: string
}

export interface InventoryTable {
  schema: string
  name: string
  /** Rows as recorded by the writer at its last successful run (or the planner's estimate if never recorded). */
  row_count: number
  last_updated: Date | null
  has_mv: boolean
}

/** Rows of a result set: one object per row, keys in column order. */
export type Row = Record<string, unknown>

export interface ResultSet {
  columns: string[]
  rows: Row[]
  elapsedMs: number
}
