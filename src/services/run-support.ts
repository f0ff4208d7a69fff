// What an inventory run needs besides its main path (src/services/inventory-run.ts) and its fan-out
// branch (slice-run.ts): the dependencies and outcome types, one-line reasons, the schedule's key
// columns, pruning old change records and the catalog comments — shared by both, importing neither.
import { pruneChanges } from '../db/changes.js'
import type { Sql } from '../db/connect.js'
import type { DbService } from '../db/db-service.js'
import { dropOrphanDigests } from '../db/digest-orphans.js'
import { isAppError } from '../errors.js'
import { PROFILE_COLUMN, type SliceExecutor, type SliceResult } from '../fanout/fanout-run.js'
import { sliceLabel } from '../fanout/slices.js'
import type { Schedule } from '../models.js'
import { snapshotRefusal } from './snapshot-guard.js'
import { type DescribedRun, describeTable } from './table-description.js'

export interface RunLogger {
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

export interface InventoryRunDeps {
  db: DbService
  sql: Sql
  /** The query service (QueryService.execute). */
  queries: SliceExecutor
  log: RunLogger
  /** The writer's lock and statement timeouts (config.inventoryWriter); the writer's defaults otherwise. */
  writeLimits?: { lockTimeoutMs: number; statementTimeoutMs: number }
  /** SLICE_CONCURRENCY: profile slices executed at once (default 4). */
  sliceConcurrency?: number
  /** CHANGE_RETENTION_DAYS: change records older than this are pruned after a successful run (default 90). */
  changeRetentionDays?: number
}

export interface InventoryRunArgs {
  queryId: number
  targetSchema: string
  targetTable: string
  scheduleId?: number
  /** 'local' (CLI, Run now) or 'databricks' (a job run). */
  trigger?: string
  /** The runner's log file (local "Run now"): named in the run's error when it fails. */
  logFile?: string
  /** Fan-out slices (`aws/prod,aws/staging`, `aws/*`); the schedule's profiles when not given. */
  profiles?: string
}

export interface InventoryRunOutcome {
  status: 'SUCCESS' | 'FAILED' | 'PARTIAL'
  /** Per-slice outcomes of a fan-out run. */
  slices?: SliceResult[]
  /** The runs row, when the database could record one. */
  runId?: number
  rowCount?: number
  /** One line: why the run failed (the raw StackQL message for query errors). */
  error?: string
}

const MAX_ERROR = 2000

/** Collapses a message onto one line (run records, the CLI's stderr line), capped in length. */
export function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim()
  return line.length > MAX_ERROR ? `${line.slice(0, MAX_ERROR - 1)}…` : line
}

export function reason(e: unknown, signal?: AbortSignal): string {
  // A timeout aborts with an AppError saying so; a signal or a client going away is 'cancelled'.
  if (signal?.aborted) return isAppError(signal.reason) ? oneLine(signal.reason.message) : 'cancelled'
  if (isAppError(e)) return oneLine(e.message)
  return oneLine(`Unexpected error: ${e instanceof Error ? e.message : String(e)}`)
}

/** The schedule's key columns (also for a run started without a schedule id, by its target). */
export async function keyColumnsFor(db: DbService, schedule: Schedule | null, schema: string, table: string) {
  return schedule?.key_columns ?? (await db.findScheduleByTarget(schema, table))?.key_columns ?? []
}

/**
 * The shrink guard of a fan-out run, per slice: every succeeded slice is checked with
 * snapshotRefusal against that profile's current rows (the table's rows by `_profile`; none when
 * the table does not exist yet). A refused slice comes back FAILED with the guard's message, so its
 * previous rows stay and the run is PARTIAL; the other slices are unchanged.
 */
export async function guardedSlices(
  db: DbService,
  target: { schema: string; table: string; schedule: Schedule | null },
  results: SliceResult[],
): Promise<SliceResult[]> {
  const { schema, table, schedule } = target
  const pct =
    schedule?.shrink_guard_pct ?? (await db.findScheduleByTarget(schema, table))?.shrink_guard_pct ?? null
  const previous = await db.countSnapshotRowsByProfile(schema, table, PROFILE_COLUMN)
  return results.map((r) => {
    if (r.status !== 'SUCCESS') return r
    const label = sliceLabel(r.slice)
    const refusal = snapshotRefusal({
      target: `${schema}.${table} (${label})`,
      result: {
        rows: r.rows,
        ...(r.spooled ? { spooled: r.spooled } : {}),
        ...(r.message ? { message: r.message } : {}),
        complete: true,
      },
      previousRows: previous === null ? null : (previous.get(r.slice.profile) ?? 0),
      shrinkGuardPct: pct,
    })
    if (!refusal) return r
    return { ...r, status: 'FAILED', columns: [], rows: [], error: `${label}: ${oneLine(refusal)}` }
  })
}

/**
 * Housekeeping after a run: change records past CHANGE_RETENTION_DAYS, and the digests of inventory
 * tables dropped by hand. A failure is logged, never fails the run.
 */
export async function prune(deps: InventoryRunDeps, runId: number): Promise<void> {
  try {
    await pruneChanges(deps.sql, deps.changeRetentionDays ?? 90)
  } catch (e) {
    deps.log.warn({ runId }, `pruning old change records failed: ${reason(e)}`)
  }
  try {
    const dropped = await dropOrphanDigests(deps.sql)
    if (dropped.length > 0) {
      const tables = dropped.map((d) => `${d.schema}.${d.table}`)
      deps.log.info({ runId, tables }, 'dropped the digests of inventory tables that no longer exist')
    }
  } catch (e) {
    deps.log.warn({ runId }, `dropping the digests of dropped tables failed: ${reason(e)}`)
  }
}

/** Table and column comments for the catalog (src/services/table-description.ts); a failure is logged only. */
export async function describe(
  deps: InventoryRunDeps,
  target: { schema: string; table: string },
  run: DescribedRun,
): Promise<void> {
  try {
    await describeTable(deps.sql, target, run)
  } catch (e) {
    deps.log.warn({ runId: run.runId }, `writing the table's catalog comments failed: ${reason(e)}`)
  }
}
