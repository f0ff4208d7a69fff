// StackQL metadata for the explorer, the check and the assistant: `fastify.metadata` (MetadataService).
// Runs through the app's StackQL runner without credentials; cached in stackql_app.metadata_cache.
import fp from 'fastify-plugin'
import { MetadataCache } from '../../src/db/metadata-cache.js'
import { MetadataService } from '../../src/explorer/metadata-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    metadata: MetadataService
  }
}

export default fp(
  async (app) => {
    app.decorate(
      'metadata',
      new MetadataService({
        runner: app.stackql,
        cache: new MetadataCache(app.db),
        logger: app.log,
        // A metadata statement answers in well under a second; bound a hanging one tighter than queries.
        timeoutMs: Math.min(app.config.stackql.queryTimeoutMs, 30_000),
      }),
    )
  },
  { fastify: '5.x', name: 'metadata', dependencies: ['config', 'db', 'stackql'] },
)
