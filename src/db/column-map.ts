// The stored source-key -> column mapping of each inventory table (stackql_app.inventory_columns):
// read by the Inventory page, and read + extended by the writer inside its transaction so a key's
// values stay in the same column run after run. Naming rules: column-names.ts.

import { legacyColumnNames, nameNewKeys } from './column-names.js'
import type { Sql } from './connect.js'

export interface ColumnMapEntry {
  source_key: string
  column_name: string
  position: number
}

/** The mapping of one target table, in column order (empty for a table no run of this version wrote). */
export async function readColumnMap(sql: Sql, schema: string, table: string): Promise<ColumnMapEntry[]> {
  return sql<ColumnMapEntry[]>`
    select source_key, column_name, position from stackql_app.inventory_columns
    where target_schema = ${schema} and target_table = ${table} order by position, source_key`
}

/**
 * Column names for `keys` (same order), extending the stored mapping `stored` with entries for keys
 * seen for the first time and saving them (call inside the writer's transaction, under its lock).
 * A table made by the previous version (columns but no mapping yet) is adopted first: each key gets
 * the column the previous version's naming gave it, if that column exists; every other existing
 * column maps from a key equal to its name.
 */
export async function mapColumns(
  tx: Sql,
  target: { schema: string; table: string },
  keys: readonly string[],
  stored: readonly ColumnMapEntry[],
  existingColumns: ReadonlyMap<string, string> | null,
): Promise<{ names: string[]; added: ColumnMapEntry[] }> {
  const byKey = new Map(stored.map((e) => [e.source_key, e.column_name]))
  const usedNames = new Set(byKey.values())
  let position = stored.reduce((max, e) => Math.max(max, e.position), 0)
  const added: ColumnMapEntry[] = []
  const add = (key: string, name: string) => {
    byKey.set(key, name)
    usedNames.add(name)
    added.push({ source_key: key, column_name: name, position: ++position })
  }

  if (stored.length === 0 && existingColumns && existingColumns.size > 0) {
    const legacy = legacyColumnNames(keys)
    const adopted = new Map<string, string>()
    keys.forEach((key, i) => {
      const name = legacy[i]!
      if (existingColumns.has(name) && !usedNames.has(name) && !adopted.has(key)) {
        adopted.set(key, name)
        usedNames.add(name)
      }
    })
    usedNames.clear()
    // Table order, so the adopted mapping lists columns as the table does.
    const keyOf = new Map([...adopted].map(([k, n]) => [n, k]))
    for (const column of existingColumns.keys()) {
      const key = keyOf.get(column) ?? column
      if (!byKey.has(key)) add(key, column)
    }
  }

  const taken = new Set([...usedNames, ...(existingColumns?.keys() ?? [])])
  const fresh = nameNewKeys(
    keys.filter((k) => !byKey.has(k)),
    taken,
  )
  // New keys are numbered in result order (a display order only; the names above do not depend on it).
  for (const key of keys) {
    const name = fresh.get(key)
    if (name !== undefined && !byKey.has(key)) add(key, name)
  }
  if (added.length > 0) {
    await tx`insert into stackql_app.inventory_columns ${tx(
      added.map((e) => ({ target_schema: target.schema, target_table: target.table, ...e })),
      'target_schema',
      'target_table',
      'source_key',
      'column_name',
      'position',
    )}`
  }
  return { names: keys.map((k) => byKey.get(k)!), added }
}
