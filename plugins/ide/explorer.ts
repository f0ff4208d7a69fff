// The IDE's Explorer tab: providers (installed + the registry's, with Pull), services, resources
// (paged, with a filter across the open provider), and a resource's columns and methods. Every level
// is an htmx fragment loaded when its node opens; a failing level answers with its own message and
// a Retry, so the rest of the tree stays usable. Also POST /explorer/check (check before run).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { isAppError } from '../../src/errors.js'
import { selectMethod, selectTemplate } from '../../src/explorer/template.js'
import { abortOnDisconnect } from './results.js'

export const PAGE_SIZE = 100
const SEARCH_LIMIT = 100
const SEARCH_CONCURRENCY = 4

const Name = Type.String({ maxLength: 200 })
const ProviderParams = Type.Object({ provider: Name })
const ServiceParams = Type.Object({ provider: Name, service: Name })
const ResourceParams = Type.Object({ provider: Name, service: Name, resource: Name })
const PageQuery = Type.Object({ shown: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) })
const SearchQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) })
const CheckBody = Type.Object({ text: Type.String({ maxLength: 200_000 }) })

const explorer: FastifyPluginAsyncTypebox = async (app) => {
  const { metadata } = app
  const signalOf = (reply: FastifyReply) => abortOnDisconnect(reply).signal

  /** Renders `template` with the loaded data, or the level's error (with Retry) when a lookup fails. */
  async function level(
    reply: FastifyReply,
    template: string,
    retryUrl: string,
    load: () => Promise<Record<string, unknown>>,
  ) {
    reply.header('cache-control', 'no-store')
    try {
      return await reply.render(template, await load())
    } catch (e) {
      if (!isAppError(e) || (e.status < 500 && e.code !== 'STACKQL_QUERY')) throw e
      return reply.render('ide/_explorer-error', { message: e.message, code: e.code, retryUrl })
    }
  }

  app.get('/explorer', async (_req, reply) => {
    reply.header('cache-control', 'no-store')
    const data = await metadata.listProviders({ signal: signalOf(reply) }).then(
      (list) => ({ ...list, error: undefined }),
      (e: unknown) => {
        if (!isAppError(e)) throw e
        return { installed: [], available: [], error: e.message }
      },
    )
    const installed = new Set(data.installed.map((p) => p.name))
    return reply.render('ide/_explorer', {
      ...data,
      available: data.available.filter((p) => !installed.has(p.name)),
    })
  })

  app.post('/explorer/pull/:provider', { schema: { params: ProviderParams } }, async (req, reply) => {
    const { provider } = req.params
    let pullError: string | undefined
    try {
      await metadata.pullProvider(provider, { signal: signalOf(reply) })
    } catch (e) {
      if (!isAppError(e) || e.code === 'VALIDATION') throw e
      pullError = e.message
    }
    const list = await metadata.listProviders()
    const installed = new Set(list.installed.map((p) => p.name))
    reply.header('cache-control', 'no-store')
    return reply.render('ide/_explorer', {
      ...list,
      available: list.available.filter((p) => !installed.has(p.name)),
      pullError,
      pullProvider: pullError ? provider : undefined,
      opened: pullError ? undefined : provider,
    })
  })

  app.get('/explorer/p/:provider', { schema: { params: ProviderParams } }, async (req, reply) => {
    const { provider } = req.params
    return level(reply, 'ide/_explorer-services', req.url, async () => ({
      provider,
      services: await metadata.listServices(provider, { signal: signalOf(reply) }),
    }))
  })

  app.get(
    '/explorer/p/:provider/s/:service',
    { schema: { params: ServiceParams, querystring: PageQuery } },
    async (req, reply) => {
      const { provider, service } = req.params
      // Paged: the first `shown` resources; "Show more" asks for the next page with the same group.
      const shown = req.query.shown ?? PAGE_SIZE
      return level(reply, 'ide/_explorer-resources', req.url, async () => {
        const all = await metadata.listResources(provider, service, { signal: signalOf(reply) })
        return {
          provider,
          service,
          resources: all.slice(0, shown),
          total: all.length,
          next: shown < all.length ? Math.min(shown + PAGE_SIZE, all.length) : undefined,
        }
      })
    },
  )

  app.get(
    '/explorer/p/:provider/search',
    { schema: { params: ProviderParams, querystring: SearchQuery } },
    async (req, reply) => {
      const { provider } = req.params
      const q = (req.query.q ?? '').trim()
      return level(reply, 'ide/_explorer-search', req.url, async () => {
        if (q === '') return { provider, q, matches: [], total: 0 }
        const signal = signalOf(reply)
        const services = await metadata.listServices(provider, { signal })
        const needle = q.toLowerCase()
        const matches: { service: string; name: string; title: string }[] = []
        let total = 0
        // Bounded parallelism: a cold provider with many services must not start a process per service at once.
        for (let i = 0; i < services.length; i += SEARCH_CONCURRENCY) {
          const batch = services.slice(i, i + SEARCH_CONCURRENCY)
          const lists = await Promise.all(
            batch.map((s) => metadata.listResources(provider, s.name, { signal })),
          )
          lists.forEach((list, j) => {
            for (const r of list) {
              if (!r.name.toLowerCase().includes(needle) && !r.title.toLowerCase().includes(needle)) continue
              total++
              if (matches.length < SEARCH_LIMIT)
                matches.push({ service: batch[j]!.name, name: r.name, title: r.title })
            }
          })
        }
        return { provider, q, matches, total }
      })
    },
  )

  app.get(
    '/explorer/p/:provider/s/:service/r/:resource',
    { schema: { params: ResourceParams } },
    async (req, reply) => {
      const { provider, service, resource } = req.params
      return level(reply, 'ide/_explorer-resource', req.url, async () => {
        const signal = signalOf(reply)
        const [columns, methods] = await Promise.all([
          metadata.describeResource(provider, service, resource, { signal }),
          metadata.showMethods(provider, service, resource, { signal }),
        ])
        const select = selectMethod(methods)
        return {
          provider,
          service,
          resource,
          columns,
          methods,
          required: new Set(select?.requiredParams ?? []),
          template: selectTemplate({ provider, service, resource }, columns, methods),
        }
      })
    },
  )

  // Check before run: JSON in and out, so the offsets are the editor's (a form post would turn \n into \r\n).
  app.post('/explorer/check', { schema: { body: CheckBody } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const warnings = await metadata.checkStatement(req.body.text, {
      signal: signalOf(reply),
      timeoutMs: 15_000,
    })
    const html = warnings.length ? await reply.viewAsync('ide/_check', { warnings }) : ''
    // viewAsync set text/html on the reply; this answer is JSON.
    return reply.type('application/json; charset=utf-8').send({ warnings, html })
  })
}

export default explorer
