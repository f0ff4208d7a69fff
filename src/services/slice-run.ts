// The fan-out branch of an inventory run (src/services/inventory-run.ts): every profile slice runs,
// the succeeded slices' rows replace only their profiles' rows, the failed slices' rows stay.
import { writeInventory } from '../db/inventory-writer.js'
import {
  executeSlices,
  PROFILE_COLUMN,
  removeSliceSpools,
  type SliceResult,
  sliceRowCount,
  unionSource,
} from '../fanout/fanout-run.js'
import { type Slice, sliceLabel } from '../fanout/slices.js'
import type { Query, Schedule } from '../models.js'
import {
  describe,
  guardedSlices,
  type InventoryRunDeps,
  type InventoryRunOutcome,
  keyColumnsFor,
  oneLine,
  prune,
} from './run-support.js'

/**
 * The fan-out branch of runInventory: every slice executes; the succeeded slices' rows (tagged
 * `_profile`) replace only those profiles' rows, in one transaction (the writer's `scope`); the
 * failed slices' rows stay as they were. All failed = FAILED, table untouched.
 */
export async function runSlices(
  deps: InventoryRunDeps,
  run: {
    runId: number
    schema: string
    table: string
    text: string
    slices: Slice[]
    schedule: Schedule | null
    query?: Query
  },
  fail: (why: string) => Promise<InventoryRunOutcome>,
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db } = deps
  const executed = await executeSlices(deps.queries, run.text, run.slices, {
    concurrency: deps.sliceConcurrency ?? 4,
    signal,
    spool: true,
  })
  try {
    // A slice the shrink guard refuses fails alone: its previous rows stay (PARTIAL).
    return await writeSlices(deps, run, await guardedSlices(db, run, executed), fail, signal)
  } finally {
    await removeSliceSpools(executed)
  }
}

async function writeSlices(
  deps: InventoryRunDeps,
  run: Parameters<typeof runSlices>[1],
  results: SliceResult[],
  fail: (why: string) => Promise<InventoryRunOutcome>,
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  const record = () =>
    db.recordRunSlices(
      run.runId,
      results.map((r) => ({
        provider: r.slice.provider,
        profile: r.slice.profile,
        status: r.status,
        rows: r.status === 'SUCCESS' ? sliceRowCount(r) : null,
        elapsed_ms: r.elapsedMs,
        error: r.error ?? null,
      })),
    )
  await record()
  signal?.throwIfAborted()
  const ok = results.filter((r) => r.status === 'SUCCESS')
  const failed = results.filter((r) => r.status === 'FAILED')
  const failures = oneLine(failed.map((r) => r.error).join(' · '))
  if (ok.length === 0) {
    const out = await fail(
      oneLine(`All ${results.length} profile slices failed; the table is unchanged. ${failures}`),
    )
    return { ...out, slices: results }
  }
  const data = unionSource(ok)
  // Every slice succeeded: the snapshot is complete (rows of profiles no longer in the run go).
  // Otherwise only the succeeded profiles' rows are replaced.
  const writeOpts: Parameters<typeof writeInventory>[3] & { scope?: { column: string; values: string[] } } = {
    signal,
    ...deps.writeLimits,
    keys: await keyColumnsFor(db, run.schedule, run.schema, run.table),
    record: { runId: run.runId, scheduleId: run.schedule?.id ?? null },
    ...(failed.length ? { scope: { column: PROFILE_COLUMN, values: ok.map((r) => r.slice.profile) } } : {}),
  }
  const written = await writeInventory(deps.sql, { schema: run.schema, table: run.table }, data, writeOpts)
  const status = failed.length ? 'PARTIAL' : 'SUCCESS'
  const error = failed.length
    ? oneLine(
        `${failed.length} of ${results.length} profile slices failed (${failed.map((r) => sliceLabel(r.slice)).join(', ')}); their previous rows are kept. ${failures}`,
      )
    : undefined
  await db.finishRun(run.runId, {
    status,
    row_count: written.rowCount,
    changes: written.changes,
    ...(error ? { error } : {}),
  })
  await prune(deps, run.runId)
  if (run.query)
    await describe(
      deps,
      { schema: run.schema, table: run.table },
      {
        query: run.query,
        schedule: run.schedule,
        runId: run.runId,
        rowCount: written.rowCount,
        columns: written.written,
      },
    )
  log[failed.length ? 'warn' : 'info'](
    { runId: run.runId, rows: written.rowCount, slices: results.length, failed: failed.length },
    `run ${status === 'PARTIAL' ? 'partially succeeded' : 'succeeded'}`,
  )
  return {
    status,
    runId: run.runId,
    rowCount: written.rowCount,
    slices: results,
    ...(error ? { error } : {}),
  }
}
