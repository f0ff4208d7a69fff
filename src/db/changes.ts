// The delta write and change records (history): the new rows are staged in a temporary table, compared
// with the table's current rows (within the scope) by key — or by whole content without keys — and
// only the difference is applied; one change record per added / removed / modified row is written in
// the same transaction. Reading and pruning change records is here too.
import { AppError } from '../errors.js'
import type { Sql } from './connect.js'

export interface DeltaPlan {
  schema: string
  table: string
  /** Every column of the table after this write's schema changes, in table order. */
  columns: string[]
  /** Table columns that identify a row; empty = the whole row is its identity. */
  keyColumns: string[]
  scope?: { column: string; values: string[] }
  /** Table column holding the profile of a row (fan-out), or null. */
  profileColumn: string | null
  record?: { runId: number; scheduleId: number | null }
  where: string
}

export interface ChangeCounts {
  added: number
  removed: number
  modified: number
}

export const STAGE_TABLE = 'stackql_delta_new'
const DIFF_TABLE = 'stackql_delta_diff'

/** A temporary table shaped like the target (dropped at COMMIT): the run's rows are copied in here. */
export async function createStage(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`create temp table ${tx(STAGE_TABLE)} (like ${tx(schema)}.${tx(table)}) on commit drop`
}

function keyExpr(tx: Sql, alias: string, keys: string[]) {
  const a = tx.unsafe(alias)
  const args = keys.reduce((acc, k, i) => tx`${acc}${i ? tx`, ` : tx``}${k}::text, ${a}.${tx(k)}`, tx``)
  return tx`jsonb_build_object(${args})`
}

/** Fails the run on NULL or duplicated key values in the staged rows (nothing is written). */
async function checkKeys(tx: Sql, plan: DeltaPlan): Promise<void> {
  const keys = plan.keyColumns
  if (keys.length === 0) return
  const anyNull = keys.reduce((acc, k, i) => tx`${acc}${i ? tx` or ` : tx``}n.${tx(k)} is null`, tx``)
  const [nulls] = await tx<
    { n: string }[]
  >`select count(*)::text as n from ${tx(STAGE_TABLE)} n where ${anyNull}`
  if (Number(nulls?.n) > 0) {
    throw new AppError(
      'VALIDATION',
      `${nulls?.n} row(s) for ${plan.where} have no value in the key column(s) ${keys.join(', ')}; choose key columns every row has. The previous snapshot is kept.`,
    )
  }
  const dups = await tx<{ key: unknown; n: string }[]>`
    select ${keyExpr(tx, 'n', keys)} as key, count(*)::text as n from ${tx(STAGE_TABLE)} n
    group by 1 having count(*) > 1 order by 2 desc limit 5`
  if (dups.length > 0) {
    const list = dups.map((d) => `${JSON.stringify(d.key)} (${d.n} rows)`).join(', ')
    throw new AppError(
      'VALIDATION',
      `The key column(s) ${keys.join(', ')} are not unique in this run's rows for ${plan.where}: ${list.slice(0, 600)}. Choose key columns that identify one row (add _profile for runs over several profiles). The previous snapshot is kept.`,
    )
  }
}

/**
 * Compares the staged rows with the table's rows in scope, applies the difference (delete removed,
 * update modified, insert added; unchanged rows are not touched) and writes the change records.
 * Call inside the writer's transaction, under its lock, after the rows were copied into the stage.
 */
export async function applyDelta(tx: Sql, plan: DeltaPlan): Promise<ChangeCounts> {
  // Temporary tables have no statistics until analysed: without them the joins below plan badly.
  await tx`analyze ${tx(STAGE_TABLE)}`
  await checkKeys(tx, plan)
  const target = tx`${tx(plan.schema)}.${tx(plan.table)}`
  const scoped = plan.scope
    ? tx`where t.${tx(plan.scope.column)}::text = any(${plan.scope.values}::text[])`
    : tx``
  const keyed = plan.keyColumns.length > 0
  // Without keys the identity is the content itself, numbered so identical rows pair up one to one.
  const key = (alias: string) =>
    keyed
      ? keyExpr(tx, alias, plan.keyColumns)
      : tx`jsonb_build_array(to_jsonb(${tx.unsafe(alias)}), row_number() over (partition by to_jsonb(${tx.unsafe(alias)})))`
  // jsonb equality ignores key order inside values, so a reordered object is not a modification.
  await tx`create temp table ${tx(DIFF_TABLE)} on commit drop as
    with o as (select t.ctid as c, to_jsonb(t) as doc, ${key('t')} as k from ${target} t ${scoped}),
         n as (select s.ctid as c, to_jsonb(s) as doc, ${key('s')} as k from ${tx(STAGE_TABLE)} s)
    select case when o.c is null then 'added' when n.c is null then 'removed' else 'modified' end as kind,
           o.c as oc, n.c as nc, coalesce(n.k, o.k) as k, o.doc as before, n.doc as after
    from o full join n on o.k = n.k
    where o.c is null or n.c is null or o.doc <> n.doc`
  await tx`analyze ${tx(DIFF_TABLE)}`
  const counts: ChangeCounts = { added: 0, removed: 0, modified: 0 }
  for (const r of await tx<{ kind: keyof ChangeCounts; n: string }[]>`
    select kind, count(*)::text as n from ${tx(DIFF_TABLE)} group by kind`)
    counts[r.kind] = Number(r.n)
  if (counts.removed > 0)
    await tx`delete from ${target} where ctid = any(array(select oc from ${tx(DIFF_TABLE)} where kind = 'removed'))`
  if (counts.modified > 0) {
    const set = plan.columns.reduce((acc, c, i) => tx`${acc}${i ? tx`, ` : tx``}${tx(c)} = n.${tx(c)}`, tx``)
    await tx`update ${target} t set ${set} from ${tx(STAGE_TABLE)} n, ${tx(DIFF_TABLE)} d
      where d.kind = 'modified' and t.ctid = d.oc and n.ctid = d.nc`
  }
  if (counts.added > 0) {
    await tx`insert into ${target} (${tx(plan.columns)}) select ${tx(plan.columns)} from ${tx(STAGE_TABLE)}
      where ctid = any(array(select nc from ${tx(DIFF_TABLE)} where kind = 'added'))`
  }
  if (plan.record && counts.added + counts.removed + counts.modified > 0) {
    const { runId, scheduleId } = plan.record
    await tx`insert into stackql_app.inventory_changes
      (run_id, schedule_id, target_schema, target_table, change_kind, profile, row_key, changed_columns, before, after)
      select ${runId}, ${scheduleId}, ${plan.schema}, ${plan.table}, d.kind,
        coalesce(d.after, d.before) ->> ${plan.profileColumn}::text, ${keyed ? tx`d.k` : tx`null::jsonb`},
        case when d.kind = 'modified' then array(
          select u.c from unnest(${plan.columns}::text[]) with ordinality u(c, i)
          where d.before -> u.c is distinct from d.after -> u.c order by u.i) end,
        d.before, d.after
      from ${tx(DIFF_TABLE)} d`
  }
  return counts
}

/** Deletes change records older than `days` days (CHANGE_RETENTION_DAYS); returns how many. */
export async function pruneChanges(sql: Sql, days: number): Promise<number> {
  if (!(days > 0)) return 0
  const r = await sql`delete from stackql_app.inventory_changes
    where changed_at < now() - make_interval(days => ${Math.floor(days)}::int)`
  return r.count
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
