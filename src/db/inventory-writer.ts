// Writes a query result into <schema>.<table> with REPLACE semantics, atomically, keeping the
// table's identity so `<table>_mv` and other dependents survive. Type rules: inventory-types.ts;
// which column a key goes to: column-names.ts / column-map.ts (stored, reused every run).
//
// Design: ONE transaction does everything —
//   1. lock_timeout / statement_timeout for this transaction, then a transaction-scoped advisory lock
//      on the target (schema.table) serialises writers of the same table; writers of other tables of
//      the schema do not wait (only the first creation of a schema takes a schema lock);
//   2. `DELETE FROM` the table (MVCC: readers keep seeing the old rows and are never blocked),
//      overlapped with the column-type inference in this process;
//   3. the stored key -> column mapping is read and extended for new keys (saved in this transaction);
//      the schema is created if missing, the table created on the first run, new columns added,
//      columns whose values no longer fit widened WITHOUT a table rewrite (see widen());
//      vanished columns are kept (NULL);
//   4. the rows are streamed in with `COPY ... FROM STDIN` (text format), straight into the table;
//   5. `<table>_mv` is refreshed if it exists (CONCURRENTLY when it has a unique index);
//   6. COMMIT — readers switch from the old snapshot to the new one at once.
// A failure, a cancel (checked before COMMIT, also when there are no rows to copy), or the process
// being killed leaves the previous snapshot untouched: nothing is visible before COMMIT.
// DELETE instead of TRUNCATE, and add-and-swap instead of ALTER COLUMN TYPE: both TRUNCATE and a
// rewriting ALTER are not MVCC-safe (a REPEATABLE READ reader with an older snapshot would see an empty
// table). Schema changes take an ACCESS EXCLUSIVE lock, so on such runs readers wait until COMMIT.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError, isAppError } from '../errors.js'
import type { Row } from '../models.js'
import { type ColumnMapEntry, mapColumns, readColumnMap } from './column-map.js'
import type { Sql } from './connect.js'
import { encodeRows } from './copy-encoding.js'
import { assertIdentifierShape, assertTargetSchema } from './identifiers.js'
import {
  columnKind,
  fitsExisting,
  joinKinds,
  keepsKind,
  SQL_TYPE,
  type ValueKind,
  valueKindOf,
  widenedType,
} from './inventory-types.js'
import { widen } from './inventory-widen.js'
import { refreshViewIfExists } from './materialised-views.js'

export interface InventoryTarget {
  schema: string
  table: string
}

export interface InventoryData {
  /** Result column names in order; keys found only in rows are appended. */
  columns: readonly string[]
  rows: readonly Row[]
}

export interface WriteOptions {
  /** Aborting rolls the write back (the previous snapshot stays), also for an empty result. */
  signal?: AbortSignal
  /** Rows per COPY chunk written to the socket. */
  batchRows?: number
  /** How long the write waits for a lock (another writer of the target, a reader blocking a schema change). */
  lockTimeoutMs?: number
  /** How long any one statement of the write may run (the COPY included). */
  statementTimeoutMs?: number
  /**
   * Replace only a slice of the table: the rows whose `column` value is one of `values` are replaced
   * by `data` (whose rows all carry that column, with one of those values); rows with other values are
   * untouched. A fan-out run replaces the slices that succeeded and keeps the rows of failed slices.
   * The column is created as text when missing.
   */
  scope?: { column: string; values: string[] }
  /** Source keys whose values identify a row (unique, non-NULL); without keys the whole row is its identity. */
  keys?: string[]
  /** Write change records for this run (none are written without it). */
  record?: { runId: number; scheduleId: number | null }
  /** false: leave `<table>_mv` alone (a for_each iteration; its finish task refreshes it once). */
  refreshView?: boolean
}

/** Defaults of INVENTORY_LOCK_TIMEOUT_MS / INVENTORY_STATEMENT_TIMEOUT_MS (src/config.ts). */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000
export const DEFAULT_STATEMENT_TIMEOUT_MS = 600_000

export interface WriteResult {
  rowCount: number
  /** Every column of the table after the write, in table order, with its SQL type. */
  columns: { name: string; type: string }[]
  /** Result column name -> table column name, for the names that differ (from the stored mapping). */
  renamed: Record<string, string>
  /** Mapping entries this write created (new keys; a whole table's when a previous version made it). */
  mappedColumns: ColumnMapEntry[]
  /** Columns widened by this write. */
  widened: { column: string; from: string; to: string }[]
  /** `<table>_mv` when it existed and was refreshed. */
  refreshedView: string | null
  /** What the write changed (within the scope); `baseline` on a table's first write (counts only). */
  changes?: { added: number; removed: number; modified: number; baseline: boolean }
}

