// The for_each layout's two runner roles (ARCHITECTURE.md "Fan-out on Databricks"): each iteration
// (`--profile aws/a --job-run-id R`) runs ONE slice and replaces only that profile's rows; the finish
// task (`--finish --profiles … --job-run-id R`) reads what the iterations recorded, refreshes
// `<table>_mv` once and closes the run as SUCCESS / PARTIAL / FAILED. All of one job run's processes
// share one runs row, found by the job run id.

import { changeCountsOfRun } from '../db/changes.js'
import { assertIdentifierShape, assertTargetSchema } from '../db/identifiers.js'
import { executeSlices, removeSliceSpools, type SliceResult } from '../fanout/fanout-run.js'
import { expandSlices, parseSliceSpecs, sliceLabel } from '../fanout/slices.js'
import { findPlaceholders, maskPlaceholders } from '../profiles/variables.js'
import { assertReadOnlyQuery } from '../stackql/statements.js'
import {
  type InventoryRunArgs,
  type InventoryRunDeps,
  type InventoryRunOutcome,
  oneLine,
} from './inventory-run.js'
import { type Joined, retireProfiles, writeIteration } from './iteration-write.js'
import { guardedSlices, reason } from './run-support.js'

export interface IterationArgs extends InventoryRunArgs {
  /** `{{job.run_id}}`: the same value in every task of one job run. */
  jobRunId: string
}

/** What the finish task records for a listed slice whose iteration left no outcome. */
export const NO_REPORT =
  'the iteration did not report (it never ran, or it was stopped or killed); its previous rows are kept'

const JOB_RUN_ID = /^[A-Za-z0-9_-]{1,64}$/
const validId = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0

/**
 * Validates the arguments like runInventory does, joins the job run's runs row and expands the
 * slices. Returns a failure message (and the run id when one exists) instead of throwing.
 */
async function join(
  deps: InventoryRunDeps,
  args: IterationArgs,
  specs: string,
): Promise<Joined | { error: string; runId?: number }> {
  const { db } = deps
  if (!JOB_RUN_ID.test(args.jobRunId))
    return { error: `--job-run-id ${JSON.stringify(args.jobRunId)} is not a job run id.` }
  let runId: number | undefined
  try {
    const query = validId(args.queryId) ? await db.getQuery(args.queryId) : null
    const schedule =
      args.scheduleId !== undefined && validId(args.scheduleId) ? await db.getSchedule(args.scheduleId) : null
    const run = await db.joinJobRun(
      {
        schedule_id: schedule?.id ?? null,
        query_id: query?.id ?? null,
        target_schema: String(args.targetSchema).slice(0, 200),
        target_table: String(args.targetTable).slice(0, 200),
        trigger: args.trigger ?? 'databricks',
      },
      args.jobRunId,
    )
    runId = run.id
    const schema = assertTargetSchema(args.targetSchema)
    const table = assertIdentifierShape(args.targetTable, 'table')
    if (args.scheduleId !== undefined && !schedule)
      return { runId, error: `Schedule ${args.scheduleId} does not exist.` }
    if (schedule && (schedule.target_schema !== schema || schedule.target_table !== table)) {
      return {
        runId,
        error: `Schedule ${schedule.id} writes to ${schedule.target_schema}.${schedule.target_table}, not ${schema}.${table}; update the job's parameters (save the schedule again).`,
      }
    }
    if (!query) return { runId, error: `Query ${args.queryId} does not exist.` }
    if (schedule && schedule.query_id !== query.id)
      return {
        runId,
        error: `Schedule ${schedule.id} runs query ${schedule.query_id}, not query ${query.id}.`,
      }
    assertReadOnlyQuery(maskPlaceholders(query.query_text, findPlaceholders(query.query_text)))
    const known = new Map(
      (await db.getProviderProfiles()).map((p) => [p.provider, p.profiles.map((x) => x.profile)]),
    )
    const slices = expandSlices(parseSliceSpecs(specs), known)
    if (slices.length === 0) return { runId, error: 'The run names no profile slices.' }
    return { runId, query, schedule, schema, table, slices }
  } catch (e) {
    return { runId, error: reason(e) }
  }
}

/**
 * One for_each iteration: runs the slice `args.profiles` names (exactly one profile), replaces that
 * profile's rows in one transaction (`<table>_mv` is left to the finish task) and records the
 * slice's outcome under the job run. Never throws; FAILED when the slice (or its write) failed.
 */
