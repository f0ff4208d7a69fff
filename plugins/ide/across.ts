// "Run across" in the IDE: POST /run/across runs the editor's statement once per picked profile of
// one provider (src/fanout/across.ts) and answers `text/event-stream`: `progress` events with the
// slices' states (what it is waiting for) while they run, then `done` with the results area — the
// union with `_profile`, kept in the result cache for paging and downloads, and the per-slice summary.
import { PassThrough } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { AppError, isAppError } from '../../src/errors.js'
import { type AcrossResult, runAcross, type SliceStatus, summaryOrder } from '../../src/fanout/across.js'
import { expandSlices, parseSliceSpecs, type Slice } from '../../src/fanout/slices.js'
import { DEFAULT_PROFILE } from '../../src/profiles/names.js'
import { referencedProviders } from '../../src/profiles/referenced.js'
import { findPlaceholders, maskPlaceholders } from '../../src/profiles/variables.js'
import { shortElapsed, sliceChart } from '../../src/render/slice-chart.js'
import { singleStatement, statementKind } from '../../src/stackql/statements.js'
import { ProfileField, pickedProfiles } from './profiles.js'
import type { ResultCache } from './result-cache.js'
import { abortOnDisconnect, resultView } from './results.js'
import type { RunLimits } from './run-limits.js'
import { sseFrame } from './sse.js'

export interface AcrossOptions {
  cache: ResultCache
  limits: RunLimits
}

const AcrossBody = Type.Object({
  query_text: Type.String({ maxLength: 100_000 }),
  profile: ProfileField,
  /** The Run across checkboxes: `provider/profile` each. */
  across: ProfileField,
})

/** How often the progress line is re-sent while slices run (its "running for" times move on). */
const TICK_MS = 1000

async function render(app: FastifyInstance, template: string, data: Record<string, unknown>) {
  return ((await app.view(template, data)) as unknown as string).trim()
}

/** The progress view: counts and, by name, what the run is waiting for. */
export function progressView(provider: string, slices: SliceStatus[], now = performance.now()) {
  const done = slices.filter((s) => s.state === 'SUCCESS' || s.state === 'FAILED').length
  const running = slices.filter((s) => s.state === 'running')
  const queued = slices.filter((s) => s.state === 'queued')
  const waiting = [
    ...running.map((s) => `${s.label} (running for ${shortElapsed(now - (s.startedAt ?? now))})`),
    ...queued.map((s) => `${s.label} (queued)`),
  ]
  return {
    provider,
    total: slices.length,
    done,
    failed: slices.filter((s) => s.state === 'FAILED').length,
    waiting: waiting.join(', '),
    slices: summaryOrder(slices).map((s) => ({ ...s, time: shortElapsed(s.elapsedMs) })),
  }
}

/** The summary shown above the union: the picture and one line per slice. */
export function acrossView(provider: string, result: AcrossResult) {
  const slices = summaryOrder(result.slices)
  const failed = slices.filter((s) => s.state === 'FAILED')
  return {
    provider,
    total: slices.length,
    failed: failed.length,
    chart: sliceChart(slices.map((s) => ({ ...s, state: s.state }))),
    slices: slices.map((s) => ({ ...s, time: shortElapsed(s.elapsedMs) })),
  }
}

/** Checks the form and the statement; the slices to run. Throws VALIDATION (a 400 in the results area). */
async function slicesOf(app: FastifyInstance, text: string, across: string | string[] | undefined) {
  if (text.trim() === '') throw new AppError('VALIDATION', 'The editor is empty: write a query first.')
  const specs = parseSliceSpecs(across ?? [])
  if (specs.length === 0) throw new AppError('VALIDATION', 'Run across: tick at least one profile.')
  if (specs.some((s) => s.profile === '*')) {
    throw new AppError(
      'VALIDATION',
      'Run across names its profiles one by one (tick "all profiles" to tick each).',
    )
  }
  const masked = maskPlaceholders(text, findPlaceholders(text))
  const kind = statementKind(singleStatement(masked))
  const provider = specs[0]!.provider
  if (kind !== 'SELECT') {
    throw new AppError(
      'VALIDATION',
      `Run across runs SELECT statements only (this one is ${kind}): run it on one profile.`,
    )
  }
  if (!referencedProviders(masked).includes(provider)) {
    throw new AppError(
      'VALIDATION',
      `The query does not use ${provider}: Run across runs it once per profile of a provider it references.`,
    )
  }
  const known = new Map(
    (await app.db.getProviderProfiles()).map((p) => [
      p.provider,
      [DEFAULT_PROFILE, ...p.profiles.map((x) => x.profile).filter((x) => x !== DEFAULT_PROFILE)],
    ]),
  )
  return { provider, slices: expandSlices(specs, known) as Slice[] }
}

