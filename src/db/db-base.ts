// The base of the DB service: the pool, the health state, and `use()` — every query goes through it,
// so the schema is applied once (retried after a failure) and driver errors become AppErrors.
import type { Sql } from './connect.js'
import { DbHealth } from './health.js'
import { applySchema } from './migrate.js'

export class DbBase {
  readonly health: DbHealth
  private ready: Promise<void> | undefined

  constructor(
    readonly sql: Sql,
    target: string,
    private readonly schemaFile?: string,
    passwordProblem?: () => unknown,
  ) {
    this.health = new DbHealth(target, passwordProblem)
  }

  /** Applies the schema once (retried on the next call after a failure), then runs `fn`, mapping DB errors. */
  async use<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      this.ready ??= applySchema(this.sql, this.schemaFile)
      await this.ready.catch((e) => {
        this.ready = undefined
        throw e
      })
      const result = await fn(this.sql)
      this.health.markUp()
      return result
    } catch (e) {
      throw this.health.translate(e)
    }
  }

  async ping(): Promise<void> {
    return this.use(async (sql) => {
      await sql`select 1`
    })
  }
}
