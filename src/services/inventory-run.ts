// One inventory run, framework-free: record the start, load the saved query, run it through the
// StackQL engine, replace the target table with the rows, record the outcome. Used by the job
// runner CLI (jobs/run-query.ts) for scheduled runs, "Run now" and `npm run job`.

import { assertIdentifierShape, assertTargetSchema } from '../db/identifiers.js'
import { writeInventory } from '../db/inventory-writer.js'
import { expandSlices, parseSliceSpecs, type Slice, spansProfiles } from '../fanout/slices.js'
import type { Query, Schedule } from '../models.js'
import { findPlaceholders, maskPlaceholders } from '../profiles/variables.js'
import { removeSpool, spoolPath } from '../stackql/spool.js'
import { assertReadOnlyQuery } from '../stackql/statements.js'
import {
  describe,
  type InventoryRunArgs,
  type InventoryRunDeps,
  type InventoryRunOutcome,
  keyColumnsFor,
  oneLine,
  prune,
  reason,
} from './run-support.js'
import { runSlices } from './slice-run.js'
import { snapshotRefusal } from './snapshot-guard.js'

export type { InventoryRunArgs, InventoryRunDeps, InventoryRunOutcome, RunLogger } from './run-support.js'
export { oneLine } from './run-support.js'

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
          { runId, schema, table, text: query.query_text, slices, schedule, query },
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
    await describe(
      deps,
      { schema, table },
      { query, schedule, runId, rowCount: written.rowCount, columns: written.written },
    )
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
