// Widening an inventory column without ALTER COLUMN TYPE (which rewrites the table and is not MVCC-safe).
import { AppError } from '../errors.js'
import type { Sql } from './connect.js'

/**
 * Widens `column` without rewriting the table (ALTER COLUMN TYPE would, and a REPEATABLE READ reader
 * whose snapshot predates the commit would then see the table empty): a new column of the wider type
 * is added, the old one dropped and the new one renamed — catalog changes only when the rows were
 * deleted by this transaction; when rows stay (`keepValues`), their values are copied over first. The limit, documented in ARCHITECTURE.md:
 * such an older snapshot still sees all its rows, but the widened column reads NULL in them (it
 * resolves the column by the current catalog), and the column moves to the end of the table.
 */
export async function widen(
  tx: Sql,
  target: { schema: string; table: string },
  column: string,
  from: string,
  to: string,
  existing: ReadonlyMap<string, string>,
  keepValues: boolean,
): Promise<void> {
  const { schema, table } = target
  let temp = `${column.slice(0, 50)}__widen`
  for (let n = 2; existing.has(temp); n++) temp = `${column.slice(0, 50)}__widen${n}`
  try {
    if (keepValues) {
      // Rows stay (a slice or a delta write): their values move into the wider column. double ->
      // numeric goes through the shortest text so no stored digit changes.
      const via = from === 'double precision' && to === 'numeric' ? tx`::text` : tx``
      await tx`alter table ${tx(schema)}.${tx(table)} add column ${tx(temp)} ${tx.unsafe(to)}`
      await tx`update ${tx(schema)}.${tx(table)} set ${tx(temp)} = ${tx(column)}${via}::${tx.unsafe(to)}
        where ${tx(column)} is not null`
      await tx`alter table ${tx(schema)}.${tx(table)} drop column ${tx(column)} restrict`
    } else {
      await tx`alter table ${tx(schema)}.${tx(table)} add column ${tx(temp)} ${tx.unsafe(to)},
        drop column ${tx(column)} restrict`
    }
    await tx`alter table ${tx(schema)}.${tx(table)} rename column ${tx(temp)} to ${tx(column)}`
  } catch (e) {
    const err = e as { code?: string; detail?: string }
    if (err.code === '2BP01' || err.code === '0A000') {
      throw new AppError(
        'CONFLICT',
        `Column ${column} of ${schema}.${table} must widen from ${from} to ${to} for the new data, but a view depends on it (${(err.detail ?? 'see pg_depend').replace(/\s+/g, ' ')}). Drop the view, let the run widen the column, then recreate the view. The previous data is kept.`,
        { cause: e },
      )
    }
    throw e
  }
}