const LOCK_CLASS = 0x5354_4b57 // "STKW": one lock per target table
const SCHEMA_LOCK_CLASS = 0x5354_4b53 // "STKS": only while a missing schema is created
const CONNECTION_CODES =
  /^(08|57P0|53300)|^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_)/

/** Replaces the contents of `target` with `data`. Throws AppError; the old data is kept on any failure. */
export async function writeInventory(
  sql: Sql,
  target: InventoryTarget,
  data: InventoryData,
  opts: WriteOptions = {},
): Promise<WriteResult> {
  const schema = assertTargetSchema(target.schema)
  const table = assertIdentifierShape(target.table, 'table')
  const where = `${schema}.${table}`
  const { signal } = opts
  const lockMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
  const statementMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS
  signal?.throwIfAborted()
  try {
    return await sql.begin(async (t) => {
      const tx = t as unknown as Sql
      await tx`select set_config('timezone', 'UTC', true), set_config('lock_timeout', ${String(lockMs)}, true),
        set_config('statement_timeout', ${String(statementMs)}, true)`
      await tx`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${where}))`
      signal?.throwIfAborted()
      await ensureSchema(tx, schema)

      const existing = await existingColumns(tx, schema, table)
      const scope = opts.scope
      // The DELETE and the mapping read (which do not depend on the new columns) run on the server
      // while this process infers the column types: the two biggest costs of a replace overlap.
      const deleting = existing && !scope ? tx`delete from ${tx(schema)}.${tx(table)}`.execute() : undefined
      deleting?.catch(() => {})
      const storedMap = readColumnMap(tx, schema, table)
      storedMap.catch(() => {})
      // postgres.js sends a query from a setImmediate queued after a microtask; two turns of the
      // check phase make sure the DELETE is on the wire before the inference blocks this thread.
      await new Promise((r) => setImmediate(() => setImmediate(r)))
      const { sourceNames, kinds } = inferColumns(data)
      if (scope) checkScope(data, scope, sourceNames, kinds, where)
      await deleting
      const mapped = await mapColumns(tx, { schema, table }, sourceNames, await storedMap, existing)
      const names = mapped.names
      signal?.throwIfAborted()

      const widened: WriteResult['widened'] = []
      const plan = names.map((name, i) => ({ name, kind: kinds[i]!, current: existing?.get(name) }))
      if (!existing) {
        const defs = plan.reduce(
          (acc, c, i) =>
            tx`${acc}${i ? tx`, ` : tx``}${tx(c.name)} ${tx.unsafe(SQL_TYPE[columnKind(c.kind) ?? 'text'])}`,
          tx``,
        )
        await tx`create table ${tx(schema)}.${tx(table)} (${defs})`
      } else {
        for (const c of plan) {
          if (c.current === undefined) {
            await tx`alter table ${tx(schema)}.${tx(table)} add column ${tx(c.name)} ${tx.unsafe(SQL_TYPE[columnKind(c.kind) ?? 'text'])}`
          } else if (!fitsExisting(c.current, c.kind)) {
            const to = SQL_TYPE[widenedType(c.current, c.kind)]
            await widen(tx, { schema, table }, c.name, c.current, to, existing, !!scope)
            widened.push({ column: c.name, from: c.current, to })
          }
        }
      }

      const schemaChanged = !existing || widened.length > 0 || plan.some((c) => c.current === undefined)
      const finalColumns = schemaChanged ? (await existingColumns(tx, schema, table))! : existing
      if (existing && scope) {
        const column = names[sourceNames.indexOf(scope.column)]!
        await tx`delete from ${tx(schema)}.${tx(table)} where ${tx(column)}::text = any(${scope.values}::text[])`
      }
      const textColumns = new Set<number>()
      names.forEach((n, i) => {
        if (finalColumns.get(n) === 'text') textColumns.add(i)
      })
      let rowCount = 0
      if (names.length > 0 && data.rows.length > 0) {
        const copy = await tx`copy ${tx(schema)}.${tx(table)} (${tx(names)}) from stdin`.writable()
        const lines = Readable.from(encodeRows(data.rows, sourceNames, textColumns, opts.batchRows ?? 2000))
        await pipeline(lines, copy, signal ? { signal } : {})
        rowCount = data.rows.length
      }
      const refreshedView =
        opts.refreshView === false ? null : await refreshViewIfExists(tx, schema, `${table}_mv`)
      // The last chance to keep the previous snapshot: a cancel that came in after the rows (or with
      // no rows to copy at all) must not commit.
      signal?.throwIfAborted()
      return {
        rowCount,
        columns: [...finalColumns].map(([name, type]) => ({ name, type })),
        renamed: Object.fromEntries(
          sourceNames.map((s, i) => [s, names[i]!] as const).filter(([s, n]) => s !== n),
        ),
        mappedColumns: mapped.added,
        widened,
        refreshedView,
      }
    })
  } catch (e) {
    throw asWriteError(e, where, opts)
  }
}

