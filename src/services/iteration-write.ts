// The writing half of a for_each iteration and of its finish task (src/services/iteration-run.ts):
// one slice's rows replace only that profile's rows (keys and change records as a single task
// writes them), and once every listed slice succeeded the rows of profiles no longer listed go.
import { writeInventory } from '../db/inventory-writer.js'
import { PROFILE_COLUMN, type SliceResult, sliceRowCount, unionSource } from '../fanout/fanout-run.js'
import { type Slice, sliceLabel } from '../fanout/slices.js'
import type { Query, RunSlice, Schedule } from '../models.js'
import type { InventoryRunDeps, InventoryRunOutcome } from './run-support.js'
import { keyColumnsFor, reason } from './run-support.js'

/** A job run's runs row and what its arguments name, as iteration-run.ts joins them. */
export interface Joined {
  runId: number
  query: Query
  schedule: Schedule | null
  schema: string
  table: string
  slices: Slice[]
}

/**
 * Writes one iteration's slice (FAILED slices write nothing), records the slice's outcome under the
 * job run and returns it. Never throws.
 */
export async function writeIteration(
  deps: InventoryRunDeps,
  joined: Joined,
  result: SliceResult,
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  const { runId, schema, table } = joined
  const slice = result.slice
  let outcome: Omit<RunSlice, 'run_id'> = {
    provider: slice.provider,
    profile: slice.profile,
    status: result.status,
    rows: result.status === 'SUCCESS' ? sliceRowCount(result) : null,
    elapsed_ms: result.elapsedMs,
    error: result.error ?? null,
  }
  if (result.status === 'SUCCESS') {
    try {
      await writeInventory(deps.sql, { schema, table }, unionSource([result]), {
        signal,
        ...deps.writeLimits,
        keys: await keyColumnsFor(db, joined.schedule, schema, table),
        record: { runId, scheduleId: joined.schedule?.id ?? null },
        scope: { column: PROFILE_COLUMN, values: [slice.profile] },
        refreshView: false,
      })
    } catch (e) {
      outcome = {
        ...outcome,
        status: 'FAILED',
        rows: null,
        error: `${sliceLabel(slice)}: ${reason(e, signal)}`,
      }
    }
  }
  try {
    await db.recordRunSlices(runId, [outcome])
  } catch (e) {
    // The finish task then counts the slice as not reported (failed); the rows may be written.
    log.error({ runId, slice: sliceLabel(slice) }, `recording the slice failed: ${reason(e)}`)
  }
  const label = sliceLabel(slice)
  if (outcome.status === 'SUCCESS') {
    log.info({ runId, slice: label, rows: outcome.rows }, 'slice succeeded')
    return { status: 'SUCCESS', runId, rowCount: outcome.rows ?? 0 }
  }
  log.warn({ runId, slice: label }, outcome.error ?? 'slice failed')
  return { status: 'FAILED', runId, error: outcome.error ?? `${label} failed` }
}

/**
 * Deletes the rows of profiles the run no longer lists (a profile taken off the schedule) and the
 * rows without a profile (written before the schedule spanned profiles), recording them as removed
 * changes — what a single-task fan-out's whole-table write does; returns those profiles ('' for the
 * rows without one). Only after every listed slice succeeded.
 */
export async function retireProfiles(deps: InventoryRunDeps, joined: Joined): Promise<string[]> {
  const { schema, table, slices, runId, schedule } = joined
  const listed = new Set(slices.map((s) => s.profile))
  const present = await deps.db.countSnapshotProfiles(schema, table, PROFILE_COLUMN)
  const gone = [...(present?.byProfile.keys() ?? [])].filter((p) => !listed.has(p)).sort()
  const unprofiled = (present?.withoutProfile ?? 0) > 0
  if (gone.length === 0 && !unprofiled) return []
  const keys = await keyColumnsFor(deps.db, schedule, schema, table)
  await writeInventory(
    deps.sql,
    { schema, table },
    { columns: [PROFILE_COLUMN, ...keys.filter((k) => k !== PROFILE_COLUMN)], rows: [] },
    {
      ...deps.writeLimits,
      keys,
      record: { runId, scheduleId: schedule?.id ?? null },
      scope: { column: PROFILE_COLUMN, values: gone, orNull: unprofiled },
      refreshView: false,
    },
  )
  return unprofiled ? [...gone, ''] : gone
}
