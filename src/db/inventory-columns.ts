// The inventory writer's view of columns: the run's columns and their inference kinds (gathered
// batch by batch, so a streamed result is never held whole), the scope rule of fan-out writes, and
// the target table's current columns.
import { AppError } from '../errors.js'
import type { Row } from '../models.js'
import type { Sql } from './connect.js'
import { joinKinds, keepsKind, type ValueKind, valueKindOf } from './inventory-types.js'
import { type InventoryData, passOver } from './row-source.js'

/** Column list (declared first, then keys seen only in rows) and each column's inference kind. */
export class ColumnInference {
  readonly sourceNames: string[]
  readonly kinds: (ValueKind | null)[]
  private readonly index: Map<string, number>
  rowCount = 0

  constructor(columns: readonly string[]) {
    this.sourceNames = [...columns]
    this.index = new Map(this.sourceNames.map((c, i) => [c, i]))
    this.kinds = this.sourceNames.map(() => null)
  }

  add(rows: readonly Row[]): void {
    const { sourceNames, index, kinds } = this
    for (const row of rows) {
      for (const key in row) {
        let i = index.get(key)
        if (i === undefined) {
          i = sourceNames.push(key) - 1
          index.set(key, i)
          kinds.push(null)
        }
        const k = kinds[i]!
        const v = row[key]
        if (k === null || !keepsKind(v, k)) kinds[i] = joinKinds(k, valueKindOf(v))
      }
    }
    this.rowCount += rows.length
  }
}

export type Scope = { column: string; values: string[] }

/** Every row of a scoped write must carry the scope column with one of the scope's values. */
export function checkScopeRows(
  rows: readonly Row[],
  scope: Scope,
  allowed: ReadonlySet<string>,
  where: string,
) {
  for (const row of rows) {
    const v = row[scope.column]
    if (v === null || v === undefined || !allowed.has(String(v))) {
      throw new AppError(
        'VALIDATION',
        `A row for ${where} has ${scope.column} = ${v === null || v === undefined ? 'NULL' : JSON.stringify(String(v)).slice(0, 100)}, outside the slices being replaced (${scope.values.join(', ').slice(0, 200)}); nothing was written.`,
      )
    }
  }
}

/**
 * The first pass of a write: columns and kinds, the scope checked on every row, and the scope
 * column added (as text when no row has a value).
 */
export async function surveyRows(
  data: InventoryData,
  scope: Scope | undefined,
  where: string,
): Promise<ColumnInference> {
  const inference = new ColumnInference(data.columns)
  const allowed = new Set(scope?.values ?? [])
  for await (const batch of passOver(data)) {
    inference.add(batch)
    if (scope) checkScopeRows(batch, scope, allowed, where)
  }
  if (scope && !inference.sourceNames.includes(scope.column)) {
    inference.sourceNames.push(scope.column)
    inference.kinds.push(null)
  }
  return inference
}

export async function existingColumns(
  sql: Sql,
  schema: string,
  table: string,
): Promise<Map<string, string> | null> {
  const [rel] = await sql<{ oid: string; relkind: string }[]>`
    select c.oid::int8::text as oid, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${table}`
  if (!rel) return null
  if (rel.relkind !== 'r' && rel.relkind !== 'p') {
    throw new AppError(
      'CONFLICT',
      `${schema}.${table} exists but is not a table (relkind ${rel.relkind}); choose another target table.`,
    )
  }
  const cols = await sql<{ name: string; type: string }[]>`
    select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${rel.oid}::int8::oid and attnum > 0 and not attisdropped order by attnum`
  return new Map(cols.map((c) => [c.name, c.type]))
}
