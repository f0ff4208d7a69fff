// Catalog comments on inventory tables (issue: day-one content): the runner describes each table it
// writes — query, description, statement, schedule, last run — and each column — the provider's field
// description when the explorer's metadata cache knows it, else "from <resource>" — so Unity Catalog
// users and Genie see what a column means. Read back for the Inventory page's column list.
import type { Sql } from './connect.js'

/** COMMENT takes no bind parameters: a standard SQL string literal (quotes doubled). */
const literal = (text: string) => `'${text.replaceAll('\0', '').replaceAll("'", "''")}'`
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`

export interface TableComments {
  table: string
  /** Column name -> comment (columns not named keep theirs). */
  columns: Map<string, string>
}

/** Writes the comments in one transaction (a short catalog update, not part of the snapshot write). */
export async function writeTableComments(
  sql: Sql,
  target: { schema: string; table: string },
  comments: TableComments,
): Promise<void> {
  const rel = `${ident(target.schema)}.${ident(target.table)}`
  await sql.begin(async (t) => {
    const tx = t as unknown as Sql
    await tx.unsafe(`comment on table ${rel} is ${literal(comments.table)}`)
    for (const [column, text] of comments.columns)
      await tx.unsafe(`comment on column ${rel}.${ident(column)} is ${literal(text)}`)
  })
}

/** Field name -> description from the cached `DESCRIBE EXTENDED <resource>` rows (any provider version). */
export async function cachedFieldDescriptions(sql: Sql, resources: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (resources.length === 0) return out
  const statements = resources.map((r) => `DESCRIBE EXTENDED ${r}`)
  const rows = await sql<{ payload: { name?: unknown; description?: unknown }[] }[]>`
    select payload from stackql_app.metadata_cache where statement = any(${statements}::text[])
    order by fetched_at desc`
  for (const { payload } of rows) {
    for (const field of Array.isArray(payload) ? payload : []) {
      const name = typeof field.name === 'string' ? field.name : ''
      const text = typeof field.description === 'string' ? field.description.trim() : ''
      if (name && text && !out.has(name)) out.set(name, text.slice(0, 1000))
    }
  }
  return out
}

/** The table's columns with their type and comment, in table order. */
export async function columnComments(
  sql: Sql,
  schema: string,
  table: string,
): Promise<{ name: string; type: string; comment: string | null }[]> {
  return sql<{ name: string; type: string; comment: string | null }[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, col_description(c.oid, a.attnum) as comment
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = ${schema} and c.relname = ${table} order by a.attnum`
}
