// Runs one statement across profile slices: each slice is its own QueryService.execute with only
// its profile's credentials and variables (profiles: { provider: profile }), at most
// `concurrency` at once. A slice's failure is its outcome, never the others'.
import { availableParallelism } from 'node:os'
import { isAppError } from '../errors.js'
import type { Row, RowSource } from '../models.js'
import { removeSpool, SpooledRows, spoolPath } from '../stackql/spool.js'
import { launchSpacer, runBounded, type Slice, sliceLabel } from './slices.js'

export interface SliceExecutor {
  execute(
    queryText: string,
    provider?: string,
    opts?: {
      signal?: AbortSignal
      timeoutMs?: number
      profiles?: Record<string, string>
      spoolFile?: string
    },
  ): Promise<{
    columns: string[]
    rows: Row[]
    spooled?: RowSource & { rowCount: number }
    message?: string
    complete: boolean
    incomplete?: string
  }>
}

export interface SliceResult {
  slice: Slice
  status: 'SUCCESS' | 'FAILED'
  columns: string[]
  rows: Row[]
  /** A spooled slice's rows (`rows` is then empty), read from its file on each pass. */
  spooled?: RowSource & { rowCount: number }
  elapsedMs: number
  /** What StackQL wrote to stderr with a successful result (the shrink guard reads it). */
  message?: string
  /** One line: why the slice failed (StackQL's own text for query errors). */
  error?: string
}

export const PROFILE_COLUMN = '_profile'

function line(message: string): string {
  const l = message.replace(/\s+/g, ' ').trim()
  return l.length > 1000 ? `${l.slice(0, 999)}…` : l
}

function why(e: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return isAppError(signal.reason) ? line(signal.reason.message) : 'cancelled'
  if (isAppError(e)) return line(e.message)
  return line(`Unexpected error: ${e instanceof Error ? e.message : String(e)}`)
}

/**
 * Slice processes start this far apart. A process spends its first ~100 ms of CPU starting up;
 * `concurrency` of them launched in the same instant share the cores for that time, and all reach
 * their provider calls late together (measured in `npm run bench -- fanout`, which prints both).
 * Spread over the cores, at most (concurrency - 1) x this much is added to the first wave.
 */
export const SLICE_LAUNCH_GAP_MS = Math.round(100 / Math.max(1, availableParallelism()))

/** Executes `text` once per slice. Never rejects: every failure is that slice's FAILED result. */
export async function executeSlices(
  queries: SliceExecutor,
  text: string,
  slices: Slice[],
  opts: {
    concurrency: number
    signal?: AbortSignal
    timeoutMs?: number
    spool?: boolean
    /** Defaults to SLICE_LAUNCH_GAP_MS (the benchmark compares with 0). */
    launchGapMs?: number
  },
): Promise<SliceResult[]> {
  const spaced = launchSpacer(opts.launchGapMs ?? SLICE_LAUNCH_GAP_MS)
  const run = async (slice: Slice): Promise<SliceResult> => {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    // Scheduled runs spool each slice's output to a file (removeSliceSpools after the write), so a
    // run's memory does not grow with slices x rows.
    const spoolFile = opts.spool ? spoolPath() : undefined
    const failed = async (error: string): Promise<SliceResult> => {
      if (spoolFile) await removeSpool(spoolFile)
      return {
        slice,
        status: 'FAILED',
        columns: [],
        rows: [],
        elapsedMs: elapsed(),
        error: `${sliceLabel(slice)}: ${error}`,
      }
    }
    if (opts.signal?.aborted) return failed(why(undefined, opts.signal))
    await spaced()
    if (opts.signal?.aborted) return failed(why(undefined, opts.signal))
    try {
      const r = await queries.execute(text, undefined, {
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        profiles: { [slice.provider]: slice.profile },
        ...(spoolFile ? { spoolFile } : {}),
      })
      if (!r.complete) return failed(line(r.incomplete ?? 'StackQL reported an error with the rows'))
      return {
        slice,
        status: 'SUCCESS',
        columns: r.columns,
        rows: r.rows,
        ...(r.spooled ? { spooled: r.spooled } : {}),
        elapsedMs: elapsed(),
        ...(r.message ? { message: r.message } : {}),
      }
    } catch (e) {
      return failed(why(e, opts.signal))
    }
  }
  return runBounded(slices, opts.concurrency, run)
}

/** Rows of a slice's result, in memory or spooled. */
export const sliceRowCount = (r: SliceResult): number => r.spooled?.rowCount ?? r.rows.length

/** Removes the spool files of `executeSlices(..., { spool: true })` (call when the write is done). */
export async function removeSliceSpools(results: SliceResult[]): Promise<void> {
  await Promise.all(
    results.map((r) => (r.spooled instanceof SpooledRows ? removeSpool(r.spooled.path) : null)),
  )
}

/**
 * The succeeded slices' rows as one source for the writer, each row tagged with its profile in
 * `_profile`: read slice after slice, a batch at a time (spooled slices from their files), on
 * every pass the writer makes.
 */
export function unionSource(results: SliceResult[]): { columns: string[]; rows: RowSource } {
  const ok = results.filter((r) => r.status === 'SUCCESS')
  return {
    columns: unionColumns(ok),
    rows: {
      async *batches() {
        for (const r of ok) {
          const tag = (rows: readonly Row[]) =>
            rows.map((row) => ({ ...row, [PROFILE_COLUMN]: r.slice.profile }))
          if (r.spooled) {
            for await (const batch of r.spooled.batches()) yield tag(batch)
          } else {
            for (let i = 0; i < r.rows.length; i += BATCH) yield tag(r.rows.slice(i, i + BATCH))
          }
        }
      },
    },
  }
}

const BATCH = 2000

function unionColumns(ok: SliceResult[]): string[] {
  const columns: string[] = []
  const seen = new Set<string>()
  for (const r of ok) {
    for (const c of r.columns) {
      if (c === PROFILE_COLUMN || seen.has(c)) continue
      seen.add(c)
      columns.push(c)
    }
  }
  columns.push(PROFILE_COLUMN)
  return columns
}

/** The succeeded slices' rows as one result, each row tagged with its profile in `_profile`. */
export function unionWithProfile(results: SliceResult[]): { columns: string[]; rows: Row[] } {
  const ok = results.filter((r) => r.status === 'SUCCESS')
  const columns = unionColumns(ok)
  const rows: Row[] = []
  for (const r of ok) for (const row of r.rows) rows.push({ ...row, [PROFILE_COLUMN]: r.slice.profile })
  return { columns, rows }
}
