// The password for the app's Lakebase connection: an OAuth database credential minted through the
// workspace API, held only in the returned closure and renewed shortly before it expires.
import { randomUUID } from 'node:crypto'
import type { DatabaseConfig } from '../config.js'
import { AppError } from '../errors.js'
import type { DatabricksClient } from './client.js'

export interface LakebaseTarget {
  /** Autoscaling: projects/<p>/branches/<b>/endpoints/<e>. */
  endpoint?: string
  /** Provisioned: the database instance name. */
  instance?: string
}

/** Renew this long before expiry (or at half the lifetime, if shorter). */
const EARLY_RENEW_MS = 5 * 60_000
/** If the expiry cannot be read, assume a short life rather than hold a dead token. */
const FALLBACK_LIFETIME_MS = 15 * 60_000

/**
 * A function for postgres.js's `password` option. Each new connection asks it for a password;
 * the token is reused until shortly before it expires (open connections outlive their token).
 */
export function createLakebasePassword(
  client: DatabricksClient,
  target: LakebaseTarget,
  now: () => number = Date.now,
): () => Promise<string> {
  if (!target.endpoint && !target.instance) {
    throw new AppError(
      'CONFIG_INVALID',
      'Set LAKEBASE_ENDPOINT (Autoscaling) or LAKEBASE_INSTANCE (Provisioned) to log in to Lakebase with an OAuth token.',
    )
  }
  let token: { value: string; renewAt: number } | undefined
  let inFlight: Promise<string> | undefined

  async function mint(): Promise<string> {
    const issuedAt = now()
    let value: string | undefined
    let expiry: string | undefined
    if (target.endpoint) {
      const res = await client.post<{ token?: string; expire_time?: string }>(
        '/api/2.0/postgres/credentials',
        {
          endpoint: target.endpoint,
        },
      )
      value = res.token
      expiry = res.expire_time
    } else {
      const res = await client.post<{ token?: string; expiration_time?: string }>(
        '/api/2.0/database/credentials',
        {
          instance_names: [target.instance],
          request_id: randomUUID(),
        },
      )
      value = res.token
      expiry = res.expiration_time
    }
    if (!value) {
      throw new AppError(
        'DATABRICKS_BAD_REQUEST',
        `Databricks returned no Lakebase credential for ${target.endpoint ?? target.instance}.`,
      )
    }
    const expiresAt = expiry ? Date.parse(expiry) : Number.NaN
    const lifetime = Number.isNaN(expiresAt) ? FALLBACK_LIFETIME_MS : Math.max(0, expiresAt - issuedAt)
    token = { value, renewAt: issuedAt + lifetime - Math.min(EARLY_RENEW_MS, lifetime / 2) }
    return value
  }

  return async () => {
    if (token && now() < token.renewAt) return token.value
    inFlight ??= mint().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }
}

/**
 * The postgres.js `password` option for a database config: the static LAKEBASE_PASSWORD when
 * given (seed mode), else a token minter when an endpoint or instance is configured and a
 * workspace client exists, else undefined (plain DATABASE_URL / embedded / PGPASSWORD setups).
 */
export function lakebasePassword(
  database: DatabaseConfig,
  client?: DatabricksClient,
): string | (() => Promise<string>) | undefined {
  if (database.mode !== 'lakebase' && database.mode !== 'pg-env') return undefined
  if (database.password !== undefined) return database.password
  if (!database.lakebaseEndpoint && !database.lakebaseInstance) return undefined
  if (!client) {
    throw new AppError(
      'CONFIG_INVALID',
      'Lakebase login needs a Databricks workspace to mint tokens: set DATABRICKS_HOST and DATABRICKS_CLIENT_ID/SECRET (or DATABRICKS_TOKEN), or LAKEBASE_PASSWORD.',
    )
  }
  return createLakebasePassword(client, {
    endpoint: database.lakebaseEndpoint,
    instance: database.lakebaseInstance,
  })
}