export async function runIteration(
  deps: InventoryRunDeps,
  args: IterationArgs & { profile: string },
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  const joined = await join(deps, args, args.profile)
  if ('error' in joined) {
    log.error({ runId: joined.runId, jobRunId: args.jobRunId }, joined.error)
    return { status: 'FAILED', runId: joined.runId, error: joined.error }
  }
  const { runId, slices } = joined
  if (slices.length !== 1) {
    const error = `--profile names one profile slice, not ${slices.map(sliceLabel).join(', ')}.`
    return { status: 'FAILED', runId, error }
  }
  const executed = await executeSlices(deps.queries, joined.query.query_text, slices, {
    concurrency: 1,
    signal,
    spool: true,
  })
  try {
    let result: SliceResult
    try {
      result = (await guardedSlices(db, joined, executed))[0]!
    } catch (e) {
      // The guard could not read the table's rows (database trouble): the slice fails, nothing is written.
      const label = sliceLabel(executed[0]!.slice)
      result = { ...executed[0]!, status: 'FAILED', rows: [], error: `${label}: ${reason(e, signal)}` }
    }
    return await writeIteration(deps, joined, result, signal)
  } finally {
    await removeSliceSpools(executed)
  }
}

/**
 * The task after the for_each task (run_if ALL_DONE): every listed slice without a recorded outcome
 * is FAILED (its iteration never ran or died); `<table>_mv` is refreshed when at least one slice
 * succeeded; the run is closed SUCCESS / PARTIAL / FAILED. Never throws.
 */
export async function finishIterations(
  deps: InventoryRunDeps,
  args: IterationArgs & { profiles: string },
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  const joined = await join(deps, args, args.profiles)
  const close = async (
    runId: number | undefined,
    outcome: InventoryRunOutcome,
    changes?: { added: number; removed: number; modified: number },
  ) => {
    if (runId !== undefined) {
      try {
        await db.finishRun(runId, {
          status: outcome.status === 'SUCCESS' ? 'SUCCESS' : outcome.status,
          ...(outcome.rowCount !== undefined ? { row_count: outcome.rowCount } : {}),
          ...(outcome.error ? { error: outcome.error } : {}),
          // Counted from the iterations' change records; a table an iteration created is not a
          // baseline of the whole run (the other profiles' rows were recorded as added).
          ...(changes ? { changes: { ...changes, baseline: false } } : {}),
        })
      } catch (e) {
        log.error({ runId }, `recording the run's outcome failed: ${reason(e)}`)
        return { ...outcome, status: 'FAILED' as const, error: `Could not record the run: ${reason(e)}` }
      }
    }
    return outcome
  }
  if ('error' in joined)
    return close(joined.runId, { status: 'FAILED', runId: joined.runId, error: joined.error })
  const { runId, schema, table, slices } = joined
  try {
    const recorded = (await db.getRunSlices([runId])).get(runId) ?? []
    const missing = slices.filter(
      (s) => !recorded.some((r) => r.provider === s.provider && r.profile === s.profile),
    )
    if (missing.length) {
      await db.recordRunSlices(
        runId,
        missing.map((s) => ({
          provider: s.provider,
          profile: s.profile,
          status: 'FAILED' as const,
          rows: null,
          elapsed_ms: 0,
          error: `${sliceLabel(s)}: ${NO_REPORT}`,
        })),
      )
    }
    const all = (await db.getRunSlices([runId])).get(runId) ?? []
    const listed = all.filter((r) => slices.some((s) => s.provider === r.provider && s.profile === r.profile))
    const ok = listed.filter((r) => r.status === 'SUCCESS')
    const failed = listed.filter((r) => r.status === 'FAILED')
    const failures = oneLine(failed.map((r) => r.error ?? `${r.provider}/${r.profile} failed`).join(' · '))
    if (ok.length === 0) {
      const error = oneLine(`All ${listed.length} profile slices failed; the table is unchanged. ${failures}`)
      log.error({ runId }, error)
      return close(runId, { status: 'FAILED', runId, error })
    }
    // Every listed slice succeeded: the snapshot is complete, so rows of profiles the schedule no
    // longer lists go (recorded as removed), as a single-task fan-out without failures does.
    let gone: string[] = []
    try {
      if (!failed.length) gone = await retireProfiles(deps, joined)
    } catch (e) {
      // The listed profiles' rows are written; the retired ones stay until a later run removes them.
      log.warn({ runId }, `removing the rows of profiles no longer listed failed: ${reason(e)}`)
    }
    const view = await db.refreshViewOfTable(schema, table)
    const rowCount = ok.reduce((n, r) => n + (r.rows ?? 0), 0)
    const error = failed.length
      ? oneLine(
          `${failed.length} of ${listed.length} profile slices failed (${failed.map((r) => `${r.provider}/${r.profile}`).join(', ')}); their previous rows are kept. ${failures}`,
        )
      : undefined
    log[failed.length ? 'warn' : 'info'](
      {
        runId,
        rows: rowCount,
        slices: listed.length,
        failed: failed.length,
        refreshedView: view,
        retired: gone,
      },
      `run ${failed.length ? 'partially succeeded' : 'succeeded'}`,
    )
    return close(
      runId,
      {
        status: failed.length ? 'PARTIAL' : 'SUCCESS',
        runId,
        rowCount,
        ...(error ? { error } : {}),
      },
      await changeCountsOfRun(deps.sql, runId),
    )
  } catch (e) {
    return close(runId, { status: 'FAILED', runId, error: reason(e) })
  }
}
