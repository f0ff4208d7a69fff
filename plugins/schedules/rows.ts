// What one schedule row shows: readable cron, last run status and reason, run history picture,
// job link, and whether the row keeps refreshing itself (a run started or still running).
import { changeCountsText } from '../../src/changes/summary.js'
import type { Run, RunSlice, ScheduleView } from '../../src/models.js'
import { type BarPoint, barChart } from '../../src/render/sparkline.js'
import type { ScheduleDescription } from '../../src/services/schedule-descriptions.js'

/** Runs drawn in the history picture. */
export const HISTORY_RUNS = 20

export type RowStatus = 'SUCCESS' | 'FAILED' | 'RUNNING' | 'PARTIAL' | 'NONE'

export interface RowContext {
  describe(cron: string): ScheduleDescription
  timezone: string
  /** Workspace base URL when one is configured (job links). */
  workspaceHost?: string
  now: Date
}

/** A run started from this page that has not reported back yet (polling state). */
export interface LiveRun {
  /** The newest run id before "Run now": a newer run row means the run reported. */
  after: number
  /** Epoch ms after which the row stops waiting for the run to report. */
  until: number
  /** Message to show once (the response to "Run now"). */
  notice?: string
  /** The Databricks run, when known. */
  runPageUrl?: string
  /** Databricks says the run ended without the runner reporting (e.g. the cluster failed). */
  failedMessage?: string
}

export interface ScheduleRow {
  id: number
  /** "+added −removed ~modified" (or "baseline") of the latest successful run. */
  lastChanges: string | null
  keyColumns: string | null
  /** The last successful run when it recorded changes ("What changed" asks the assistant about it). */
  whatChangedRunId: number | null
  queryName: string
  provider: string
  cron: string
  cronText: string | null
  cronError: string | null
  nextRun: TimeView | null
  target: string
  /** The shrink guard percentage, or null when it is off. */
  shrinkGuardPct: number | null
  isActive: boolean
  lastRun: TimeView | null
  status: RowStatus
  statusLabel: string
  error: string | null
  historySvg: string
  runCount: number
  jobId: string | null
  jobUrl: string | null
  /** Shown instead of a job link. */
  jobNote: string | null
  polling: boolean
  pollUrl: string | null
  notice: string | null
  waitingNote: string | null
  runPageUrl: string | null
  /** Who created the schedule (editors change only their own). */
  owner: string
  /** The latest run's profile slices (fan-out runs), failed first. */
  slices: {
    label: string
    status: 'SUCCESS' | 'FAILED'
    rows: number | null
    elapsed: string
    error: string | null
  }[]
}

export interface TimeView {
  iso: string
  text: string
  relative: string
}

// One formatter per timezone: building an Intl.DateTimeFormat costs far more than using one
// (a Schedules page formats every schedule's last and next run and its history's labels).
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    })
    // Timezones come from the configuration: a handful at most.
    if (formatters.size < 64) formatters.set(timezone, f)
  }
  return f
}

// Times are shown to the minute, and a page shows the same runs on every read and row poll: each
// minute's text is kept (formatToParts costs ~6 us, and 100 schedules' history is 2,000 labels).
const formatted = new Map<string, string>()

export function formatTime(date: Date, timezone: string): string {
  const key = `${timezone} ${Math.floor(date.getTime() / 60_000)}`
  let text = formatted.get(key)
  if (text === undefined) {
    const parts = Object.fromEntries(
      formatterFor(timezone)
        .formatToParts(date)
        .map((p) => [p.type, p.value]),
    )
    text = `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`
    if (formatted.size >= 20_000) formatted.clear()
    formatted.set(key, text)
  }
  return text
}

export function relativeTime(date: Date, now: Date): string {
  const diff = date.getTime() - now.getTime()
  const abs = Math.abs(diff)
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ]
  for (const [ms, unit] of units) {
    if (abs >= ms) {
      const n = Math.round(abs / ms)
      const text = `${n} ${unit}${n === 1 ? '' : 's'}`
      return diff < 0 ? `${text} ago` : `in ${text}`
    }
  }
  return diff < 0 ? 'just now' : 'in under a minute'
}

export function timeView(date: Date | null | undefined, ctx: RowContext): TimeView | null {
  if (!date) return null
  const d = date instanceof Date ? date : new Date(date)
  if (Number.isNaN(d.getTime())) return null
  return { iso: d.toISOString(), text: formatTime(d, ctx.timezone), relative: relativeTime(d, ctx.now) }
}

function runLabel(run: Run, ctx: RowContext): string {
  const when = formatTime(run.started_at, ctx.timezone)
  const rows = run.row_count === null ? '' : ` · ${run.row_count} rows`
  const why =
    (run.status === 'FAILED' || run.status === 'PARTIAL') && run.error ? ` · ${run.error.slice(0, 200)}` : ''
  const changes = changeCountsText(run)
  return `${when} · ${run.status}${rows}${changes ? ` · ${changes}` : ''}${why}`
}

