// DbService: every read and write of the app's metadata (queries, schedules, provider mappings,
// runs) and the inventory catalog. All SQL of the app lives in src/db/.
import { AppError } from '../errors.js'
import type {
  InventoryTable,
  ProviderConfig,
  ProviderConfigInput,
  Query,
  QueryInput,
  ResultSet,
  Run,
  RunStatus,
  Schedule,
  ScheduleInput,
  ScheduleView,
} from '../models.js'
import type { Sql } from './connect.js'
import { DbHealth } from './health.js'
import {
  assertExistingRelation,
  assertIdentifierShape,
  assertTargetSchema,
  INVENTORY_SCHEMA,
} from './identifiers.js'
import { applySchema } from './migrate.js'

export type SchedulePatch = Partial<
  Pick<Schedule, 'cron_expression' | 'target_schema' | 'target_table' | 'is_active' | 'job_id' | 'last_error'>
>

export interface RunStart {
  schedule_id?: number | null
  query_id: number | null
  target_schema: string
  target_table: string
  trigger?: string
}

function assertId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new AppError('NOT_FOUND', `${what} ${String(id)} does not exist.`)
  }
  return id
}

export class DbService {
  readonly health: DbHealth
  private ready: Promise<void> | undefined

  constructor(
    readonly sql: Sql,
    target: string,
    private readonly schemaFile?: string,
  ) {
    this.health = new DbHealth(target)
  }

