// Opens the database (embedded, URL, Lakebase or Databricks Apps PG* variables), decorates
// `fastify.db` (DbService) and `fastify.sql`, applies the schema at start when it can, and closes
// the pool (and the embedded server it started) on close. A database that is down at start is
// logged; the app still starts, shows the banner, and recovers on a later request.
import fp from 'fastify-plugin'
import { lakebasePassword } from '../../src/databricks/lakebase-token.js'
import type { Sql } from '../../src/db/connect.js'
import { openDatabase } from '../../src/db/connect.js'
import { DbService } from '../../src/db/db-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: DbService
    sql: Sql
  }
}

export interface DbPluginOptions {
  maxConnections?: number
}

export default fp(
  async (app, opts: DbPluginOptions) => {
    // Lakebase via Databricks Apps (PG*) or LAKEBASE_ENDPOINT/INSTANCE: an OAuth token minted per new
    // connection through the workspace client; a static LAKEBASE_PASSWORD is used as it is.
    const minted = lakebasePassword(app.config.database, app.databricks)
    const database = await openDatabase(app.config.database, {
      password: typeof minted === 'function' ? minted : undefined,
      max: opts.maxConnections,
      log: (msg) => app.log.info(msg),
    })
    const db = new DbService(database.sql, database.target, undefined, database.passwordProblem)
    app.decorate('db', db)
    app.decorate('sql', database.sql)
    app.addHook('onClose', () => database.close())
    try {
      await db.ping()
    } catch (e) {
      app.log.warn({ code: (e as { code?: string }).code }, (e as Error).message)
    }
  },
  { fastify: '5.x', name: 'db', dependencies: ['config', 'databricks'] },
)
