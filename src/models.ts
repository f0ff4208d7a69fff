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
/** A profile of a provider (aws/prod): lower-case letters, digits, _ and -, at most 40 characters. */
export const PROFILE_PATTERN = '^[a-z0-9][a-z0-9_-]{0,39}$'
/** A profile variable's name, as used in query text: {{ regions }}. */
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$'

/** A row id as it may appear in a URL: a positive integer that JavaScript holds exactly. */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
/** Route params `/:id`. */
export const IdParams = Type.Object({ id: Id })

export const QueryInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000, default: '' }),
  query_text: Type.String({ minLength: 1, maxLength: 100_000 }),
  /** The first provider the text references, or '' (SHOW, REGISTRY, ...): derived, kept for compatibility. */
  provider: Type.String({ pattern: '^([a-z][a-z0-9_]{0,62})?$' }),
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
  /** Shrink guard: refuse a snapshot with fewer rows than this % of the previous one (null/absent = off). */
  shrink_guard_pct: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.Null()])),
  /** Fan-out: slice specs `provider/profile` or `provider/*` (every profile); absent/empty = default profile. */
  profiles: Type.Optional(
    Type.Union([
      Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}/([a-z0-9][a-z0-9_-]{0,39}|\\*)$' }), {
        maxItems: 500,
      }),
      Type.Null(),
    ]),
  ),
  /** Result columns whose values identify a row, for change records (null/absent = the whole row). */
  key_columns: Type.Optional(
    Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10 }), Type.Null()]),
  ),
})
export type ScheduleInput = Static<typeof ScheduleInput>

export type RunStatus = 'RUNNING' | 'SUCCESS' | 'FAILED' | 'PARTIAL'

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
  /** The profile the mapping belongs to; 'default' when not given. */
  profile: Type.Optional(Type.String({ pattern: PROFILE_PATTERN })),
  env_var_name: Type.String({ pattern: ENV_VAR_PATTERN }),
  secret_scope: Type.String({ pattern: SECRET_NAME_PATTERN }),
  secret_key: Type.String({ pattern: SECRET_NAME_PATTERN }),
})
export type ProviderConfigInput = Static<typeof ProviderConfigInput>

/** A mapping row. `profile` is always set on rows read from the database ('default' for older rows). */
export interface ProviderConfig extends ProviderConfigInput {
  id: number
  created_by: string
  created_at: Date
}

export interface ProfileVariable {
  id: number
  provider: string
  profile: string
  name: string
  value: string
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
  /** Change counts of a successful run (null before change history or for failed runs). */
  added_count?: number | null
  removed_count?: number | null
  modified_count?: number | null
  /** True when the run was the table's first (a baseline: counts only, no change records). */
  changes_baseline?: boolean | null
  /** 'local' (child process / CLI) or 'databricks' (a job run). */
  trigger: string
}

/** One slice's outcome in a fan-out run (stackql_app.run_slices). */
export interface RunSlice {
  run_id: number
  provider: string
  profile: string
  status: 'SUCCESS' | 'FAILED'
  rows: number | null
  elapsed_ms: number
  error: string | null
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

/** Rows read again from the start on every pass, in batches (a spooled StackQL output, fan-out slices). */
export interface RowSource {
  batches(): AsyncIterable<readonly Row[]>
}

export interface ResultSet {
  columns: string[]
  rows: Row[]
  elapsedMs: number
}
