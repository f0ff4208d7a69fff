// DbService: every read and write of the app's metadata (queries, schedules, provider mappings,
// runs) and the inventory catalog. All SQL of the app lives in src/db/.
import { AppError } from '../errors.js'
import type {
  ProfileVariable,
  ProviderConfig,
  ProviderConfigInput,
  Query,
  QueryInput,
  Schedule,
  ScheduleInput,
  ScheduleView,
} from '../models.js'
import { assertIdentifierShape, assertTargetSchema, INVENTORY_SCHEMA } from './identifiers.js'
import * as profiles from './profiles.js'
import { ReadCache } from './read-cache.js'
import { refuseRemovingScheduledProfile } from './run-slices.js'
import { RunsAndInventory } from './runs-inventory.js'

export type { ProviderProfiles } from './profiles.js'
export type { RunStart } from './runs-inventory.js'

export type SchedulePatch = Partial<
  Pick<
    Schedule,
    | 'cron_expression'
    | 'target_schema'
    | 'target_table'
    | 'is_active'
    | 'job_id'
    | 'last_error'
    | 'shrink_guard_pct'
    | 'profiles'
    | 'key_columns'
  >
>

/** How long another process's change to the saved queries or provider mappings may take to show. */
export const LIST_MAX_AGE_MS = 2000
type ListKey = 'queries' | 'providers' | 'profiles'

function assertId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new AppError('NOT_FOUND', `${what} ${String(id)} does not exist.`)
  }
  return id
}

/** Every read and write of the app's data: queries, schedules and provider mappings here; runs and the
 * inventory catalog in RunsAndInventory; the pool and error mapping in DbBase. */
export class DbService extends RunsAndInventory {
  /**
   * The saved-query list and the mapped providers, which every IDE page view reads: kept for
   * LIST_MAX_AGE_MS, forgotten at once when this process changes them. While the database is marked
   * down every read goes to it, so the banner and the 503s reflect the outage.
   */
  private readonly lists = new ReadCache(LIST_MAX_AGE_MS)

  private cachedList<T>(key: ListKey, load: () => Promise<T>): Promise<T> {
    return this.health.status.up ? this.lists.get(key, load) : load()
  }

