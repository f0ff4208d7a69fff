// Opens the postgres.js pool for whichever connection mode the config selects:
// DATABASE_URL, the seed's LAKEBASE_* settings, Databricks Apps' PG* variables (OAuth-token
// password), or the embedded server. Connecting is lazy: a database that is down does not stop boot.
import postgres from 'postgres'
import type { DatabaseConfig } from '../config.js'
import { startEmbeddedDatabase } from './embedded.js'
import { noDelaySocket } from './tcp-socket.js'

export type Sql = postgres.Sql

export interface OpenDatabaseOptions {
  /** Mints the password per new connection (Lakebase OAuth token). Used when no static password is set. */
  password?: () => Promise<string>
  log?: (msg: string) => void
  max?: number
}

export interface Database {
  sql: Sql
  /** Where we connect, for error messages: host:port/database (never a password). */
  target: string
  /** Why the last password mint failed (cleared by the next success), for the outage message. */
  passwordProblem: () => unknown
  close(): Promise<void>
}

const SSL: Record<string, postgres.Options<Record<string, never>>['ssl']> = {
  disable: false,
  allow: 'allow',
  prefer: 'prefer',
  require: 'require',
  'verify-ca': 'verify-full',
  'verify-full': 'verify-full',
}

/**
 * postgres.js's `socket` option (missing from its types): sockets with TCP_NODELAY — every COPY would
 * otherwise end with a ~40 ms delayed-ACK wait (tcp-socket.ts). Spread into every client's options.
 */
export const NO_DELAY: { socket: typeof noDelaySocket } = { socket: noDelaySocket }

function baseOptions(max: number): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    max,
    idle_timeout: 60,
    // Lakebase closes connections after 3 days; recycle well before.
    max_lifetime: 60 * 60,
    connect_timeout: 10,
    ...NO_DELAY,
    onnotice: () => {},
    transform: { undefined: null },
    types: {
      // bigint ids and counts come back as JS numbers; a value beyond 2^53 stays a string (no silent rounding).
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint | string) => x.toString(),
        parse: (x: string) => {
          const n = Number(x)
          return Number.isSafeInteger(n) ? n : x
        },
      },
    },
  }
}

export async function openDatabase(
  config: DatabaseConfig,
  opts: OpenDatabaseOptions = {},
): Promise<Database> {
  const max = opts.max ?? 10
  if (config.mode === 'embedded') {
    const embedded = await startEmbeddedDatabase(config.dataDir, opts.log)
    const sql = postgres(embedded.url, baseOptions(max))
    return {
      sql,
      target: `embedded PostgreSQL (${config.dataDir})`,
      passwordProblem: () => undefined,
      close: async () => {
        await sql.end({ timeout: 5 })
        await embedded.stop()
      },
    }
  }
  if (config.mode === 'url') {
    const sql = postgres(config.url, baseOptions(max))
    const u = new URL(config.url)
    return {
      sql,
      target: `${u.hostname}:${u.port || 5432}${u.pathname}`,
      passwordProblem: () => undefined,
      close: () => sql.end({ timeout: 5 }),
    }
  }
  // postgres.js awaits the password function without catching: a rejection there would be an
  // unhandled rejection. So a failed mint is remembered and an empty password sent instead; the
  // login then fails and the outage message says why (src/db/health.ts).
  let problem: unknown
  const mint = opts.password
  const password =
    config.password ??
    (mint &&
      (async () => {
        try {
          const token = await mint()
          problem = undefined
          return token
        } catch (e) {
          problem = e
          return ''
        }
      }))
  const sql = postgres({
    ...baseOptions(max),
    host: config.host,
    port: config.port,
    database: config.database,
    username: config.user,
    password,
    ssl: SSL[config.sslmode] ?? 'prefer',
    connection: config.applicationName ? { application_name: config.applicationName } : undefined,
  })
  return {
    sql,
    target: `${config.host}:${config.port}/${config.database}`,
    passwordProblem: () => problem,
    close: () => sql.end({ timeout: 5 }),
  }
}