const across: FastifyPluginAsyncTypebox<AcrossOptions> = async (app, { cache, limits }) => {
  const ide = app.config.ide
  app.post('/run/across', { schema: { body: AcrossBody } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const refuse = (e: AppError) =>
      reply.render(
        'ide/_results',
        { results: { state: 'error', code: e.code, message: e.message } },
        { status: e.status },
      )
    let plan: Awaited<ReturnType<typeof slicesOf>>
    try {
      plan = await slicesOf(app, req.body.query_text, req.body.across)
    } catch (e) {
      if (!isAppError(e)) throw e
      return refuse(e)
    }
    let picks: Record<string, string>
    try {
      picks = pickedProfiles(req.body.profile)
    } catch (e) {
      if (!isAppError(e)) throw e
      return refuse(e)
    }
    const slot = limits.enter(req.user)
    if ('refused' in slot) {
      reply.header('retry-after', '5')
      const view = { state: 'error', code: 'TOO_MANY_RUNS', message: slot.refused }
      return reply.render('ide/_results', { results: view }, { status: 429 })
    }
    const controller = abortOnDisconnect(reply)
    const stream = new PassThrough()
    const send = (event: string, html: string) => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(sseFrame(event, html))
    }
    let latest: SliceStatus[] = []
    let chain = Promise.resolve()
    const progress = () => {
      chain = chain
        .then(async () =>
          send(
            'progress',
            await render(app, 'ide/_across-progress', { across: progressView(plan.provider, latest) }),
          ),
        )
        .catch(() => {})
    }
    const ticker = setInterval(progress, TICK_MS)
    const run = async () => {
      try {
        const result = await runAcross(app.queries, req.body.query_text, plan.slices, {
          concurrency: app.config.sliceConcurrency,
          signal: controller.signal,
          picks,
          execute: { maxOutputBytes: ide.maxOutputBytes, maxOutputSetting: 'IDE_MAX_OUTPUT_MB' },
          onProgress: (s) => {
            latest = s
            progress()
          },
        })
        clearInterval(ticker)
        await chain
        if (controller.signal.aborted) return
        const entry = cache.add(req.user, result)
        const tooLarge = entry
          ? undefined
          : 'This result is too large to keep for paging and downloads: only the first page is shown. Narrow the query (WHERE, LIMIT) to see all of it.'
        const view = { ...resultView(result, 1, entry, tooLarge), across: acrossView(plan.provider, result) }
        send('done', await render(app, 'ide/_results', { results: view }))
      } catch (e) {
        clearInterval(ticker)
        await chain
        const error = isAppError(e) ? e : undefined
        if (!error) req.log.error({ err: e }, 'run across failed')
        const view = error
          ? { state: 'error', code: error.code, message: error.message }
          : {
              state: 'error',
              code: 'INTERNAL',
              message: 'Run across failed unexpectedly: see the server log, then run it again.',
            }
        send('done', await render(app, 'ide/_results', { results: view }).catch(() => ''))
      } finally {
        clearInterval(ticker)
        slot.release()
        stream.end()
      }
    }
    latest = plan.slices.map((s) => ({
      label: `${s.provider}/${s.profile}`,
      profile: s.profile,
      state: 'queued',
    }))
    progress()
    void run()
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('x-accel-buffering', 'no')
      .send(stream)
  })
}

export default across
