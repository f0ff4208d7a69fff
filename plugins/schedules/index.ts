// The Schedules area: the list of schedules with their last run and run history, the New Schedule
// dialog with a live cron preview, and per-row pause/resume, run now, edit cron and delete.
// Everything goes through `app.schedules` (row + Databricks job together) and `app.db` reads.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { visibleProfiles } from '../../src/access/profile-gate.js'
import { AppError, isAppError } from '../../src/errors.js'
import { parseSliceSpecs } from '../../src/fanout/slices.js'
import { IdParams, ScheduleInput } from '../../src/models.js'
import { parseKeyColumns, parseShrinkGuard } from '../../src/services/schedule-inputs.js'
import { schedulePrefill } from '../../src/starter/add.js'
import { loadStarterLibrary } from '../../src/starter/library.js'
import { registerKeySuggestions } from './key-suggestions.js'
import {
  formatTime,
  HISTORY_RUNS,
  type LiveRun,
  type RowContext,
  relativeTime,
  type ScheduleRow,
  scheduleRow,
} from './rows.js'

const RowQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  until: Type.Optional(Type.Integer({ minimum: 0 })),
})
const StarterQuery = Type.Object({ starter: Type.Optional(Type.String({ maxLength: 200 })) })
const PreviewQuery = Type.Object({
  cron_expression: Type.String({ maxLength: 200, default: '' }),
  for: Type.Union([Type.Literal('new'), Type.Literal('edit')], { default: 'new' }),
})
/** The shrink guard as a form field: empty = off, else 1–100 (parsed by parseShrinkGuard for a clear message). */
const ShrinkGuardField = Type.Optional(Type.String({ maxLength: 20 }))
/** Fan-out profiles from the form's multi-select: one value is a string, several an array. */
const ProfilesField = Type.Optional(
  Type.Union([
    Type.String({ maxLength: 200 }),
    Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }),
  ]),
)
/** Key columns as a form field: comma-separated result columns (parsed by parseKeyColumns). */
const KeyColumnsField = Type.Optional(Type.String({ maxLength: 2200 }))
const NewScheduleBody = Type.Object({
  ...ScheduleInput.properties,
  shrink_guard_pct: ShrinkGuardField,
  profiles: ProfilesField,
  key_columns: KeyColumnsField,
})
const CronBody = Type.Object({
  cron_expression: ScheduleInput.properties.cron_expression,
  shrink_guard_pct: ShrinkGuardField,
  key_columns: KeyColumnsField,
  profiles: ProfilesField,
  /** Present when the Edit dialog showed the profiles field: no `profiles` then means "none". */
  profiles_field: Type.Optional(Type.String({ maxLength: 1 })),
})

/** How long a row waits for a started run to report: a job cluster needs minutes to start. */
const WAIT_LOCAL_MS = 2 * 60_000
const WAIT_DATABRICKS_MS = 20 * 60_000
const DEFAULT_SCHEMA = 'stackql_inventory'

