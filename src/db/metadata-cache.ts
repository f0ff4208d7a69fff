// The shared StackQL metadata cache (stackql_app.metadata_cache): the rows a metadata statement
// printed, per provider + installed version + statement. Written once, read by every app instance.
import type { Row } from '../models.js'
import type { DbBase } from './db-base.js'

export class MetadataCache {
  constructor(private readonly db: Pick<DbBase, 'use'>) {}

  /** The rows stored for this statement, or undefined when it was never fetched. */
  async get(provider: string, version: string, statement: string): Promise<Row[] | undefined> {
    return this.db.use(async (sql) => {
      const rows = await sql<{ payload: Row[] }[]>`
        SELECT payload FROM stackql_app.metadata_cache
        WHERE provider = ${provider} AND version = ${version} AND statement = ${statement}`
      return rows[0]?.payload
    })
  }

  /** Stores the rows (a concurrent writer of the same statement wrote the same metadata: keep theirs). */
  async put(provider: string, version: string, statement: string, payload: Row[]): Promise<void> {
    await this.db.use(async (sql) => {
      await sql`
        INSERT INTO stackql_app.metadata_cache (provider, version, statement, payload)
        VALUES (${provider}, ${version}, ${statement}, ${sql.json(payload as never)})
        ON CONFLICT (provider, version, statement) DO NOTHING`
    })
  }

  /** Forgets a provider's metadata (all versions): used by tests and after a failed pull left it half-known. */
  async forget(provider: string): Promise<void> {
    await this.db.use(async (sql) => {
      await sql`DELETE FROM stackql_app.metadata_cache WHERE provider = ${provider}`
    })
  }
}
