// The IDE area: the page (editor, results, saved-query library, AI chat) and its routes.
// The result cache lives here, one per app, so paging and downloads never re-run a query.
import type { FastifyPluginAsync } from 'fastify'
import { isAppError } from '../../src/errors.js'
import type { Query } from '../../src/models.js'
import acrossRoutes from './across.js'
import chatRoutes from './chat.js'
import explorerRoutes from './explorer.js'
import profilePicker from './profiles.js'
import queryRoutes, { sidebarData } from './queries.js'
import { ResultCache, type ResultCacheOptions } from './result-cache.js'
import resultRoutes from './results.js'
import { RunLimits } from './run-limits.js'
import starterRoutes from './starter.js'

export interface IdeOptions {
  resultCache?: ResultCacheOptions
}

const ide: FastifyPluginAsync<IdeOptions> = async (app, opts) => {
  const cache = new ResultCache(opts.resultCache)
  app.addHook('onClose', async () => cache.clear())
  // The page's body depends only on the saved queries and the mapped providers. The DbService hands
  // out the same (frozen) lists until they change, so the body rendered for them is reused — the
  // landing page does not re-escape every saved query on every view.
  const bodies = new WeakMap<Query[], { mapped: string[]; html: string }>()

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
    reply.header('cache-control', 'no-store')
    const memo = bodies.get(sidebar.queries)
    if (memo?.mapped === mapped) return reply.renderHtml(memo.html, { title: 'IDE' })
    // Saved queries may use a provider without mappings (no credentials needed): keep it selectable.
    const providers = [...new Set([...mapped, ...sidebar.queries.map((q) => q.provider)])].sort()
    const html = await reply.viewAsync('ide/index', {
      ...sidebar,
      providers,
      hasMappings: mapped.length > 0,
      providersError,
      selectedProvider: mapped[0] ?? '',
      results: { state: 'initial' },
      messages: [],
    })
    if (!sidebar.loadError && !providersError) bodies.set(sidebar.queries, { mapped, html })
    return reply.renderHtml(html, { title: 'IDE' })
  })

  const limits = new RunLimits({
    perUser: app.config.ide.maxConcurrentRunsPerUser,
    total: app.config.ide.maxConcurrentRuns,
  })
  await app.register(resultRoutes, { cache, limits })
  await app.register(acrossRoutes, { cache, limits })
  await app.register(queryRoutes)
  await app.register(profilePicker)
  await app.register(chatRoutes, { cache })
  await app.register(starterRoutes)
  await app.register(explorerRoutes)
}

export default ide
