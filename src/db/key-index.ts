// The writer's index on a keyed inventory table's key. A run that the digests narrowed compares
// only the rows whose key it staged (or whose key went): with the index the comparison looks those
// rows up instead of scanning the table (200k rows: ~160 ms -> ~40 ms), so it scales with the churn.
// A HASH index on ONE key column — the first that is not the profile column (`_profile` alone
// would not narrow much): a hash index has no entry size limit (a btree refuses entries over ~2.7 kB,
// which would fail a write whose key is a long text or a JSON value), and one column narrows the
// lookup enough. Not unique: the writer checks the keys itself, with a message naming duplicates.
// Named `stackql_key_<hash of the table name>`, created when missing or when the column changed (a
// widened key column loses it with the old column: the same write recreates it), dropped when the
// schedule has no keys any more. Creating it takes a SHARE lock until COMMIT: other writers wait
// (they do anyway, on the writer's advisory lock), readers do not.
import { hashOf } from './column-names.js'
import type { Sql } from './connect.js'

function keyIndexName(table: string): string {
  return `stackql_key_${hashOf(table, 16)}`
}

/** The key columns of the writer's index on schema.table, or null when there is none. */
export async function keyIndexColumns(tx: Sql, schema: string, table: string): Promise<string[] | null> {
  const [row] = await tx<{ cols: string[] }[]>`
    select array(select a.attname::text from unnest(i.indkey) with ordinality k(attnum, ord)
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.ord) as cols
    from pg_index i
    join pg_class c on c.oid = i.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class r on r.oid = i.indrelid
    where n.nspname = ${schema} and c.relname = ${keyIndexName(table)} and r.relname = ${table}`
  return row ? row.cols : null
}

/** The column the index goes on: the first key column that is not the profile column, or none. */
export function indexedKeyColumn(keyColumns: string[], profileColumn: string | null): string | null {
  return keyColumns.find((k) => k !== profileColumn) ?? null
}

/** Makes the index match `column` (a table column); drops it when null. */
export async function ensureKeyIndex(
  tx: Sql,
  schema: string,
  table: string,
  column: string | null,
): Promise<void> {
  const current = await keyIndexColumns(tx, schema, table)
  if (current && column !== null && current.join('\n') === column) return
  const name = keyIndexName(table)
  if (current) await tx`drop index ${tx(schema)}.${tx(name)}`
  if (column === null) return
  await tx`create index ${tx(name)} on ${tx(schema)}.${tx(table)} using hash (${tx(column)})`
  // Without statistics the planner guesses that a lookup of a few thousand keys matches half the
  // table and scans it instead of using the index; the key column's (unique values) fix that, and
  // autovacuum keeps them current from then on.
  await tx`analyze ${tx(schema)}.${tx(table)} (${tx(column)})`
}
