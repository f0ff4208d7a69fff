// Refreshing `<table>_mv` views: CONCURRENTLY (readers keep reading) when the view is populated and
// has a plain unique index, else a plain refresh. Used by the writer after each run and by the
// Inventory page's Refresh button. The view name must already be validated by the caller.
import type { Sql } from './connect.js'

/** Refreshes schema.view if it is a materialised view; returns its name, or null when there is none. */
export async function refreshViewIfExists(sql: Sql, schema: string, view: string): Promise<string | null> {
  const [mv] = await sql<{ populated: boolean; unique: boolean }[]>`
    select c.relispopulated as populated,
      exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisunique
        and i.indpred is null and i.indexprs is null) as unique
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${view} and c.relkind = 'm'`
  if (!mv) return null
  if (mv.populated && mv.unique) {
    await sql`refresh materialized view concurrently ${sql(schema)}.${sql(view)}`
  } else {
    await sql`refresh materialized view ${sql(schema)}.${sql(view)}`
  }
  return view
}
