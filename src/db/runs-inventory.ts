// Run history and the inventory catalog: what the runner records, and what the Inventory page reads.
import { AppError } from '../errors.js'
import type { InventoryTable, ResultSet, Run, RunSlice, RunStatus } from '../models.js'
import type { Sql } from './connect.js'
import { DbBase } from './db-base.js'
import {
  assertExistingRelation,
  assertIdentifierShape,
  assertTargetSchema,
  INVENTORY_SCHEMA,
} from './identifiers.js'
import { refreshViewIfExists } from './materialised-views.js'
import { recordRunSlices, slicesOfRuns } from './run-slices.js'

export interface RunStart {
  schedule_id?: number | null
  query_id: number | null
  target_schema: string
  target_table: string
  trigger?: string
}

/**
 * The newest `perSchedule` runs of every schedule (or of one), through runs_schedule_idx: the cost
 * follows the runs shown, not the whole history (a window over every run was linear in it).
 */
export function recentRunsQuery(sql: Sql, perSchedule: number, scheduleId?: number) {
  return scheduleId === undefined
    ? sql<Run[]>`
        select r.* from stackql_app.schedules s
        cross join lateral (select * from stackql_app.runs where schedule_id = s.id
          order by started_at desc limit ${perSchedule}) r
        order by r.schedule_id, r.started_at desc`
    : sql<Run[]>`
        select * from stackql_app.runs where schedule_id = ${scheduleId}
        order by started_at desc limit ${perSchedule}`
}

/**
 * The Inventory page's tables (see getInventoryTables). Each table's last successful run is one
 * probe of runs_target_success_idx: `relname` is a `name` (collation "C"), so without the explicit
 * collation the comparison could use no index on `runs` and scanned every run once per table.
 */
export function inventoryTablesQuery(sql: Sql, schema: string) {
  return sql<InventoryTable[]>`
    select ${schema}::text as schema, c.relname as name,
      coalesce(r.row_count, greatest(c.reltuples, 0)::bigint) as row_count,
      r.finished_at as last_updated,
      exists (select 1 from pg_class m where m.relnamespace = c.relnamespace
        and m.relname = c.relname || '_mv' and m.relkind = 'm') as has_mv
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    left join lateral (select row_count, finished_at from stackql_app.runs
      where target_schema = ${schema} and target_table = c.relname::text collate "default" and status = 'SUCCESS'
      order by finished_at desc limit 1) r on true
    where n.nspname = ${schema} and c.relkind in ('r', 'p')
    order by c.relname`
}

export class RunsAndInventory extends DbBase {
  /** Records the start of a run; links it to the schedule targeting the same schema.table when none is given. */
  async startRun(run: RunStart): Promise<Run> {
    return this.use(async (sql) => {
      const [row] = await sql<Run[]>`
        insert into stackql_app.runs (schedule_id, query_id, target_schema, target_table, trigger)
        values (
          coalesce(${run.schedule_id ?? null}::bigint, (select id from stackql_app.schedules
            where target_schema = ${run.target_schema} and target_table = ${run.target_table})),
          ${run.query_id}, ${run.target_schema}, ${run.target_table}, ${run.trigger ?? 'local'})
        returning *`
      if (row!.schedule_id) {
        await sql`update stackql_app.schedules set last_run_status = 'RUNNING', updated_at = now()
          where id = ${row!.schedule_id}`
      }
      return row!
    })
  }

  /**
   * The one runs row of a Databricks job run whose for_each iterations and finish task are separate
   * runner processes: the first to arrive creates it, the others get the same row (`job_run_id` unique).
   */
  async joinJobRun(run: RunStart, jobRunId: string): Promise<Run> {
    return this.use(async (sql) => {
      const [row] = await sql<Run[]>`
        insert into stackql_app.runs (schedule_id, query_id, target_schema, target_table, trigger, job_run_id)
        values (
          coalesce(${run.schedule_id ?? null}::bigint, (select id from stackql_app.schedules
            where target_schema = ${run.target_schema} and target_table = ${run.target_table})),
          ${run.query_id}, ${run.target_schema}, ${run.target_table}, ${run.trigger ?? 'databricks'}, ${jobRunId})
        on conflict (job_run_id) where job_run_id is not null
          do update set job_run_id = excluded.job_run_id
        returning *, (xmax = 0) as created`
      const created = (row as Run & { created?: boolean }).created
      delete (row as Run & { created?: boolean }).created
      if (created && row!.schedule_id) {
        await sql`update stackql_app.schedules set last_run_status = 'RUNNING', updated_at = now()
          where id = ${row!.schedule_id}`
      }
      return row!
    })
  }