/** A run that wrote its rows: all of them, or (Partial) those of the profiles that succeeded. */
const wroteRows = (r: Run) => r.status === 'SUCCESS' || r.status === 'PARTIAL'

function whatChangedRun(runs: Run[]): number | null {
  const ok = runs.find(wroteRows)
  if (!ok || ok.changes_baseline) return null
  const n = (ok.added_count ?? 0) + (ok.removed_count ?? 0) + (ok.modified_count ?? 0)
  return n > 0 ? ok.id : null
}

/** The run history picture: oldest left, newest right; height = rows written, colour = outcome. */
export function historyChart(runs: Run[], queryName: string, ctx: RowContext): string {
  const points: BarPoint[] = [...runs]
    .reverse()
    .map((r) => ({ value: r.row_count, status: r.status, label: runLabel(r, ctx) }))
  const ok = runs.filter((r) => r.status === 'SUCCESS').length
  const failed = runs.filter((r) => r.status === 'FAILED').length
  const title = runs.length
    ? `Last ${runs.length} runs of ${queryName}: ${ok} succeeded, ${failed} failed`
    : `${queryName} has not run yet`
  return barChart(points, { title, slots: HISTORY_RUNS, height: 24, barWidth: 6, gap: 2 })
}

const STATUS_LABELS: Record<RowStatus, string> = {
  SUCCESS: 'Succeeded',
  FAILED: 'Failed',
  PARTIAL: 'Partial',
  RUNNING: 'Running',
  NONE: 'No runs yet',
}

export function scheduleRow(
  s: ScheduleView,
  runs: Run[],
  ctx: RowContext,
  live?: LiveRun,
  slices: RunSlice[] = [],
): ScheduleRow {
  let cronText: string | null = null
  let cronError: string | null = null
  let nextRun: TimeView | null = null
  try {
    const d = ctx.describe(s.cron_expression)
    cronText = d.description
    nextRun = s.is_active ? timeView(d.nextRuns[0], ctx) : null
  } catch (e) {
    cronError = e instanceof Error ? e.message : String(e)
  }

  const latest = runs[0]
  // A run started here counts as reported once a newer run row exists.
  const waiting = live !== undefined && !(latest && latest.id > live.after)
  const waitingExpired = waiting && ctx.now.getTime() > live!.until
  let status: RowStatus = s.last_run_status ?? 'NONE'
  let error = status === 'FAILED' || status === 'PARTIAL' ? (s.last_error ?? latest?.error ?? null) : null
  let waitingNote: string | null = null
  if (waiting && live?.failedMessage) {
    status = 'FAILED'
    error = live.failedMessage
  } else if (waiting && !waitingExpired) {
    status = 'RUNNING'
    waitingNote = 'Run started: waiting for the runner to report.'
  } else if (waitingExpired) {
    waitingNote = 'The run has not reported back yet; refresh the page later to see its outcome.'
  }
  // A job that could not be changed leaves its reason on the row even without a failed run.
  if (status !== 'FAILED' && s.last_error && !latest) error = s.last_error

  const polling = status === 'RUNNING' && !waitingExpired
  const pollUrl = polling
    ? live // keep following the run we started, so its Databricks run link stays on the row
      ? `/schedules/${s.id}?after=${live.after}&until=${live.until}`
      : `/schedules/${s.id}`
    : null

  const lastRunAt = latest?.finished_at ?? latest?.started_at ?? s.last_run_at
  return {
    id: s.id,
    queryName: s.query_name,
    provider: s.provider,
    cron: s.cron_expression,
    cronText,
    cronError,
    nextRun,
    target: `${s.target_schema}.${s.target_table}`,
    shrinkGuardPct: s.shrink_guard_pct ?? null,
    isActive: s.is_active,
    lastRun: timeView(lastRunAt, ctx),
    status,
    statusLabel: STATUS_LABELS[status],
    error,
    historySvg: historyChart(runs, s.query_name, ctx),
    runCount: runs.length,
    lastChanges: (() => {
      const ok = runs.find(wroteRows)
      return ok ? changeCountsText(ok) : null
    })(),
    whatChangedRunId: whatChangedRun(runs),
    keyColumns: s.key_columns?.join(', ') ?? null,
    jobId: s.job_id,
    jobUrl: s.job_id && ctx.workspaceHost ? `${ctx.workspaceHost}/jobs/${s.job_id}` : null,
    jobNote: s.job_id
      ? ctx.workspaceHost
        ? null
        : 'workspace not configured'
      : ctx.workspaceHost
        ? 'no job (saved without a workspace)'
        : 'local — no Databricks job',
    polling,
    pollUrl,
    notice: live?.notice ?? null,
    waitingNote,
    runPageUrl: live?.runPageUrl ?? null,
    owner: s.created_by ?? '',
    slices: slices.map((x) => ({
      label: `${x.provider}/${x.profile}`,
      status: x.status,
      rows: x.rows,
      elapsed: `${(x.elapsed_ms / 1000).toFixed(1)} s`,
      error: x.error,
    })),
  }
}
