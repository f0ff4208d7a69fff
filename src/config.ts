// The one module that reads process.env: validates it with TypeBox and turns it into a typed Config.
// Everything else receives a Config (or a value from it) as an argument.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
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

export type DatabaseConfig =
  | { mode: 'embedded'; dataDir: string }
  | { mode: 'url'; url: string }
  | {
      mode: 'lakebase' | 'pg-env'
      host: string
      port: number
      database: string
      user: string
      /** Static password (seed mode). Absent in Databricks Apps: an OAuth token is minted instead. */
      password?: string
      sslmode: string
      applicationName?: string
      lakebaseEndpoint?: string
      lakebaseInstance?: string
    }

export interface DatabricksConfig {
  /** Normalised base URL, e.g. https://adb-1.azuredatabricks.net (http:// allowed for local stand-ins). */
  host: string
  token?: string
  clientId?: string
  clientSecret?: string
}

export interface Config {
  host: string
  port: number
  logLevel: string
  dataDir: string
  database: DatabaseConfig
  /** Absent when no workspace is configured (local development): schedules are saved without a job. */
  databricks?: DatabricksConfig
  secretScope: string
  templateJob: string
  jobTimezone: string
  /** FOR_EACH_THRESHOLD: a schedule with more profile slices than this runs them as a for_each_task. */
  forEachThreshold: number
  /** FOR_EACH_CONCURRENCY: parallel iterations of that for_each_task (Jobs allows 1-100). */
  forEachConcurrency: number
  /** SLICE_CONCURRENCY: profile slices one run executes in parallel (default 4). */
  sliceConcurrency: number
  /** Links the Inventory page shows when set: the deployed AI/BI dashboard and Genie space. */
  insights: { dashboardUrl?: string; genieSpaceUrl?: string }
  /** STACKQL_LOCAL_DEV=true: provider credentials and the Anthropic key come from the app's own environment. */
  localDev: boolean
  /** True inside a Databricks App (DATABRICKS_APP_NAME is injected there). */
  inDatabricksApp: boolean
  /** NODE_ENV=production: templates are cached, .env is not read. */
  production: boolean
  stackql: {
    bin?: string
    downloadDir: string
    downloadBaseUrl?: string
    queryTimeoutMs: number
    maxOutputBytes: number
  }
  /** Bounds of the IDE's runs (the job runner has only the stackql ones). */
  ide: {
    /** Output bound of one IDE run (IDE_MAX_OUTPUT_MB, default 64 MB; never above stackql.maxOutputBytes). */
    maxOutputBytes: number
    maxConcurrentRunsPerUser: number
    maxConcurrentRuns: number
  }
  anthropic: {
    model: string
    baseURL?: string
    /** The time bound of one assistant answer, tool lookups and visible retries included. */
    answerTimeoutMs: number
    /** A rate limit / overload asking to wait longer than this is reported, not retried. */
    retryMaxWaitMs: number
  }
  /** The inventory writer's limits: lock wait and per-statement time of a run's write (0 = no limit). */
  inventoryWriter: { lockTimeoutMs: number; statementTimeoutMs: number }
  /** Days change records are kept (CHANGE_RETENTION_DAYS); runs prune older ones. */
  changeRetentionDays: number
  /** Module specifiers of extra Fastify plugins loaded by platform teams (APP_PLUGINS, comma-separated). */
  extensions: string[]
  localUserEmail: string
  /**
   * Whether X-Forwarded-Email names the user: always inside a Databricks App (its proxy sets it),
   * elsewhere only with TRUST_FORWARDED_EMAIL=true (behind a proxy of your own) — otherwise anyone
   * reaching the port could claim any identity.
   */
  trustForwardedEmail: boolean
  /** Who may do what (src/access/): raw APP_ADMINS / APP_EDITORS lists and APP_DEFAULT_ROLE. */
  access: {
    admins: string
    editors: string
    /** APP_DEFAULT_ROLE, absent when not set (then viewer once any admin is configured). */
    defaultRole?: 'viewer' | 'editor' | 'admin'
    /** ALLOW_MUTATIONS=true: admins may run INSERT/UPDATE/DELETE/REPLACE/EXEC (after a confirmation). */
    allowMutations: boolean
  }
  /** AUDIT_RETENTION_DAYS: audit rows older than this are pruned (default 365). */
  auditRetentionDays: number
  /**
   * The app's own settings as environment variables (every known variable that was set, plus PATH,
   * HOME and locale), for the local job runner child started by "Run now" — so the child connects
   * to the same database with the same StackQL settings. Provider credentials are NOT in here.
   */
  runnerEnv: Record<string, string>
}