const schedules: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const workspaceHost = app.config.databricks?.host

  const rowContext = (): RowContext => ({
    describe: (cron) => app.schedules.describe(cron),
    timezone: app.config.jobTimezone,
    workspaceHost: app.schedules.hasWorkspace ? workspaceHost : undefined,
    now: new Date(),
  })

  // A run RUNNING for longer than a query may run plus a writing margin has lost its runner. Reading
  // the page settles such runs as FAILED — at most once a minute, so the 2 s row polls stay reads.
  const abandonedAfterMs = app.config.stackql.queryTimeoutMs + 15 * 60_000
  let lastSweep = 0
  async function settleAbandonedRuns(): Promise<void> {
    if (Date.now() - lastSweep < 60_000) return
    lastSweep = Date.now()
    await app.db.failAbandonedRuns(abandonedAfterMs)
  }

  async function loadRows(): Promise<ScheduleRow[]> {
    await settleAbandonedRuns()
    const [list, runs] = await Promise.all([
      app.db.getSchedules(),
      app.db.getRecentRunsBySchedule(HISTORY_RUNS),
    ])
    const ctx = rowContext()
    const slices = await app.db.getRunSlices([...runs.values()].flatMap((r) => (r[0] ? [r[0].id] : [])))
    return list.map((s) => {
      const mine = runs.get(s.id) ?? []
      return scheduleRow(s, mine, ctx, undefined, mine[0] ? slices.get(mine[0].id) : undefined)
    })
  }

  async function loadRow(id: number, live?: LiveRun): Promise<ScheduleRow> {
    await settleAbandonedRuns()
    const [schedule, runs] = await Promise.all([
      app.db.getScheduleView(id),
      app.db.getRecentRunsBySchedule(HISTORY_RUNS, id),
    ])
    if (!schedule) throw new AppError('NOT_FOUND', `Schedule ${id} does not exist.`)
    const mine = runs.get(id) ?? []
    const slices = mine[0] ? (await app.db.getRunSlices([mine[0].id])).get(mine[0].id) : undefined
    return scheduleRow(schedule, mine, rowContext(), live, slices)
  }

  async function latestRunId(id: number): Promise<number> {
    return (await app.db.getRecentRunsBySchedule(1, id)).get(id)?.[0]?.id ?? 0
  }

  const tableData = async (extra: Record<string, unknown> = {}) => ({
    rows: await loadRows(),
    hasWorkspace: app.schedules.hasWorkspace,
    ...extra,
  })

  // starter: /schedules?starter=<id> opens the New Schedule dialog pre-filled from a starter query.
  const starters = loadStarterLibrary()
  app.get('/', { schema: { querystring: StarterQuery } }, async (req, reply) => {
    const starter =
      req.query.starter === undefined ? undefined : starters.find((s) => s.id === req.query.starter)
    if (req.query.starter !== undefined && !starter) {
      throw new AppError('VALIDATION', `There is no starter query "${req.query.starter}".`)
    }
    let data: Record<string, unknown>
    let status = 200
    try {
      const [table, queries, profiles] = await Promise.all([
        tableData(),
        app.db.getQueries(),
        app.db.getProviderProfiles(),
      ])
      data = {
        ...table,
        queries,
        // Profile permissions (src/access): only profiles this user may use; `every` allows provider/*.
        profileChoices: visibleProfiles(req.access.profiles, profiles),
        loadError: null,
        prefill: starter && schedulePrefill(starter, queries),
      }
    } catch (e) {
      if (!isAppError(e) || e.code !== 'DB_UNAVAILABLE') throw e
      data = { rows: [], queries: [], hasWorkspace: app.schedules.hasWorkspace, loadError: e.message }
      status = 503
    }
    return reply.render(
      'schedules/index',
      { ...data, defaultSchema: DEFAULT_SCHEMA, timezone: app.config.jobTimezone },
      { title: 'Schedules', status },
    )
  })

  app.get('/table', async (_req, reply) => reply.render('schedules/_table', await tableData()))
  registerKeySuggestions(fastify)

  app.get('/preview', { schema: { querystring: PreviewQuery } }, async (req, reply) => {
    const cron = req.query.cron_expression.trim()
    const view: Record<string, unknown> = { slot: req.query.for, cron, timezone: app.config.jobTimezone }
    if (cron) {
      try {
        const d = app.schedules.describe(cron)
        const ctx = rowContext()
        view.preview = {
          quartz: d.quartz,
          description: d.description,
          nextRuns: d.nextRuns.map((date) => ({
            iso: date.toISOString(),
            text: `${formatTime(date, ctx.timezone)} (${relativeTime(date, ctx.now)})`,
          })),
        }
      } catch (e) {
        if (!isAppError(e)) throw e
        view.error = e.message
      }
    }
    return reply.render('schedules/_cron-preview', view)
  })

  app.post('/', { schema: { body: NewScheduleBody } }, async (req, reply) => {
    const created = await app.schedules.create(
      {
        ...req.body,
        target_schema: req.body.target_schema || DEFAULT_SCHEMA,
        shrink_guard_pct: parseShrinkGuard(req.body.shrink_guard_pct),
        profiles: formProfiles(req.body.profiles),
        key_columns: parseKeyColumns(req.body.key_columns),
      },
      req.user,
    )
    req.log.info({ scheduleId: created.id, jobId: created.job_id, user: req.user }, 'schedule created')
    return reply.render('schedules/_table', await tableData({ highlightId: created.id }))
  })

  app.get('/:id', { schema: { params: IdParams, querystring: RowQuery } }, async (req, reply) => {
    const { id } = req.params
    const { after, until } = req.query
    let live: LiveRun | undefined
    if (after !== undefined && until !== undefined) {
      live = { after, until }
      await addJobRunState(id, live)
    }
    return reply.render('schedules/_row', { row: await loadRow(id, live) })
  })

  /** With a workspace: the Databricks run's page, and its failure when it ended without reporting. */
  async function addJobRunState(id: number, live: LiveRun): Promise<void> {
    if (!app.schedules.hasWorkspace) return
    try {
      const run = await app.schedules.lastRun(id)
      if (!run) return
      live.runPageUrl = run.runPageUrl
      if (run.result && run.result !== 'SUCCESS' && (await latestRunId(id)) <= live.after) {
        live.failedMessage = `Databricks run ${run.runId} ended ${run.result}${run.message ? `: ${run.message}` : '.'}`
      }
    } catch (e) {
      // The row still renders from the database; the next poll tries again.
      app.log.warn({ scheduleId: id, code: isAppError(e) ? e.code : undefined }, 'job run status unavailable')
    }
  }

  for (const [action, active] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    app.post(`/:id/${action}`, { schema: { params: IdParams } }, async (req, reply) => {
      await app.schedules.setActive(req.params.id, active)
      return reply.render('schedules/_row', { row: await loadRow(req.params.id) })
    })
  }

  app.post('/:id/run', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params
    const schedule = await app.db.getSchedule(id)
    if (!schedule) throw new AppError('NOT_FOUND', `Schedule ${id} does not exist.`)
    const after = await latestRunId(id)
    const started = await app.schedules.runNow(id)
    req.log.info({ scheduleId: id, runId: started.runId, user: req.user }, 'schedule run started')
    const wait = schedule.job_id && app.schedules.hasWorkspace ? WAIT_DATABRICKS_MS : WAIT_LOCAL_MS
    const live: LiveRun = { after, until: Date.now() + wait, notice: started.message }
    if (started.runId) await addJobRunState(id, live)
    return reply.render('schedules/_row', { row: await loadRow(id, live) })
  })

  app.get('/:id/edit', { schema: { params: IdParams } }, async (req, reply) => {
    const [schedule, saved, profiles] = await Promise.all([
      loadRow(req.params.id),
      app.db.getSchedule(req.params.id),
      app.db.getProviderProfiles(),
    ])
    return reply.render('schedules/_edit', {
      row: schedule,
      timezone: app.config.jobTimezone,
      profileChoices: profiles.map((p) => ({
        provider: p.provider,
        profiles: p.profiles.map((x) => x.profile),
      })),
      chosenProfiles: saved?.profiles ?? [],
    })
  })

  app.post('/:id/cron', { schema: { params: IdParams, body: CronBody } }, async (req, reply) => {
    // Parsed first: a bad percentage changes nothing (neither the cron nor the job).
    const guard =
      req.body.shrink_guard_pct === undefined ? undefined : parseShrinkGuard(req.body.shrink_guard_pct)
    const keys = req.body.key_columns === undefined ? undefined : parseKeyColumns(req.body.key_columns)
    const profiles = req.body.profiles_field ? (formProfiles(req.body.profiles) ?? null) : undefined
    if (profiles !== undefined) await app.schedules.checkProfiles(req.params.id, profiles)
    await app.schedules.updateCron(req.params.id, req.body.cron_expression)
    if (guard !== undefined) await app.schedules.setShrinkGuard(req.params.id, guard)
    if (keys !== undefined) await app.schedules.setKeyColumns(req.params.id, keys ?? [])
    if (profiles !== undefined) await app.schedules.setProfiles(req.params.id, profiles)
    return reply.render('schedules/_row', { row: await loadRow(req.params.id) })
  })

  app.get('/:id/delete', { schema: { params: IdParams } }, async (req, reply) =>
    reply.render('schedules/_delete', { row: await loadRow(req.params.id) }),
  )

  const remove = async (id: number, user: string) => {
    await app.schedules.delete(id)
    app.log.info({ scheduleId: id, user }, 'schedule deleted')
    return tableData()
  }
  app.post('/:id/delete', { schema: { params: IdParams } }, async (req, reply) =>
    reply.render('schedules/_table', await remove(req.params.id, req.user)),
  )
  app.delete('/:id', { schema: { params: IdParams } }, async (req, reply) =>
    reply.render('schedules/_table', await remove(req.params.id, req.user)),
  )
}

export default schedules

/** The form's profiles as slice specs (checked by the schedule service); none = the default profile. */
function formProfiles(v: string | string[] | undefined): string[] | undefined {
  const list = (Array.isArray(v) ? v : v ? [v] : []).flatMap((x) => x.split(',')).map((x) => x.trim())
  const specs = parseSliceSpecs(list.filter(Boolean)).map((x) => `${x.provider}/${x.profile}`)
  return specs.length ? specs : undefined
}
