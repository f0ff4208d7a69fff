// The rows the Schedules pages render: each schedule with its recent runs, slices and live run
// state, read from `app.db` (and the Databricks run status through `app.schedules`). Reading also
// settles runs that lost their runner.
import type { FastifyInstance } from 'fastify'
import { AppError, isAppError } from '../../src/errors.js'
import { HISTORY_RUNS, type LiveRun, type RowContext, type ScheduleRow, scheduleRow } from './rows.js'

/** The row readers of one Schedules plugin instance (its abandoned-run sweep is rate-limited per instance). */
export function scheduleRowData(app: FastifyInstance) {
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

  return { rowContext, loadRows, loadRow, latestRunId, tableData, addJobRunState }
}
