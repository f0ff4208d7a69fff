// The table of environment variables the app understands: each one's TypeBox definition, and the
// validation of a set environment against it. Reads no environment itself: src/config.ts (the one
// reader of process.env) passes in what was set and builds the Config, defaults included.
import { type Static, Type } from 'typebox'
import Value from 'typebox/value'
import { AppError } from './errors.js'

const Port = Type.String({ pattern: '^[0-9]{1,5}$', description: 'a TCP port number' })
const Bool = Type.String({ pattern: '^(true|false|1|0|yes|no)$', description: 'true or false' })
const Seconds = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'a number of seconds' })
const NonEmpty = Type.String({ minLength: 1 })
const Millis = Type.String({
  pattern: '^[0-9]{1,9}$',
  description: 'a number of milliseconds (0 = no limit)',
})
const Count = Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: 'a whole number of at least 1' })

/** Every variable the app understands. Unknown variables are ignored; known ones must be well-formed. */
export const EnvSchema = Type.Object({
  DATABRICKS_APP_PORT: Type.Optional(Port),
  PORT: Type.Optional(Port),
  HOST: Type.Optional(NonEmpty),
  DATA_DIR: Type.Optional(NonEmpty),
  LOG_LEVEL: Type.Optional(Type.String({ pattern: '^(fatal|error|warn|info|debug|trace|silent)$' })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  LAKEBASE_HOST: Type.Optional(NonEmpty),
  LAKEBASE_PORT: Type.Optional(Port),
  LAKEBASE_DATABASE: Type.Optional(NonEmpty),
  LAKEBASE_USER: Type.Optional(NonEmpty),
  LAKEBASE_PASSWORD: Type.Optional(Type.String()),
  LAKEBASE_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^projects/[^/]+/branches/[^/]+/endpoints/[^/]+$',
      description: 'projects/<p>/branches/<b>/endpoints/<e>',
    }),
  ),
  LAKEBASE_INSTANCE: Type.Optional(NonEmpty),
  PGHOST: Type.Optional(NonEmpty),
  PGPORT: Type.Optional(Port),
  PGDATABASE: Type.Optional(NonEmpty),
  PGUSER: Type.Optional(NonEmpty),
  PGSSLMODE: Type.Optional(
    Type.String({ pattern: '^(disable|allow|prefer|require|verify-ca|verify-full)$' }),
  ),
  PGAPPNAME: Type.Optional(Type.String()),
  DATABRICKS_HOST: Type.Optional(NonEmpty),
  DATABRICKS_TOKEN: Type.Optional(NonEmpty),
  DATABRICKS_CLIENT_ID: Type.Optional(NonEmpty),
  DATABRICKS_CLIENT_SECRET: Type.Optional(NonEmpty),
  DATABRICKS_APP_NAME: Type.Optional(Type.String()),
  SECRET_SCOPE: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' })),
  INVENTORY_TEMPLATE_JOB: Type.Optional(NonEmpty),
  JOB_TIMEZONE: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_+/-]{1,64}$' })),
  // profiles-jobs: fan-out on Databricks (ARCHITECTURE.md "Fan-out on Databricks").
  FOR_EACH_THRESHOLD: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,4}$', description: 'a whole number of profile slices' }),
  ),
  FOR_EACH_CONCURRENCY: Type.Optional(
    Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$', description: 'a whole number from 1 to 100' }),
  ),
  // fanout: profile slices a run executes at once (each its own StackQL process).
  SLICE_CONCURRENCY: Type.Optional(
    Type.String({
      pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$',
      description: 'a whole number from 1 to 200',
    }),
  ),
  STACKQL_LOCAL_DEV: Type.Optional(Bool),
  STACKQL_BIN: Type.Optional(NonEmpty),
  STACKQL_DOWNLOAD_DIR: Type.Optional(NonEmpty),
  STACKQL_DOWNLOAD_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  STACKQL_QUERY_TIMEOUT_S: Type.Optional(Seconds),
  STACKQL_MAX_OUTPUT_MB: Type.Optional(Seconds),
  INVENTORY_LOCK_TIMEOUT_MS: Type.Optional(Millis),
  INVENTORY_STATEMENT_TIMEOUT_MS: Type.Optional(Millis),
  CHANGE_RETENTION_DAYS: Type.Optional(Count),
  IDE_MAX_OUTPUT_MB: Type.Optional(
    Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'a number of megabytes' }),
  ),
  IDE_MAX_CONCURRENT_RUNS_PER_USER: Type.Optional(Count),
  IDE_MAX_CONCURRENT_RUNS: Type.Optional(Count),
  ANTHROPIC_MODEL: Type.Optional(NonEmpty),
  ANTHROPIC_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  AI_ANSWER_TIMEOUT_S: Type.Optional(Seconds),
  AI_RETRY_MAX_WAIT_S: Type.Optional(Seconds),
  APP_PLUGINS: Type.Optional(Type.String()),
  DASHBOARD_URL: Type.Optional(Type.String({ pattern: '^https://' })),
  GENIE_SPACE_URL: Type.Optional(Type.String({ pattern: '^https://' })),
  LOCAL_USER_EMAIL: Type.Optional(NonEmpty),
  TRUST_FORWARDED_EMAIL: Type.Optional(Bool),
  // access: roles, mutations and the audit log (README "Access control").
  APP_ADMINS: Type.Optional(Type.String({ maxLength: 10_000 })),
  APP_EDITORS: Type.Optional(Type.String({ maxLength: 10_000 })),
  APP_DEFAULT_ROLE: Type.Optional(
    Type.String({ pattern: '^(viewer|editor|admin)$', description: 'viewer, editor or admin' }),
  ),
  ALLOW_MUTATIONS: Type.Optional(Bool),
  AUDIT_RETENTION_DAYS: Type.Optional(
    Type.String({ pattern: '^[1-9][0-9]{0,4}$', description: 'a whole number of days (1 or more)' }),
  ),
})
export type Env = Static<typeof EnvSchema>

/** Validates the set known variables. Throws a CONFIG_INVALID AppError naming the first bad variable. */
export function validateEnv(known: Record<string, string>): Env {
  const first = [...Value.Errors(EnvSchema, known)][0]
  if (first) {
    const name = first.instancePath.replace(/^\//, '')
    const described = (EnvSchema.properties as Record<string, { description?: string }>)[name]?.description
    throw new AppError(
      'CONFIG_INVALID',
      `Environment variable ${name} is invalid: ${described ? `expected ${described}` : first.message}. Fix it in your environment or .env file.`,
    )
  }
  return known as Env
}
