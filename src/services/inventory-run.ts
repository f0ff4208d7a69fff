// One inventory run, framework-free: record the start, load the saved query, run it through the
// StackQL engine, replace the target table with the rows, record the outcome. Used by the job
// runner CLI (jobs/run-query.ts) for scheduled runs, "Run now" and `npm run job`.

import { pruneChanges } from '../db/changes.js'
import type { Sql } from '../db/connect.js'
import type { DbService } from '../db/db-service.js'
import { assertIdentifierShape, assertTargetSchema } from '../db/identifiers.js'
import { writeInventory } from '../db/inventory-writer.js'
import { isAppError } from '../errors.js'
import { executeSlices, PROFILE_COLUMN, type SliceResult, unionWithProfile } from '../fanout/fanout-run.js'
import { expandSlices, parseSliceSpecs, type Slice, sliceLabel, spansProfiles } from '../fanout/slices.js'
import type { Query, Row, RowSource, Schedule } from '../models.js'
import { findPlaceholders, maskPlaceholders } from '../profiles/variables.js'
import { removeSpool, spoolPath } from '../stackql/spool.js'
import { assertReadOnlyQuery } from '../stackql/statements.js'
import { snapshotRefusal } from './snapshot-guard.js'

export interface RunLogger {
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
  error(obj: Record<string, unknown>, msg: string): void
}

