// Running a query from the IDE and showing its result: POST /run renders the first page, GET
// /results/:id?page=k another page, GET /results/:id.csv|.json the whole result as a download.
// A browser that goes away (Cancel, closed tab) aborts the run, which kills the StackQL process.
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { AppError, isAppError } from '../../src/errors.js'
import { PROVIDER_PATTERN } from '../../src/models.js'
import { formatCount } from '../../src/render/format.js'
import type { QueryResult } from '../../src/services/query-service.js'
import { ProfileField, pickedProfiles } from './profiles.js'
import type { CachedResult, ResultCache } from './result-cache.js'
import { csvChunks, formatElapsed, jsonChunks, resultPage } from './result-format.js'
import { RunLimits } from './run-limits.js'

export interface ResultsOptions {
  cache: ResultCache
  /** Shared with Run across (plugins/ide/across.ts), so both count against one limit. */
  limits?: RunLimits
}

const INCOMPLETE_TITLE =
  'Incomplete result: StackQL reported an error, so these rows are not the whole result.'

const RunBody = Type.Object({
  query_text: Type.String({ maxLength: 100_000 }),
  provider: Type.Optional(Type.String({ maxLength: 63 })),
  /** The profile picker's selects: `provider/profile` each. */
  profile: ProfileField,
})

const RESULT_FILE = /^([0-9a-f-]{36})(?:\.(csv|json))?$/
const PROVIDER = new RegExp(PROVIDER_PATTERN)

/** An AbortController that fires when the client disconnects before the response is written. */
export function abortOnDisconnect(reply: FastifyReply): AbortController {
  const controller = new AbortController()
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort()
  }
  reply.raw.once('close', onClose)
  return controller
}

export type ResultsView =
  | { state: 'initial' }
  | { state: 'error'; code: string; message: string }
  | {
      state: 'result'
      id?: string
      columns: string[]
      total: number
      elapsed: string
      message?: string
      /** StackQL's text when the rows came with an error (shown as an alert above the rows). */
      incomplete?: { title: string; text: string }
      tooLarge?: string
      countLabel: string
      totalLabel: string
      page: ReturnType<typeof resultPage> & { firstLabel: string; lastLabel: string }
    }

function rowsLabel(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'row' : 'rows'}`
}

export function resultView(
  result: Pick<QueryResult, 'columns' | 'rows' | 'elapsedMs' | 'message'> &
    Partial<Pick<QueryResult, 'complete' | 'incomplete'>>,
  page: number,
  entry?: CachedResult,
  tooLarge?: string,
): ResultsView {
  const p = resultPage(result.columns, result.rows, page)
  return {
    state: 'result',
    id: entry?.id,
    columns: result.columns,
    total: result.rows.length,
    elapsed: formatElapsed(result.elapsedMs),
    // The incomplete alert carries StackQL's text; it is not repeated as an info message.
    message: result.complete === false ? undefined : result.message,
    incomplete:
      result.complete === false
        ? { title: INCOMPLETE_TITLE, text: result.incomplete ?? result.message ?? '' }
        : undefined,
    tooLarge,
    countLabel: rowsLabel(result.rows.length),
    totalLabel: formatCount(result.rows.length),
    page: { ...p, firstLabel: formatCount(p.first), lastLabel: formatCount(p.last) },
  }
}

const EXPIRED =
  'This result is no longer available (the server keeps the last 20 results for 30 minutes): run the query again.'

const results: FastifyPluginAsyncTypebox<ResultsOptions> = async (app, opts) => {
  const { cache } = opts
  const ide = app.config.ide
  const limits =
    opts.limits ?? new RunLimits({ perUser: ide.maxConcurrentRunsPerUser, total: ide.maxConcurrentRuns })

  app.post('/run', { schema: { body: RunBody } }, async (req, reply) => {
    const queryText = req.body.query_text
    const provider = (req.body.provider ?? '').trim()
    reply.header('cache-control', 'no-store')
    if (queryText.trim() === '') {
      const view = {
        state: 'error',
        code: 'VALIDATION',
        message: 'The editor is empty: write a query first.',
      }
      return reply.render('ide/_results', { results: view }, { status: 400 })
    }
    if (provider !== '' && !PROVIDER.test(provider)) {
      const view = { state: 'error', code: 'VALIDATION', message: `"${provider}" is not a provider name.` }
      return reply.render('ide/_results', { results: view }, { status: 400 })
    }
    const slot = limits.enter(req.user)
    if ('refused' in slot) {
      reply.header('retry-after', '5')
      const view = { state: 'error', code: 'TOO_MANY_RUNS', message: slot.refused }
      return reply.render('ide/_results', { results: view }, { status: 429 })
    }
    const controller = abortOnDisconnect(reply)
    let result: QueryResult
    try {
      const profiles = pickedProfiles(req.body.profile)
      result = await app.queries.execute(queryText, provider || undefined, {
        signal: controller.signal,
        profiles,
        maxOutputBytes: ide.maxOutputBytes,
        maxOutputSetting: 'IDE_MAX_OUTPUT_MB',
      })
    } catch (e) {
      if (!isAppError(e)) throw e
      if (controller.signal.aborted) {
        req.log.info({ code: e.code }, 'query cancelled: the browser disconnected')
        return reply.code(499).send()
      }
      const view = { state: 'error', code: e.code, message: e.message }
      return reply.render('ide/_results', { results: view }, { status: e.status })
    } finally {
      slot.release()
    }
    req.auditNote({ rows: result.rows.length })
    const entry = cache.add(req.user, result)
    const tooLarge = entry
      ? undefined
      : 'This result is too large to keep for paging and downloads: only the first page is shown. Narrow the query (WHERE, LIMIT) to see all of it.'
    return reply.render('ide/_results', { results: resultView(result, 1, entry, tooLarge) })
  })

  app.get(
    '/results/:file',
    {
      schema: {
        params: Type.Object({ file: Type.String({ maxLength: 80 }) }),
        querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store')
      const match = RESULT_FILE.exec(req.params.file)
      const entry = match ? cache.get(match[1]!, req.user) : undefined
      const format = match?.[2]
      if (!entry) {
        if (format) throw new AppError('NOT_FOUND', EXPIRED)
        const view = { state: 'error', code: 'NOT_FOUND', message: EXPIRED }
        return reply.render('ide/_results', { results: view }, { status: 404 })
      }
      if (!format) {
        return reply.render('ide/_results', { results: resultView(entry, req.query.page ?? 1, entry) })
      }
      const stamp = new Date(entry.createdAt).toISOString().replace(/[:.]/g, '-').slice(0, 19)
      const chunks =
        format === 'csv' ? csvChunks(entry.columns, entry.rows) : jsonChunks(entry.columns, entry.rows)
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="stackql-result-${stamp}.${format}"`)
        .send(Readable.from(chunks))
    },
  )
}

export default results