/** Creates a missing schema; concurrent first writers of one schema queue on a schema lock. */
async function ensureSchema(tx: Sql, schema: string): Promise<void> {
  const exists = async () => (await tx`select 1 from pg_namespace where nspname = ${schema}`).length > 0
  if (await exists()) return
  await tx`select pg_advisory_xact_lock(${SCHEMA_LOCK_CLASS}, hashtext(${schema}))`
  if (!(await exists())) await tx`create schema ${tx(schema)}`
}

/**
 * One pass over the rows: the column list (declared first, then keys seen only in rows) and each
 * column's inference kind.
 */
export function inferColumns(data: InventoryData): { sourceNames: string[]; kinds: (ValueKind | null)[] } {
  const sourceNames = [...data.columns]
  const index = new Map(sourceNames.map((c, i) => [c, i]))
  const kinds: (ValueKind | null)[] = sourceNames.map(() => null)
  for (const row of data.rows) {
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
  return { sourceNames, kinds }
}

/** The scope column joins the columns (as text when no row has a value); every row must be in the scope. */
function checkScope(
  data: InventoryData,
  scope: NonNullable<WriteOptions['scope']>,
  sourceNames: string[],
  kinds: (ValueKind | null)[],
  where: string,
): void {
  if (!sourceNames.includes(scope.column)) {
    sourceNames.push(scope.column)
    kinds.push(null)
  }
  const allowed = new Set(scope.values)
  for (const row of data.rows) {
    const v = row[scope.column]
    if (v === null || v === undefined || !allowed.has(String(v))) {
      throw new AppError(
        'VALIDATION',
        `A row for ${where} has ${scope.column} = ${v === null || v === undefined ? 'NULL' : JSON.stringify(String(v)).slice(0, 100)}, outside the slices being replaced (${scope.values.join(', ').slice(0, 200)}); nothing was written.`,
      )
    }
  }
}

async function existingColumns(sql: Sql, schema: string, table: string): Promise<Map<string, string> | null> {
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

function asWriteError(e: unknown, where: string, opts: WriteOptions): AppError {
  if (opts.signal?.aborted) {
    return new AppError(
      'STACKQL_CANCELLED',
      `The run was cancelled while writing ${where}; the previous data is kept.`,
      { cause: e },
    )
  }
  if (isAppError(e)) return e
  const err = e as { code?: string; message?: string; detail?: string }
  const code = String(err.code ?? '')
  const summary = (err.message ?? String(e)).replace(/\s+/g, ' ').trim()
  if (code === '55P03') {
    return new AppError(
      'CONFLICT',
      `Writing ${where} waited longer than ${opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS} ms for a lock (another run writing the same table, or a long query on it holding up a column change). The previous data is kept; run it again later, or raise INVENTORY_LOCK_TIMEOUT_MS.`,
      { cause: e },
    )
  }
  if (code === '57014' && /statement timeout/i.test(summary)) {
    return new AppError(
      'DB_ERROR',
      `Writing ${where} took longer than ${opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS} ms for one statement and was stopped. The previous data is kept; raise INVENTORY_STATEMENT_TIMEOUT_MS for very large results.`,
      { cause: e },
    )
  }
  if (CONNECTION_CODES.test(code)) {
    return new AppError(
      'DB_UNAVAILABLE',
      `Lost the database while writing ${where} (${code}): ${summary}. The previous data is kept.`,
      { cause: e },
    )
  }
  return new AppError(
    'DB_ERROR',
    `Writing ${where} failed${code ? ` (${code})` : ''}: ${summary}. The previous data is kept.`,
    { cause: e },
  )
}