  /** Runs a write, then forgets the cached lists it may change (also when it failed: it may have committed). */
  private async changing<T>(keys: ListKey[], write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } finally {
      this.lists.invalidate(...keys)
    }
  }

  // ---- queries -------------------------------------------------------------------------------

  /** All saved queries by name. The list is shared and frozen: copy it to change it. */
  async getQueries(): Promise<Query[]> {
    return this.cachedList('queries', () =>
      this.use((sql) => sql<Query[]>`select * from stackql_app.queries order by lower(name), id`),
    )
  }

  async getQuery(id: number): Promise<Query | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use(
      async (sql) => (await sql<Query[]>`select * from stackql_app.queries where id = ${id}`)[0] ?? null,
    )
  }

  async saveQuery(input: QueryInput, createdBy: string): Promise<Query> {
    return this.changing(['queries'], () =>
      this.use(async (sql) => {
        const [row] = await sql<Query[]>`
        insert into stackql_app.queries (name, description, query_text, provider, created_by)
        values (${input.name}, ${input.description ?? ''}, ${input.query_text}, ${input.provider}, ${createdBy})
        returning *`
        return row!
      }),
    )
  }

  async updateQuery(id: number, input: QueryInput): Promise<Query> {
    assertId(id, 'Query')
    return this.changing(['queries'], () =>
      this.use(async (sql) => {
        const [row] = await sql<Query[]>`
        update stackql_app.queries set name = ${input.name}, description = ${input.description ?? ''},
          query_text = ${input.query_text}, provider = ${input.provider}, updated_at = now()
        where id = ${id} returning *`
        if (!row) throw new AppError('NOT_FOUND', `Query ${id} does not exist.`)
        return row
      }),
    )
  }

  /** Refuses while schedules use the query: delete those schedules first. */
  async deleteQuery(id: number): Promise<void> {
    assertId(id, 'Query')
    return this.changing(['queries'], () =>
      this.use(async (sql) => {
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
      }),
    )
  }

  // ---- schedules -----------------------------------------------------------------------------

  async getSchedules(): Promise<ScheduleView[]> {
    return this.use(
      (sql) => sql<ScheduleView[]>`
        select s.*, q.name as query_name, q.provider from stackql_app.schedules s
        join stackql_app.queries q on q.id = s.query_id order by s.id`,
    )
  }

  /** One schedule as the Schedules page lists it (a polled row), or null. */
  async getScheduleView(id: number): Promise<ScheduleView | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null
    return this.use(
      async (sql) =>
        (
          await sql<ScheduleView[]>`
            select s.*, q.name as query_name, q.provider from stackql_app.schedules s
            join stackql_app.queries q on q.id = s.query_id where s.id = ${id}`
        )[0] ?? null,
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

  async saveSchedule(input: ScheduleInput, createdBy?: string): Promise<Schedule> {
    const schema = assertTargetSchema(input.target_schema ?? INVENTORY_SCHEMA)
    const table = assertIdentifierShape(input.target_table, 'table')
    return this.use(async (sql) => {
      const [row] = await sql<Schedule[]>`
        insert into stackql_app.schedules (query_id, cron_expression, target_schema, target_table, shrink_guard_pct, profiles, key_columns, created_by)
        values (${input.query_id}, ${input.cron_expression}, ${schema}, ${table}, ${input.shrink_guard_pct ?? null},
          ${input.profiles?.length ? sql.array(input.profiles) : null}, ${input.key_columns?.length ? input.key_columns : null}::text[], ${createdBy ?? null})
        returning *`
      return row!
    })
  }

  async updateSchedule(id: number, patch: SchedulePatch): Promise<Schedule> {
    assertId(id, 'Schedule')
    const { profiles, ...rest } = patch
    const changes: Record<string, string | number | boolean | null | string[]> = { ...rest }
    if (profiles !== undefined) changes.profiles = profiles?.length ? profiles : null
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

  // ---- provider config (mappings of profiles, profile variables: SQL in profiles.ts) ---------

  async getProviderConfig(): Promise<ProviderConfig[]> {
    return this.use((sql) => profiles.allMappings(sql))
  }

  /** Every mapping of one provider, of all its profiles (callers pick the profile). */
  async getProviderConfigFor(provider: string): Promise<ProviderConfig[]> {
    return this.use((sql) => profiles.mappingsOf(sql, provider))
  }

  async getProviderConfigById(id: number): Promise<ProviderConfig | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use(
      async (sql) =>
        (await sql<ProviderConfig[]>`select * from stackql_app.provider_config where id = ${id}`)[0] ?? null,
    )
  }

  /** Distinct providers that have at least one credential mapping. */
  async getProviders(): Promise<string[]> {
    return this.cachedList('providers', () =>
      this.use(async (sql) =>
        (
          await sql<
            { provider: string }[]
          >`select distinct provider from stackql_app.provider_config order by provider`
        ).map((r) => r.provider),
      ),
    )
  }

  /**
   * Every provider with its profiles, mappings and variables (the Providers page, the IDE picker).
   * Shared and frozen (the outer list and its rows): copy before changing.
   */
  async getProviderProfiles(): Promise<profiles.ProviderProfiles[]> {
    return this.cachedList('profiles', () => this.use((sql) => profiles.providerProfiles(sql)))
  }

  async getProfileVariablesFor(provider: string): Promise<ProfileVariable[]> {
    return this.use((sql) => profiles.variablesOf(sql, provider))
  }

  async getProfileVariableById(id: number): Promise<ProfileVariable | null> {
    if (!Number.isSafeInteger(id) || id < 1) return Promise.resolve(null)
    return this.use((sql) => profiles.variableById(sql, id))
  }

  async saveProviderConfig(input: ProviderConfigInput, createdBy: string): Promise<ProviderConfig> {
    const row = { ...input, profile: input.profile ?? 'default' }
    return this.changing(['providers', 'profiles'], () =>
      this.use((sql) => profiles.insertMapping(sql, row, createdBy)),
    )
  }

  async deleteProviderConfig(id: number): Promise<void> {
    assertId(id, 'Provider mapping')
    return this.changing(['providers', 'profiles'], () =>
      this.use(async (sql) => {
        await refuseRemovingScheduledProfile(sql, id)
        const deleted = await sql`delete from stackql_app.provider_config where id = ${id}`
        if (deleted.count === 0) throw new AppError('NOT_FOUND', `Provider mapping ${id} does not exist.`)
      }),
    )
  }

  /** Sets (adds or replaces) a profile variable. Names and values are checked by the caller. */
  async setProfileVariable(
    v: Pick<ProfileVariable, 'provider' | 'profile' | 'name' | 'value'>,
    createdBy: string,
  ): Promise<ProfileVariable> {
    return this.changing(['profiles'], () => this.use((sql) => profiles.upsertVariable(sql, v, createdBy)))
  }

  async deleteProfileVariable(id: number): Promise<void> {
    assertId(id, 'Profile variable')
    return this.changing(['profiles'], () =>
      this.use(async (sql) => {
        if ((await profiles.deleteVariable(sql, id)) === 0) {
          throw new AppError('NOT_FOUND', `Profile variable ${id} does not exist.`)
        }
      }),
    )
  }
}
