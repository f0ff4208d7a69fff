// GET /schedules/key-suggestions: the key columns the New Schedule / Edit dialogs suggest for the
// picked query (src/changes/key-suggestions.ts). `SELECT *` reads the resource's columns from the
// explorer metadata (no credentials, no cloud API); when that cannot be read, the SELECT list alone.
// A read: it changes nothing, so it needs no rule in src/access/rules.ts.
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { keySuggestions, selectOutputColumns } from '../../src/changes/key-suggestions.js'
import { isAppError } from '../../src/errors.js'

const SuggestQuery = Type.Object({
  for: Type.Union([Type.Literal('new'), Type.Literal('edit')], { default: 'new' }),
  query_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('')])),
  schedule_id: Type.Optional(Type.Integer({ minimum: 1 })),
  profiles: Type.Optional(
    Type.Union([
      Type.String({ maxLength: 200 }),
      Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }),
    ]),
  ),
})
interface SuggestQ {
  for: 'new' | 'edit'
  query_id?: number | ''
  schedule_id?: number
  profiles?: string | string[]
}

/** A metadata lookup for a suggestion is bounded tightly: the dialog must not wait long. */
const METADATA_TIMEOUT_MS = 10_000

export function registerKeySuggestions(app: FastifyInstance): void {
  app.get<{ Querystring: SuggestQ }>(
    '/key-suggestions',
    { schema: { querystring: SuggestQuery } },
    async (req, reply) => {
      const q = req.query
      let queryId = typeof q.query_id === 'number' ? q.query_id : undefined
      let fansOut = (Array.isArray(q.profiles) ? q.profiles : q.profiles ? [q.profiles] : []).some(
        (p) => p.trim() !== '',
      )
      if (q.for === 'edit' && q.schedule_id) {
        const schedule = await app.db.getSchedule(q.schedule_id)
        queryId = schedule?.query_id ?? undefined
        fansOut = (schedule?.profiles?.length ?? 0) > 0
      }
      const query = queryId ? await app.db.getQuery(queryId) : null
      let suggestions: string[] = []
      let starUnknown = false
      if (query) {
        const { star } = selectOutputColumns(query.query_text)
        let starColumns: string[] | undefined
        if (star) {
          try {
            const cols = await app.metadata.describeResource(star.provider, star.service, star.resource, {
              timeoutMs: METADATA_TIMEOUT_MS,
            })
            starColumns = cols.map((c) => c.name)
          } catch (e) {
            if (!isAppError(e)) throw e
            starUnknown = true
          }
        }
        suggestions = keySuggestions({ text: query.query_text, fansOut, starColumns })
      }
      return reply.render('schedules/_key-suggestions', {
        slot: q.for,
        scheduleId: q.schedule_id ?? null,
        loaded: true,
        hasQuery: !!query,
        suggestions,
        starUnknown,
      })
    },
  )
}
