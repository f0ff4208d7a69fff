// Change records (history): reading a table's runs and a run's records for the Changes view, and
// pruning them after CHANGE_RETENTION_DAYS. They are written by the delta write (delta.ts).
import type { Sql } from './connect.js'

/** Deletes change records older than `days` days (CHANGE_RETENTION_DAYS); returns how many. */
export async function pruneChanges(sql: Sql, days: number): Promise<number> {
  if (!(days > 0)) return 0
  const r = await sql`delete from stackql_app.inventory_changes
    where changed_at < now() - make_interval(days => ${Math.floor(days)}::int)`
  return r.count
}

/** A run's change counts from its records (a for_each run: its iterations wrote them). */
export async function changeCountsOfRun(
  sql: Sql,
  runId: number,
): Promise<{ added: number; removed: number; modified: number }> {
  const counts = { added: 0, removed: 0, modified: 0 }
  for (const r of await sql<{ kind: keyof typeof counts; n: string }[]>`
    select change_kind as kind, count(*)::text as n from stackql_app.inventory_changes
    where run_id = ${runId} group by 1`)
    counts[r.kind] = Number(r.n)
  return counts
}

export interface ChangeRun {
  id: number
  started_at: Date
  status: string
  added_count: number | null
  removed_count: number | null
  modified_count: number | null
  changes_baseline: boolean | null
}

/** The last `limit` runs of a table with their change counts, newest first. */
export async function changeRuns(
  sql: Sql,
  schema: string,
  table: string,
  limit: number,
): Promise<ChangeRun[]> {
  return sql<ChangeRun[]>`
    select id::int as id, started_at, status, added_count::int as added_count, removed_count::int as removed_count,
      modified_count::int as modified_count, changes_baseline
    from stackql_app.runs where target_schema = ${schema} and target_table = ${table}
    order by started_at desc, id desc limit ${limit}`
}

export interface ChangeRecord {
  change_kind: 'added' | 'removed' | 'modified'
  profile: string | null
  row_key: Record<string, unknown> | null
  changed_columns: string[] | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  changed_at: Date
}

export interface ChangeFilter {
  schema: string
  table: string
  runId: number
  kind?: 'added' | 'removed' | 'modified'
  profile?: string
  limit: number
  offset: number
}

/** One page of a run's change records (kind, then key order), and how many match the filter. */
export async function readChanges(
  sql: Sql,
  f: ChangeFilter,
): Promise<{ total: number; records: ChangeRecord[] }> {
  const where = sql`where run_id = ${f.runId} and target_schema = ${f.schema} and target_table = ${f.table}
    ${f.kind ? sql`and change_kind = ${f.kind}` : sql``} ${f.profile ? sql`and profile = ${f.profile}` : sql``}`
  // One statement: a prune committing between a count and a page read cannot make them disagree.
  const rows = await sql<(ChangeRecord & { total: string })[]>`
    select change_kind, profile, row_key, changed_columns, before, after, changed_at, count(*) over ()::text as total
    from stackql_app.inventory_changes ${where}
    order by change_kind, row_key::text, id limit ${f.limit} offset ${f.offset}`
  const total = rows[0] ? Number(rows[0].total) : 0
  return { total, records: rows.map(({ total: _t, ...r }) => r) }
}

/** The profiles a run's change records name (for the filter). */
export async function changeProfiles(
  sql: Sql,
  schema: string,
  table: string,
  runId: number,
): Promise<string[]> {
  const rows = await sql<{ profile: string }[]>`
    select distinct profile from stackql_app.inventory_changes
    where run_id = ${runId} and target_schema = ${schema} and target_table = ${table} and profile is not null
    order by 1 limit 100`
  return rows.map((r) => r.profile)
}
