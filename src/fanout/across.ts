// "Run across" in the IDE: one statement over several profiles of one provider, each a slice with
// only its profile's credentials and variables (executeSlices), reported while it runs (which slices
// are queued, running, done) and summarised at the end: the union of the succeeded slices' rows with
// `_profile`, and one status line per slice (profile, rows, time, error).
import type { Row } from '../models.js'
import { executeSlices, type SliceExecutor, type SliceResult, unionWithProfile } from './fanout-run.js'
import { type Slice, sliceLabel } from './slices.js'

export type SliceState = 'queued' | 'running' | 'SUCCESS' | 'FAILED'

export interface SliceStatus {
  label: string
  profile: string
  state: SliceState
  rows?: number
  elapsedMs?: number
  error?: string
  /** When it started running (performance.now()), for "running for 1.2 s". */
  startedAt?: number
}

export interface AcrossResult {
  columns: string[]
  rows: Row[]
  elapsedMs: number
  complete: boolean
  outputBytes: number
  slices: SliceStatus[]
}

type Execute = SliceExecutor['execute']
export type AcrossExecutor = {
  execute(...args: Parameters<Execute>): Promise<Awaited<ReturnType<Execute>> & { outputBytes?: number }>
}

/** A copy of the statuses, failed first, then by profile: the order the summary shows them in. */
export function summaryOrder(slices: SliceStatus[]): SliceStatus[] {
  const rank = (s: SliceStatus) =>
    s.state === 'FAILED' ? 0 : s.state === 'running' ? 1 : s.state === 'queued' ? 2 : 3
  return [...slices].sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label))
}

/**
 * Runs `text` across `slices` (at most `concurrency` at once). `onProgress` gets every status
 * change (a slice started or finished); it must not throw. Never rejects for a slice's failure.
 */
export async function runAcross(
  queries: AcrossExecutor,
  text: string,
  slices: Slice[],
  opts: {
    concurrency: number
    signal?: AbortSignal
    /** Passed to every slice's execute (the IDE's output bound). */
    execute?: Record<string, unknown>
    /** Profiles picked for the other providers the statement references (a JOIN): provider -> profile. */
    picks?: Record<string, string>
    onProgress?: (slices: SliceStatus[]) => void
  },
): Promise<AcrossResult> {
  const started = performance.now()
  const status: SliceStatus[] = slices.map((s) => ({
    label: sliceLabel(s),
    profile: s.profile,
    state: 'queued',
  }))
  const find = (profiles?: Record<string, string>) =>
    status.find((s) => slices.some((x) => x.profile === s.profile && profiles?.[x.provider] === x.profile))
  let outputBytes = 0
  const wrapped: SliceExecutor = {
    async execute(queryText, provider, o) {
      const s = find(o?.profiles)
      if (s) {
        s.state = 'running'
        s.startedAt = performance.now()
        opts.onProgress?.(status)
      }
      const finished = (state: SliceState, rows?: number) => {
        if (!s) return
        Object.assign(s, { state, elapsedMs: Math.round(performance.now() - s.startedAt!) })
        if (rows !== undefined) s.rows = rows
        opts.onProgress?.(status)
      }
      try {
        const profiles = { ...opts.picks, ...o?.profiles }
        const r = await queries.execute(queryText, provider, { ...opts.execute, ...o, profiles })
        outputBytes += r.outputBytes ?? 0
        finished(r.complete ? 'SUCCESS' : 'FAILED', r.complete ? r.rows.length : undefined)
        return r
      } catch (e) {
        finished('FAILED')
        throw e
      }
    },
  }
  const results: SliceResult[] = await executeSlices(wrapped, text, slices, {
    concurrency: opts.concurrency,
    signal: opts.signal,
  })
  results.forEach((r, i) => {
    const s = status[i]!
    s.state = r.status
    s.elapsedMs = r.elapsedMs
    if (r.status === 'SUCCESS') s.rows = r.rows.length
    else s.error = r.error?.replace(`${s.label}: `, '')
  })
  const union = unionWithProfile(results)
  return {
    ...union,
    elapsedMs: Math.round(performance.now() - started),
    complete: true,
    outputBytes,
    slices: status,
  }
}

const REF = /^([a-z][a-z0-9_]{0,62})\/([a-z0-9][a-z0-9_-]{0,39})$/

/**
 * The explicit `provider/profile` refs of a run-across form field (a string or several), in order
 * and without duplicates. Malformed entries and `provider/*` are left out here: the route refuses them.
 */
export function acrossRefs(field: unknown): Slice[] {
  const out: Slice[] = []
  for (const v of Array.isArray(field) ? field : [field]) {
    const m = typeof v === 'string' ? REF.exec(v.trim()) : null
    if (m && !out.some((s) => s.provider === m[1] && s.profile === m[2]))
      out.push({ provider: m[1]!, profile: m[2]! })
  }
  return out
}