  /** Refreshes `<table>_mv` when it exists (the for_each finish task); its name, or null. */
  async refreshViewOfTable(schema: string, table: string): Promise<string | null> {
    const view = assertIdentifierShape(`${table}_mv`, 'view')
    return this.use((sql) => refreshViewIfExists(sql, schema, view))
  }

  /** Records the outcome of a run and the schedule's last_run_at / last_run_status / last_error. */
  async finishRun(
    id: number,
    outcome: {
      status: Exclude<RunStatus, 'RUNNING'>
      row_count?: number
      error?: string
      changes?: { added: number; removed: number; modified: number; baseline: boolean }
    },
  ): Promise<Run> {
    return this.use((sql) =>
      sql.begin(async (tx) => {
        const [row] = await tx<Run[]>`
          update stackql_app.runs set finished_at = now(), status = ${outcome.status},
            row_count = ${outcome.row_count ?? null}, error = ${outcome.error ?? null},
            added_count = ${outcome.changes?.added ?? null}, removed_count = ${outcome.changes?.removed ?? null},
            modified_count = ${outcome.changes?.modified ?? null}, changes_baseline = ${outcome.changes?.baseline ?? null}
          where id = ${id} returning *`
        if (!row) throw new AppError('NOT_FOUND', `Run ${id} does not exist.`)
        if (row.schedule_id) {
          await tx`update stackql_app.schedules set last_run_at = ${row.finished_at}, last_run_status = ${outcome.status},
            last_error = ${outcome.error ?? null}, updated_at = now() where id = ${row.schedule_id}`
        }
        return row
      }),
    )
  }

  /** Records the per-slice outcomes of a fan-out run. */
  async recordRunSlices(runId: number, slices: Omit<RunSlice, 'run_id'>[]): Promise<void> {
    return this.use((sql) => recordRunSlices(sql, runId, slices))
  }

  /** The slices of the given runs (fan-out runs only), keyed by run id. */
  async getRunSlices(runIds: number[]): Promise<Map<number, RunSlice[]>> {
    return this.use((sql) => slicesOfRuns(sql, runIds))
  }

  /**
   * Marks runs still RUNNING after `olderThanMs` as FAILED: their runner stopped without reporting
   * (killed, node lost). Its write was rolled back, so the previous data is intact. Returns how many.
   */
  async failAbandonedRuns(olderThanMs: number): Promise<number> {
    const error =
      'The runner stopped without reporting (killed or lost); its changes were rolled back and the previous data is kept.'
    return this.use((sql) =>
      sql.begin(async (tx) => {
        const failed = await tx<{ id: number; schedule_id: number | null }[]>`
          update stackql_app.runs set status = 'FAILED', finished_at = now(), error = ${error}
          where status = 'RUNNING' and started_at < now() - make_interval(secs => ${olderThanMs / 1000})
          returning id, schedule_id`
        for (const r of failed) {
          if (!r.schedule_id) continue
          await tx`update stackql_app.schedules set last_run_status = 'FAILED', last_run_at = now(), last_error = ${error}
            where id = ${r.schedule_id} and last_run_status = 'RUNNING'`
        }
        return failed.length
      }),
    )
  }

  /** The most recent runs of each schedule (or of one), newest first, for the run-history pictures. */
  async getRecentRunsBySchedule(perSchedule = 20, scheduleId?: number): Promise<Map<number, Run[]>> {
    return this.use(async (sql) => {
      const rows = await recentRunsQuery(sql, perSchedule, scheduleId)
      const byId = new Map<number, Run[]>()
      for (const r of rows) {
        const list = byId.get(r.schedule_id!) ?? []
        list.push(r)
        byId.set(r.schedule_id!, list)
      }
      return byId
    })
  }

