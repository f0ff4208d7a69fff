// The audit log's SQL (stackql_app.audit), the owners of queries and schedules that the access rules
// ask about, and the profile permissions table.
import type { Sql } from './connect.js'

export type AuditOutcome = 'started' | 'ok' | 'failed' | 'denied'

export interface AuditRow {
  id: number
  at: Date
  user_email: string
  role: string
  request_id: string
  action: string
  outcome: AuditOutcome
  status: number | null
  details: Record<string, unknown>
}

export interface AuditStart {
  user: string
  role: string
  requestId: string
  action: string
  outcome: AuditOutcome
  status?: number
  details: Record<string, unknown>
}

export interface AuditFilter {
  user?: string
  action?: string
  outcome?: string
  from?: Date
  to?: Date
}

interface Uses {
  use<T>(fn: (sql: Sql) => Promise<T>): Promise<T>
}

type Json = Parameters<Sql['json']>[0]

/** PostgreSQL's jsonb cannot hold U+0000: a NUL typed into a form is recorded as U+FFFD. */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll(String.fromCharCode(0), '\ufffd')
  if (Array.isArray(value)) return value.map(storable)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k) as string, storable(v)]))
  }
  return value
}

export class AuditStore {
  constructor(private readonly db: Uses) {}

  async record(entry: AuditStart): Promise<number> {
    return this.db.use(async (sql) => {
      const [row] = await sql<{ id: string }[]>`
        insert into stackql_app.audit (user_email, role, request_id, action, outcome, status, details)
        values (${entry.user}, ${entry.role}, ${entry.requestId}, ${entry.action}, ${entry.outcome},
                ${entry.status ?? null}, ${sql.json(storable(entry.details) as Json)})
        returning id`
      return Number(row!.id)
    })
  }

  /** Sets the outcome of a started row and merges `details` into its details. */
  async finish(id: number, outcome: AuditOutcome, status: number, details: Record<string, unknown>) {
    await this.db.use(
      (sql) => sql`
        update stackql_app.audit set outcome = ${outcome}, status = ${status},
          details = details || ${sql.json(storable(details) as Json)}
        where id = ${id}`,
    )
  }

  async list(
    filter: AuditFilter,
    limit: number,
    offset: number,
  ): Promise<{ rows: AuditRow[]; total: number }> {
    return this.db.use(async (sql) => {
      const where = sql`
        where true
        ${filter.user ? sql`and user_email ilike ${`%${escapeLike(filter.user)}%`}` : sql``}
        ${filter.action ? sql`and action = ${filter.action}` : sql``}
        ${filter.outcome ? sql`and outcome = ${filter.outcome}` : sql``}
        ${filter.from ? sql`and at >= ${filter.from}` : sql``}
        ${filter.to ? sql`and at < ${filter.to}` : sql``}`
      const [count] = await sql<{ n: string }[]>`select count(*) as n from stackql_app.audit ${where}`
      const rows = await sql<AuditRow[]>`
        select id::int as id, at, user_email, role, request_id, action, outcome, status, details
        from stackql_app.audit ${where} order by at desc, id desc limit ${limit} offset ${offset}`
      return { rows, total: Number(count!.n) }
    })
  }

  /** The actions the log holds, in order: each the next one after the last, by audit_action_idx. */
  async actions(): Promise<string[]> {
    return this.db.use(async (sql) =>
      (
        await sql<{ action: string }[]>`
          with recursive a (action) as (
            (select action from stackql_app.audit order by action limit 1)
            union all
            select (select b.action from stackql_app.audit b where b.action > a.action order by b.action limit 1)
            from a where a.action is not null)
          select action from a where action is not null`
      ).map((r) => r.action),
    )
  }

  /** Deletes rows older than `days` days; returns how many. */
  async prune(days: number): Promise<number> {
    return this.db.use(async (sql) => {
      const deleted =
        await sql`delete from stackql_app.audit where at < now() - make_interval(days => ${days})`
      return deleted.count
    })
  }

  /** Who created a saved query, or null when there is no such query. */
  async queryOwner(id: number): Promise<string | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null
    return this.db.use(
      async (sql) =>
        (await sql<{ o: string }[]>`select created_by as o from stackql_app.queries where id = ${id}`)[0]
          ?.o ?? null,
    )
  }

  /** Who created a schedule (older schedules: the author of their query), or null. */
  async scheduleOwner(id: number): Promise<string | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null
    return this.db.use(
      async (sql) =>
        (
          await sql<{ o: string }[]>`
            select coalesce(s.created_by, q.created_by) as o from stackql_app.schedules s
            join stackql_app.queries q on q.id = s.query_id where s.id = ${id}`
        )[0]?.o ?? null,
    )
  }

  /** Every profile restriction (a small table): one request's ProfileGate is built from all of it. */
  async profileRestrictions(): Promise<{ provider: string; profile: string; principal: string }[]> {
    return this.db.use(
      (sql) => sql<{ provider: string; profile: string; principal: string }[]>`
        select provider, profile, principal from stackql_app.profile_permissions
        order by provider, profile, principal`,
    )
  }

  /** The provider of a saved query, or null when there is no such query. */
  async queryProvider(id: number): Promise<string | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null
    return this.db.use(
      async (sql) =>
        (await sql<{ p: string }[]>`select provider as p from stackql_app.queries where id = ${id}`)[0]?.p ??
        null,
    )
  }

  /** Which credentials a schedule runs with: its query's provider and its profiles, or null. */
  async scheduleUse(id: number): Promise<{ provider: string; profiles: string[] | null } | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null
    return this.db.use(
      async (sql) =>
        (
          await sql<{ provider: string; profiles: string[] | null }[]>`
            select q.provider, s.profiles from stackql_app.schedules s
            join stackql_app.queries q on q.id = s.query_id where s.id = ${id}`
        )[0] ?? null,
    )
  }
}

export interface ProfilePermission {
  provider: string
  profile: string
  principal: string
  created_by: string
  created_at: Date
}

export class ProfilePermissionStore {
  constructor(private readonly db: Uses) {}

  async list(): Promise<ProfilePermission[]> {
    return this.db.use(
      (sql) => sql<ProfilePermission[]>`
        select provider, profile, principal, created_by, created_at from stackql_app.profile_permissions
        order by provider, profile, principal`,
    )
  }

  /** Adds a principal; adding one that is already there changes nothing. */
  async add(provider: string, profile: string, principal: string, createdBy: string): Promise<void> {
    await this.db.use(
      (sql) => sql`
        insert into stackql_app.profile_permissions (provider, profile, principal, created_by)
        values (${provider}, ${profile}, ${principal}, ${createdBy}) on conflict do nothing`,
    )
  }

  /** Removes a principal; false when it was not there. */
  async remove(provider: string, profile: string, principal: string): Promise<boolean> {
    return this.db.use(async (sql) => {
      const deleted = await sql`
        delete from stackql_app.profile_permissions
        where provider = ${provider} and profile = ${profile} and principal = ${principal}`
      return deleted.count > 0
    })
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`)
}