/** Process basics a child process needs besides the app's settings. */
const CHILD_BASICS = [
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LC_ALL',
  'TZ',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
]

export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5'

/** Normalises a workspace host: adds https:// when no scheme is given, drops trailing slashes. */
export function normaliseHost(host: string): string {
  const withScheme = /^https?:\/\//i.test(host) ? host : `https://${host}`
  return withScheme.replace(/\/+$/, '')
}

function bool(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes)$/i.test(v)
}

/** Reads and validates an environment. Throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const v = env[key]
    if (v !== undefined && v !== '') known[key] = v
  }
  const first = [...Value.Errors(EnvSchema, known)][0]
  if (first) {
    const name = first.instancePath.replace(/^\//, '')
    const described = (EnvSchema.properties as Record<string, { description?: string }>)[name]?.description
    throw new AppError(
      'CONFIG_INVALID',
      `Environment variable ${name} is invalid: ${described ? `expected ${described}` : first.message}. Fix it in your environment or .env file.`,
    )
  }
  const e = known as Env
  const dataDir = resolve(e.DATA_DIR ?? '.data')
  return {
    host: e.HOST ?? '0.0.0.0',
    port: Number(e.DATABRICKS_APP_PORT ?? e.PORT ?? 8000),
    logLevel: e.LOG_LEVEL ?? 'info',
    dataDir,
    database: databaseConfig(e, dataDir),
    databricks: databricksConfig(e),
    secretScope: e.SECRET_SCOPE ?? 'stackql-inventory',
    templateJob: e.INVENTORY_TEMPLATE_JOB ?? 'stackql-inventory-template',
    jobTimezone: e.JOB_TIMEZONE ?? 'UTC',
    forEachThreshold: Number(e.FOR_EACH_THRESHOLD ?? 8),
    forEachConcurrency: Number(e.FOR_EACH_CONCURRENCY ?? 4),
    sliceConcurrency: Number(e.SLICE_CONCURRENCY ?? 4),
    insights: { dashboardUrl: e.DASHBOARD_URL, genieSpaceUrl: e.GENIE_SPACE_URL },
    localDev: bool(e.STACKQL_LOCAL_DEV),
    inDatabricksApp: e.DATABRICKS_APP_NAME !== undefined,
    production: env.NODE_ENV === 'production',
    stackql: {
      bin: e.STACKQL_BIN,
      downloadDir: resolve(e.STACKQL_DOWNLOAD_DIR ?? '/tmp/stackql'),
      downloadBaseUrl: e.STACKQL_DOWNLOAD_BASE_URL,
      queryTimeoutMs: Math.round(Number(e.STACKQL_QUERY_TIMEOUT_S ?? 300) * 1000),
      maxOutputBytes: Math.round(Number(e.STACKQL_MAX_OUTPUT_MB ?? 256) * 1024 * 1024),
    },
    ide: {
      maxOutputBytes: Math.round(Number(e.IDE_MAX_OUTPUT_MB ?? 64) * 1024 * 1024),
      maxConcurrentRunsPerUser: Number(e.IDE_MAX_CONCURRENT_RUNS_PER_USER ?? 2),
      maxConcurrentRuns: Number(e.IDE_MAX_CONCURRENT_RUNS ?? 8),
    },
    anthropic: {
      model: e.ANTHROPIC_MODEL ?? DEFAULT_ANTHROPIC_MODEL,
      baseURL: e.ANTHROPIC_BASE_URL,
      answerTimeoutMs: Math.round(Number(e.AI_ANSWER_TIMEOUT_S ?? 180) * 1000),
      retryMaxWaitMs: Math.round(Number(e.AI_RETRY_MAX_WAIT_S ?? 30) * 1000),
    },
    inventoryWriter: {
      lockTimeoutMs: Number(e.INVENTORY_LOCK_TIMEOUT_MS ?? 30_000),
      statementTimeoutMs: Number(e.INVENTORY_STATEMENT_TIMEOUT_MS ?? 600_000),
    },
    changeRetentionDays: Number(e.CHANGE_RETENTION_DAYS ?? 90),
    extensions: (e.APP_PLUGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    localUserEmail: e.LOCAL_USER_EMAIL ?? 'developer@localhost',
    trustForwardedEmail: e.DATABRICKS_APP_NAME !== undefined || bool(e.TRUST_FORWARDED_EMAIL),
    access: {
      admins: e.APP_ADMINS ?? '',
      editors: e.APP_EDITORS ?? '',
      defaultRole: e.APP_DEFAULT_ROLE as Config['access']['defaultRole'],
      allowMutations: bool(e.ALLOW_MUTATIONS),
    },
    auditRetentionDays: Number(e.AUDIT_RETENTION_DAYS ?? 365),
    runnerEnv: {
      ...Object.fromEntries(CHILD_BASICS.flatMap((k) => (env[k] ? [[k, env[k]]] : []))),
      ...known,
      DATA_DIR: dataDir,
    },
  }
}

function databaseConfig(e: Env, dataDir: string): DatabaseConfig {
  if (e.DATABASE_URL) return { mode: 'url', url: e.DATABASE_URL }
  if (e.LAKEBASE_HOST) {
    for (const name of ['LAKEBASE_DATABASE', 'LAKEBASE_USER'] as const) {
      if (!e[name]) throw new AppError('CONFIG_INVALID', `LAKEBASE_HOST is set but ${name} is missing.`)
    }
    if (e.LAKEBASE_PASSWORD === undefined && !e.LAKEBASE_ENDPOINT && !e.LAKEBASE_INSTANCE) {
      throw new AppError(
        'CONFIG_INVALID',
        'LAKEBASE_HOST is set but there is no LAKEBASE_PASSWORD, LAKEBASE_ENDPOINT or LAKEBASE_INSTANCE to log in with.',
      )
    }
    return {
      mode: 'lakebase',
      host: e.LAKEBASE_HOST,
      port: Number(e.LAKEBASE_PORT ?? 5432),
      database: e.LAKEBASE_DATABASE!,
      user: e.LAKEBASE_USER!,
      password: e.LAKEBASE_PASSWORD,
      sslmode: e.PGSSLMODE ?? 'prefer',
      lakebaseEndpoint: e.LAKEBASE_ENDPOINT,
      lakebaseInstance: e.LAKEBASE_INSTANCE,
    }
  }
  if (e.PGHOST) {
    if (!e.LAKEBASE_ENDPOINT && !e.LAKEBASE_INSTANCE) {
      throw new AppError(
        'CONFIG_INVALID',
        'PGHOST is set (a Databricks Apps database resource) but neither LAKEBASE_ENDPOINT (Autoscaling) nor LAKEBASE_INSTANCE (Provisioned) says which Lakebase to mint login tokens for. Set one in app.yaml, or use LAKEBASE_HOST with LAKEBASE_PASSWORD.',
      )
    }
    return {
      mode: 'pg-env',
      host: e.PGHOST,
      port: Number(e.PGPORT ?? 5432),
      database: e.PGDATABASE ?? 'databricks_postgres',
      user: e.PGUSER ?? e.DATABRICKS_CLIENT_ID ?? 'postgres',
      sslmode: e.PGSSLMODE ?? 'require',
      applicationName: e.PGAPPNAME,
      lakebaseEndpoint: e.LAKEBASE_ENDPOINT,
      lakebaseInstance: e.LAKEBASE_INSTANCE,
    }
  }
  return { mode: 'embedded', dataDir: resolve(dataDir, 'pg') }
}

function databricksConfig(e: Env): DatabricksConfig | undefined {
  if (!e.DATABRICKS_HOST) return undefined
  if (!e.DATABRICKS_TOKEN && !(e.DATABRICKS_CLIENT_ID && e.DATABRICKS_CLIENT_SECRET)) return undefined
  return {
    host: normaliseHost(e.DATABRICKS_HOST),
    token: e.DATABRICKS_TOKEN,
    clientId: e.DATABRICKS_CLIENT_ID,
    clientSecret: e.DATABRICKS_CLIENT_SECRET,
  }
}

/**
 * Loads `.env` into the environment in development only (never inside a Databricks App or with
 * NODE_ENV=production). Existing variables win over the file.
 */
export function loadDotEnvForDevelopment(path = '.env', env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_ENV === 'production' || env.DATABRICKS_APP_NAME || env.CI) return false
  if (!existsSync(path)) return false
  process.loadEnvFile(path)
  return true
}

/**
 * The local-development credential source: reads a variable from the app's own environment at the
 * moment it is needed (STACKQL_LOCAL_DEV=true). Nothing is stored.
 */
export function readOwnEnvironment(name: string): string | undefined {
  const v = process.env[name]
  return v === undefined || v === '' ? undefined : v
}