  /**
   * The shrink guard's "previous snapshot": how many rows `schema.table` holds now, or null when the
   * table does not exist yet (the first run). Counted, not taken from the run history, so rows
   * written by hand or by an older version count too.
   */
  async countSnapshotRows(schema: string, table: string): Promise<number | null> {
    return (await this.countSnapshot(schema, table))?.total ?? null
  }

  /**
   * The same per profile, for a fan-out run's per-slice guard: rows of `schema.table` by `column`
   * (`_profile`). null when the table does not exist; an empty map when it has no such column (a
   * table written before the run spanned profiles: no profile had rows of its own).
   */
  async countSnapshotRowsByProfile(
    schema: string,
    table: string,
    column: string,
  ): Promise<Map<string, number> | null> {
    return (await this.countSnapshot(schema, table, column))?.byProfile ?? null
  }

  /** The same, and how many rows have no profile (NULL `column`, or no such column); null without the table. */
  async countSnapshotProfiles(
    schema: string,
    table: string,
    column: string,
  ): Promise<{ byProfile: Map<string, number>; withoutProfile: number } | null> {
    const s = await this.countSnapshot(schema, table, column)
    if (!s) return null
    let profiled = 0
    for (const n of s.byProfile.values()) profiled += n
    return { byProfile: s.byProfile, withoutProfile: s.total - profiled }
  }

  private async countSnapshot(schema: string, table: string, column?: string) {
    assertTargetSchema(schema)
    assertIdentifierShape(table, 'table')
    return this.use(async (sql) => {
      const [found] = await sql<{ has_column: boolean }[]>`
        select exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ${column ?? ''}
          and a.attnum > 0 and not a.attisdropped) as has_column
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relname = ${table} and c.relkind in ('r', 'p')`
      if (!found) return null
      const target = sql`${sql(schema)}.${sql(table)}`
      if (!column || !found.has_column) {
        const [row] = await sql<{ n: string }[]>`select count(*)::int8 as n from ${target}`
        return { total: Number(row!.n), byProfile: new Map<string, number>() }
      }
      const rows = await sql<{ p: string | null; n: string }[]>`
        select ${sql(column)}::text as p, count(*)::int8 as n from ${target} group by 1`
      const byProfile = new Map(rows.filter((r) => r.p !== null).map((r) => [r.p!, Number(r.n)]))
      return { total: rows.reduce((n, r) => n + Number(r.n), 0), byProfile }
    })
  }

  async getRunsForTable(schema: string, table: string, limit = 30): Promise<Run[]> {
    return this.use(
      (sql) => sql<Run[]>`
        select * from stackql_app.runs where target_schema = ${schema} and target_table = ${table}
        order by started_at desc limit ${limit}`,
    )
  }

  // ---- inventory -----------------------------------------------------------------------------

  /**
   * Tables of the inventory schema with the row count and time the writer recorded at its last
   * successful run (the planner's estimate for tables never written by the runner) — no COUNT(*).
   */
  async getInventoryTables(schema = INVENTORY_SCHEMA): Promise<InventoryTable[]> {
    assertIdentifierShape(schema, 'schema')
    return this.use((sql) => inventoryTablesQuery(sql, schema))
  }

  /** The first `limit` rows of an inventory table (validated against the catalog first). */
  async getInventoryPreview(table: string, limit = 100, schema = INVENTORY_SCHEMA): Promise<ResultSet> {
    const n = Math.min(Math.max(Math.trunc(limit) || 100, 1), 1000)
    return this.use(async (sql) => {
      const name = await assertExistingRelation(sql, schema, table, 'table')
      const started = performance.now()
      const rows = await sql`select * from ${sql(schema)}.${sql(name)} limit ${n}`
      return {
        columns: rows.columns.map((c) => c.name),
        rows: [...rows],
        elapsedMs: performance.now() - started,
      }
    })
  }

  /** REFRESH MATERIALIZED VIEW for `<table>_mv`-style views in the inventory schema. */
  async refreshMaterialisedView(view: string, schema = INVENTORY_SCHEMA): Promise<void> {
    return this.use(async (sql) => {
      const name = await assertExistingRelation(sql, schema, view, 'matview')
      await refreshViewIfExists(sql, schema, name)
    })
  }
}
