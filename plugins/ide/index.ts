// The IDE area: the page (editor, results, saved-query library, AI chat) and its routes.
// The result cache lives here, one per app, so paging and downloads never re-run a query.
import type { FastifyPluginAsync } from 'fastify'
import { isAppError } from '../../src/errors.js'
import chatRoutes from './chat.js'
import queryRoutes, { sidebarData } from './queries.js'
import { ResultCache, type ResultCacheOptions } from './result-cache.js'
import resultRoutes from './results.js'

export interface IdeOptions {
  resultCache?: ResultCacheOptions
}

const ide: FastifyPluginAsync<IdeOptions> = async (app, opts) => {
  const cache = new ResultCache(opts.resultCache)
  app.addHook('onClose', async () => cache.clear())

  app.get('/', async (_req, reply) => {
    const [sidebar, mappedProviders] = await Promise.all([
      sidebarData(app),
      app.db.getProviders().then(
        (providers) => ({ providers, error: undefined }),
        (e: unknown) => {
          if (!isAppError(e)) throw e
          return { providers: [] as string[], error: e.message }
        },
      ),
    ])
    const mapped = mappedProviders.providers
    const providersError = mappedProviders.error
    // Saved queries may use a provider without mappings (no credentials needed): keep it selectable.
    const providers = [...new Set([...mapped, ...sidebar.queries.map((q) => q.provider)])].sort()
    reply.header('cache-control', 'no-store')
    return reply.render(
      'ide/index',
      {
        ...sidebar,
        providers,
        hasMappings: mapped.length > 0,
        providersError,
        selectedProvider: mapped[0] ?? '',
        results: { state: 'initial' },
        messages: [],
      },
      { title: 'IDE' },
    )
  })

  await app.register(resultRoutes, { cache })
  await app.register(queryRoutes)
  await app.register(chatRoutes, { cache })
}

export default ide
