// The Schedules area: the list of schedules with their last run and run history, the New Schedule
// dialog with a live cron preview, and per-row pause/resume, run now, edit cron and delete.
// Everything goes through `app.schedules` (row + Databricks job together) and `app.db` reads.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync } from 'fastify'
import { visibleProfiles } from '../../src/access/profile-gate.js'
import { AppError, isAppError } from '../../src/errors.js'
import { IdParams } from '../../src/models.js'
import { parseKeyColumns, parseShrinkGuard } from '../../src/services/schedule-inputs.js'
import { schedulePrefill } from '../../src/starter/add.js'
import { loadStarterLibrary } from '../../src/starter/library.js'
import { CronBody, formProfiles, NewScheduleBody, PreviewQuery, RowQuery, StarterQuery } from './forms.js'
import { registerKeySuggestions } from './key-suggestions.js'
import { scheduleRowData } from './row-data.js'
import { formatTime, type LiveRun, relativeTime } from './rows.js'

/** How long a row waits for a started run to report: a job cluster needs minutes to start. */
const WAIT_LOCAL_MS = 2 * 60_000
const WAIT_DATABRICKS_MS = 20 * 60_000
const DEFAULT_SCHEMA = 'stackql_inventory'

const schedules: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { rowContext, loadRow, latestRunId, tableData, addJobRunState } = scheduleRowData(fastify)

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
