// Runs one statement across profile slices: each slice is its own QueryService.execute with only
// its profile's credentials and variables (profiles: { provider: profile }), at most
// `concurrency` at once. A slice's failure is its outcome, never the others'.
import { isAppError } from '../errors.js'
import type { Row } from '../models.js'
import { runBounded, type Slice, sliceLabel } from './slices.js'

export interface SliceExecutor {
  execute(
    queryText: string,
    provider?: string,
    opts?: { signal?: AbortSignal; timeoutMs?: number; profiles?: Record<string, string> },
  ): Promise<{ columns: string[]; rows: Row[]; message?: string; complete: boolean; incomplete?: string }>
}

export interface SliceResult {
  slice: Slice
  status: 'SUCCESS' | 'FAILED'
  columns: string[]
  rows: Row[]
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

/** Executes `text` once per slice. Never rejects: every failure is that slice's FAILED result. */
export async function executeSlices(
  queries: SliceExecutor,
  text: string,
  slices: Slice[],
  opts: { concurrency: number; signal?: AbortSignal; timeoutMs?: number },
): Promise<SliceResult[]> {
  return runBounded(slices, opts.concurrency, async (slice): Promise<SliceResult> => {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const failed = (error: string): SliceResult => ({
      slice,
      status: 'FAILED',
      columns: [],
      rows: [],
      elapsedMs: elapsed(),
      error: `${sliceLabel(slice)}: ${error}`,
    })
    if (opts.signal?.aborted) return failed(why(undefined, opts.signal))
    try {
      const r = await queries.execute(text, undefined, {
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        profiles: { [slice.provider]: slice.profile },
      })
      if (!r.complete) return failed(line(r.incomplete ?? 'StackQL reported an error with the rows'))
      return {
        slice,
        status: 'SUCCESS',
        columns: r.columns,
        rows: r.rows,
        elapsedMs: elapsed(),
        ...(r.message ? { message: r.message } : {}),
      }
    } catch (e) {
      return failed(why(e, opts.signal))
    }
  })
}

/** The succeeded slices' rows as one result, each row tagged with its profile in `_profile`. */
export function unionWithProfile(results: SliceResult[]): { columns: string[]; rows: Row[] } {
  const columns: string[] = []
  const seen = new Set<string>()
  const ok = results.filter((r) => r.status === 'SUCCESS')
  for (const r of ok) {
    for (const c of r.columns) {
      if (c === PROFILE_COLUMN || seen.has(c)) continue
      seen.add(c)
      columns.push(c)
    }
  }
  columns.push(PROFILE_COLUMN)
  const rows: Row[] = []
  for (const r of ok) for (const row of r.rows) rows.push({ ...row, [PROFILE_COLUMN]: r.slice.profile })
  return { columns, rows }
}
