// The one module that reads process.env: validates it against the variables of src/config-schema.ts
// and turns it into a typed Config.
// Everything else receives a Config (or a value from it) as an argument.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Env, EnvSchema, validateEnv } from './config-schema.js'
import { AppError } from './errors.js'

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
  const e = validateEnv(known)
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
