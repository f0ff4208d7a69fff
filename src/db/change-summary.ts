// Reads for "What changed": one run with its change counts and query, and a sample of its change
// records — the first `perKind` of each kind (key order), so a run with many additions still shows
// its removals. The summary itself is built in src/changes/what-changed.ts.
import type { ChangeRecord } from './changes.js'
import type { Sql } from './connect.js'

export interface ChangeSummaryRun {
  id: number
  schedule_id: number | null
  query_name: string | null
  target_schema: string
  target_table: string
  status: string
  started_at: Date
  finished_at: Date | null
  added_count: number | null
  removed_count: number | null
  modified_count: number | null
  changes_baseline: boolean | null
  key_columns: string[] | null
}

/** The run, or null when there is none with that id. */
export async function changeSummaryRun(sql: Sql, runId: number): Promise<ChangeSummaryRun | null> {
  const [run] = await sql<ChangeSummaryRun[]>`
    select r.id::int as id, r.schedule_id::int as schedule_id, q.name as query_name, r.target_schema,
      r.target_table, r.status, r.started_at, r.finished_at, r.added_count::int as added_count,
      r.removed_count::int as removed_count, r.modified_count::int as modified_count, r.changes_baseline,
      s.key_columns
    from stackql_app.runs r
    left join stackql_app.queries q on q.id = r.query_id
    left join stackql_app.schedules s on s.id = r.schedule_id
    where r.id = ${runId}`
  return run ?? null
}

/** Up to `perKind` change records of each kind of one run (kind, then key order), in one statement. */
export async function changeSample(sql: Sql, runId: number, perKind: number): Promise<ChangeRecord[]> {
  return sql<ChangeRecord[]>`
    select change_kind, profile, row_key, changed_columns, before, after, changed_at from (
      select c.*, row_number() over (partition by change_kind order by row_key::text, id) as n
      from stackql_app.inventory_changes c where run_id = ${runId}) x
    where n <= ${perKind}
    order by change_kind, row_key::text, id`
}