export interface InventoryRunDeps {
  db: DbService
  sql: Sql
  /** The query service (QueryService.execute). */
  queries: {
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

function reason(e: unknown, signal?: AbortSignal): string {
  // A timeout aborts with an AppError saying so; a signal or a client going away is 'cancelled'.
  if (signal?.aborted) return isAppError(signal.reason) ? oneLine(signal.reason.message) : 'cancelled'
  if (isAppError(e)) return oneLine(e.message)
  return oneLine(`Unexpected error: ${e instanceof Error ? e.message : String(e)}`)
}

const validId = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0

/**
 * Runs one inventory refresh. Never throws: every failure becomes a FAILED outcome, recorded in
 * stackql_app.runs whenever the database is reachable (also for failures before the query ran).
 */
export async function runInventory(
  deps: InventoryRunDeps,
  args: InventoryRunArgs,
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  let runId: number | undefined
  const fail = async (why: string): Promise<InventoryRunOutcome> => {
    const error = args.logFile ? oneLine(`${why} (runner log: ${args.logFile})`) : why
    log.error({ runId, queryId: args.queryId, target: `${args.targetSchema}.${args.targetTable}` }, error)
    if (runId !== undefined) {
      try {
        await db.finishRun(runId, { status: 'FAILED', error })
      } catch (e) {
        log.error({ runId }, `recording the failed run failed: ${reason(e)}`)
      }
    }
    return { status: 'FAILED', runId, error }
  }

  // Resolve what the run record can link to; these lookups need the database (failing here = no record).
  let query: Query | null
  let schedule: Schedule | null = null
  try {
    query = validId(args.queryId) ? await db.getQuery(args.queryId) : null
    if (args.scheduleId !== undefined)
      schedule = validId(args.scheduleId) ? await db.getSchedule(args.scheduleId) : null
    const run = await db.startRun({
      schedule_id: schedule?.id ?? null,
      query_id: query?.id ?? null,
      target_schema: String(args.targetSchema).slice(0, 200),
      target_table: String(args.targetTable).slice(0, 200),
      trigger: args.trigger ?? 'local',
    })
    runId = run.id
  } catch (e) {
    return fail(`Could not record the run: ${reason(e)}`)
  }

  try {
    const schema = assertTargetSchema(args.targetSchema)
    const table = assertIdentifierShape(args.targetTable, 'table')
    if (args.scheduleId !== undefined && !schedule)
      return await fail(`Schedule ${args.scheduleId} does not exist.`)
    if (schedule && (schedule.target_schema !== schema || schedule.target_table !== table)) {
      return await fail(
        `Schedule ${schedule.id} writes to ${schedule.target_schema}.${schedule.target_table}, not ${schema}.${table}; update the job's parameters (save the schedule again).`,
      )
    }
    if (!query) return await fail(`Query ${args.queryId} does not exist.`)
    if (schedule && schedule.query_id !== query.id) {
      return await fail(`Schedule ${schedule.id} runs query ${schedule.query_id}, not query ${query.id}.`)
    }
    try {
      // Profile variables ({{ regions }}) are substituted per slice later; check the statement's shape with them masked.
      assertReadOnlyQuery(maskPlaceholders(query.query_text, findPlaceholders(query.query_text)))
    } catch (e) {
      return await fail(`Query ${query.id}: ${(e as Error).message}`)
    }
    log.info(
      { runId, queryId: query.id, provider: query.provider, target: `${schema}.${table}` },
      'run started',
    )
    const specs = args.profiles ?? (schedule?.profiles?.length ? schedule.profiles : undefined)
    if (specs !== undefined) {
      const known = new Map(
        (await db.getProviderProfiles()).map((p) => [p.provider, p.profiles.map((x) => x.profile)]),
      )
      let slices: Slice[]
      try {
        slices = expandSlices(parseSliceSpecs(specs), known)
      } catch (e) {
        return await fail(reason(e))
      }
      if (slices.length === 0) return await fail('The run names no profile slices.')
      if (spansProfiles(slices))
        return await runSlices(
          deps,
          { runId, schema, table, text: query.query_text, slices, schedule },
          fail,
          signal,
        )
    }
    // StackQL's output goes to a spool file and the writer reads it from there, a batch at a time:
    // the run's memory does not grow with the result (src/stackql/spool.ts).
    const spoolFile = spoolPath()
    let written: Awaited<ReturnType<typeof writeInventory>>
    try {
      const result = await deps.queries.execute(query.query_text, query.provider, { signal, spoolFile })
      signal?.throwIfAborted()
      // Only a complete result is a snapshot: rows that came with an error, or a snapshot the shrink
      // guard refuses, leave the previous rows in place and fail the run with StackQL's text.
      const guardPct =
        schedule?.shrink_guard_pct ?? (await db.findScheduleByTarget(schema, table))?.shrink_guard_pct ?? null
      const refusal = snapshotRefusal({
        target: `${schema}.${table}`,
        result,
        previousRows: await db.countSnapshotRows(schema, table),
        shrinkGuardPct: guardPct,
      })
      if (refusal) return await fail(oneLine(refusal))
      const keys = await keyColumnsFor(db, schedule, schema, table)
      const data = { columns: result.columns, rows: result.spooled ?? result.rows }
      written = await writeInventory(deps.sql, { schema, table }, data, {
        signal,
        ...deps.writeLimits,
        keys,
        record: { runId, scheduleId: schedule?.id ?? null },
      })
    } finally {
      await removeSpool(spoolFile)
    }
    await db.finishRun(runId, { status: 'SUCCESS', row_count: written.rowCount, changes: written.changes })
    await prune(deps, runId)
    log.info(
      {
        runId,
        rows: written.rowCount,
        changes: written.changes,
        columns: written.columns.length,
        renamed: written.renamed,
        refreshedView: written.refreshedView,
      },
      'run succeeded',
    )
    return { status: 'SUCCESS', runId, rowCount: written.rowCount }
  } catch (e) {
    return fail(reason(e, signal))
  }
}

/**
 * The fan-out branch of runInventory: every slice executes; the succeeded slices' rows (tagged
 * `_profile`) replace only those profiles' rows, in one transaction (the writer's `scope`); the
 * failed slices' rows stay as they were. All failed = FAILED, table untouched.
 */
async function runSlices(
  deps: InventoryRunDeps,
  run: {
    runId: number
    schema: string
    table: string
    text: string
    slices: Slice[]
    schedule: Schedule | null
  },
  fail: (why: string) => Promise<InventoryRunOutcome>,
  signal?: AbortSignal,
): Promise<InventoryRunOutcome> {
  const { db, log } = deps
  const results = await executeSlices(deps.queries, run.text, run.slices, {
    concurrency: deps.sliceConcurrency ?? 4,
    signal,
  })
  const record = () =>
    db.recordRunSlices(
      run.runId,
      results.map((r) => ({
        provider: r.slice.provider,
        profile: r.slice.profile,
        status: r.status,
        rows: r.status === 'SUCCESS' ? r.rows.length : null,
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
  const data = unionWithProfile(ok)
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

/** The schedule's key columns (also for a run started without a schedule id, by its target). */
async function keyColumnsFor(db: DbService, schedule: Schedule | null, schema: string, table: string) {
  return schedule?.key_columns ?? (await db.findScheduleByTarget(schema, table))?.key_columns ?? []
}

/** CHANGE_RETENTION_DAYS: a failure to prune is logged, never fails the run. */
async function prune(deps: InventoryRunDeps, runId: number): Promise<void> {
  try {
    await pruneChanges(deps.sql, deps.changeRetentionDays ?? 90)
  } catch (e) {
    deps.log.warn({ runId }, `pruning old change records failed: ${reason(e)}`)
  }
}