  /** Applies the schema once (retried on the next call after a failure), then runs `fn`, mapping DB errors. */
  async use<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      this.ready ??= applySchema(this.sql, this.schemaFile)
      await this.ready.catch((e) => {
        this.ready = undefined
        throw e
      })
      const result = await fn(this.sql)
      this.health.markUp()
      return result
    } catch (e) {
      throw this.health.translate(e)
    }
  }

  async ping(): Promise<void> {
    return this.use(async (sql) => {
      await sql`select 1`
    })
  }

  // ---- queries -------------------------------------------------------------------------------

  async getQueries(): Promise<Query[]> {
    return this.use((sql) => sql<Query[]>`select * from stackql_app.queries order by lower(name), id`)
  }

  async getQuery(id: number): Promise<Query | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use(
      async (sql) => (await sql<Query[]>`select * from stackql_app.queries where id = ${id}`)[0] ?? null,
    )
  }

  async saveQuery(input: QueryInput, createdBy: string): Promise<Query> {
    return this.use(async (sql) => {
      const [row] = await sql<Query[]>`
        insert into stackql_app.queries (name, description, query_text, provider, created_by)
        values (${input.name}, ${input.description ?? ''}, ${input.query_text}, ${input.provider}, ${createdBy})
        returning *`
      return row!
    })
  }

  async updateQuery(id: number, input: QueryInput): Promise<Query> {
    assertId(id, 'Query')
    return this.use(async (sql) => {
      const [row] = await sql<Query[]>`
        update stackql_app.queries set name = ${input.name}, description = ${input.description ?? ''},
          query_text = ${input.query_text}, provider = ${input.provider}, updated_at = now()
        where id = ${id} returning *`
      if (!row) throw new AppError('NOT_FOUND', `Query ${id} does not exist.`)
      return row
    })
  }

  /** Refuses while schedules use the query: delete those schedules first. */
  async deleteQuery(id: number): Promise<void> {
    assertId(id, 'Query')
    return this.use(async (sql) => {
      const users = await sql<{ target: string }[]>`
        select target_schema || '.' || target_table as target from stackql_app.schedules where query_id = ${id}`
      if (users.length > 0) {
        throw new AppError(
          'CONFLICT',
          `This query is used by ${users.length} schedule(s) (${users.map((u) => u.target).join(', ')}). Delete those schedules on the Schedules page first.`,
        )
      }
      const deleted = await sql`delete from stackql_app.queries where id = ${id}`
      if (deleted.count === 0) throw new AppError('NOT_FOUND', `Query ${id} does not exist.`)
    })
  }

  // ---- schedules -----------------------------------------------------------------------------

  async getSchedules(): Promise<ScheduleView[]> {
    return this.use(
      (sql) => sql<ScheduleView[]>`
        select s.*, q.name as query_name, q.provider from stackql_app.schedules s
        join stackql_app.queries q on q.id = s.query_id order by s.id`,
    )
  }

  async getSchedule(id: number): Promise<Schedule | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use(
      async (sql) => (await sql<Schedule[]>`select * from stackql_app.schedules where id = ${id}`)[0] ?? null,
    )
  }

  async findScheduleByTarget(schema: string, table: string): Promise<Schedule | null> {
    return this.use(
      async (sql) =>
        (
          await sql<Schedule[]>`
            select * from stackql_app.schedules where target_schema = ${schema} and target_table = ${table}`
        )[0] ?? null,
    )
  }

  async saveSchedule(input: ScheduleInput): Promise<Schedule> {
    const schema = assertTargetSchema(input.target_schema ?? INVENTORY_SCHEMA)
    const table = assertIdentifierShape(input.target_table, 'table')
    return this.use(async (sql) => {
      const [row] = await sql<Schedule[]>`
        insert into stackql_app.schedules (query_id, cron_expression, target_schema, target_table)
        values (${input.query_id}, ${input.cron_expression}, ${schema}, ${table}) returning *`
      return row!
    })
  }

  async updateSchedule(id: number, patch: SchedulePatch): Promise<Schedule> {
    assertId(id, 'Schedule')
    const changes: Record<string, string | boolean | null> = { ...patch }
    if (patch.target_schema !== undefined) assertTargetSchema(patch.target_schema)
    if (patch.target_table !== undefined) assertIdentifierShape(patch.target_table, 'table')
    const columns = Object.keys(changes).filter((k) => changes[k] !== undefined)
    return this.use(async (sql) => {
      const [row] = columns.length
        ? await sql<Schedule[]>`
            update stackql_app.schedules set ${sql(changes, columns)}, updated_at = now()
            where id = ${id} returning *`
        : await sql<Schedule[]>`select * from stackql_app.schedules where id = ${id}`
      if (!row) throw new AppError('NOT_FOUND', `Schedule ${id} does not exist.`)
      return row
    })
  }

  async deleteSchedule(id: number): Promise<void> {
    assertId(id, 'Schedule')
    return this.use(async (sql) => {
      const deleted = await sql`delete from stackql_app.schedules where id = ${id}`
      if (deleted.count === 0) throw new AppError('NOT_FOUND', `Schedule ${id} does not exist.`)
    })
  }

  // ---- provider config -----------------------------------------------------------------------

  async getProviderConfig(): Promise<ProviderConfig[]> {
    return this.use(
      (sql) =>
        sql<ProviderConfig[]>`select * from stackql_app.provider_config order by provider, env_var_name`,
    )
  }

  async getProviderConfigFor(provider: string): Promise<ProviderConfig[]> {
    return this.use(
      (sql) => sql<ProviderConfig[]>`
        select * from stackql_app.provider_config where provider = ${provider} order by env_var_name`,
    )
  }

  async getProviderConfigById(id: number): Promise<ProviderConfig | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use(
      async (sql) =>
        (await sql<ProviderConfig[]>`select * from stackql_app.provider_config where id = ${id}`)[0] ?? null,
    )
  }

  /** Distinct providers that have at least one credential mapping (the IDE's provider select). */
  async getProviders(): Promise<string[]> {
    return this.use(async (sql) =>
      (
        await sql<
          { provider: string }[]
        >`select distinct provider from stackql_app.provider_config order by provider`
      ).map((r) => r.provider),
    )
  }

  async saveProviderConfig(input: ProviderConfigInput, createdBy: string): Promise<ProviderConfig> {
    return this.use(async (sql) => {
      const [row] = await sql<ProviderConfig[]>`
        insert into stackql_app.provider_config (provider, env_var_name, secret_scope, secret_key, created_by)
        values (${input.provider}, ${input.env_var_name}, ${input.secret_scope}, ${input.secret_key}, ${createdBy})
        returning *`
      return row!
    })
  }

  async deleteProviderConfig(id: number): Promise<void> {
    assertId(id, 'Provider mapping')
    return this.use(async (sql) => {
      const deleted = await sql`delete from stackql_app.provider_config where id = ${id}`
      if (deleted.count === 0) throw new AppError('NOT_FOUND', `Provider mapping ${id} does not exist.`)
    })
  }

  // ---- runs ----------------------------------------------------------------------------------

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

  /** Records the outcome of a run and the schedule's last_run_at / last_run_status / last_error. */
  async finishRun(
    id: number,
    outcome: { status: Exclude<RunStatus, 'RUNNING'>; row_count?: number; error?: string },
  ): Promise<Run> {
    return this.use((sql) =>
      sql.begin(async (tx) => {
        const [row] = await tx<Run[]>`
          update stackql_app.runs set finished_at = now(), status = ${outcome.status},
            row_count = ${outcome.row_count ?? null}, error = ${outcome.error ?? null}
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

  /** The most recent runs of each schedule (newest first), for the run-history pictures. */
  async getRecentRunsBySchedule(perSchedule = 20): Promise<Map<number, Run[]>> {
    return this.use(async (sql) => {
      const rows = await sql<Run[]>`
        select * from (select r.*, row_number() over (partition by schedule_id order by started_at desc) as n
          from stackql_app.runs r where schedule_id is not null) x
        where n <= ${perSchedule} order by schedule_id, started_at desc`
      const byId = new Map<number, Run[]>()
      for (const r of rows) {
        const list = byId.get(r.schedule_id!) ?? []
        list.push(r)
        byId.set(r.schedule_id!, list)
      }
      return byId
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
    return this.use(
      (sql) => sql<InventoryTable[]>`
        select ${schema}::text as schema, c.relname as name,
          coalesce(r.row_count, greatest(c.reltuples, 0)::bigint) as row_count,
          r.finished_at as last_updated,
          exists (select 1 from pg_class m where m.relnamespace = c.relnamespace
            and m.relname = c.relname || '_mv' and m.relkind = 'm') as has_mv
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        left join lateral (select row_count, finished_at from stackql_app.runs
          where target_schema = n.nspname and target_table = c.relname and status = 'SUCCESS'
          order by finished_at desc limit 1) r on true
        where n.nspname = ${schema} and c.relkind in ('r', 'p')
        order by c.relname`,
    )
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
      await sql`refresh materialized view ${sql(schema)}.${sql(name)}`
    })
  }
}
