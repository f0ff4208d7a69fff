// Writes a query result into <schema>.<table> with REPLACE semantics, atomically, keeping the
// table's identity so `<table>_mv` and other dependents survive. Column rules: inventory-types.ts.
//
// Design: ONE transaction does everything —
//   1. transaction-scoped advisory locks (schema, then table) serialise writers of the same target;
//   2. `DELETE FROM` the table (MVCC: readers keep seeing the old rows and are never blocked),
//      overlapped with the column-type inference in this process;
//   3. the schema is created if missing, the table created on the first run, new columns added,
//      columns whose values no longer fit widened (ALTER TYPE); vanished columns are kept (NULL);
//   4. the rows are streamed in with `COPY ... FROM STDIN` (text format), straight into the table;
//   5. `<table>_mv` is refreshed if it exists (CONCURRENTLY when it has a unique index);
//   6. COMMIT — readers switch from the old snapshot to the new one at once.
// A failure, a cancel, or the process being killed (the server aborts the transaction when the
// connection drops) leaves the previous snapshot untouched: nothing is visible before COMMIT.
// DELETE instead of TRUNCATE: TRUNCATE is not MVCC-safe (a REPEATABLE READ reader with an older
// snapshot would see an empty table) and blocks readers for the whole COPY. The price is dead
// tuples that autovacuum reclaims. Schema changes (new or widened columns) take an ACCESS
// EXCLUSIVE lock, so on such runs readers wait until COMMIT instead — they still never see a
// half-written or empty table.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AppError, isAppError } from '../errors.js'
import type { Row } from '../models.js'
import type { Sql } from './connect.js'
import { assertIdentifierShape, assertTargetSchema } from './identifiers.js'
import {
  type ColumnKind,
  fitsExisting,
  joinKinds,
  keepsKind,
  kindOf,
  kindOfSqlType,
  SQL_TYPE,
  sanitiseColumnNames,
} from './inventory-types.js'
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
  /** Aborting rolls the write back (the previous snapshot stays). */
  signal?: AbortSignal
  /** Rows per COPY chunk written to the socket. */
  batchRows?: number
}

export interface WriteResult {
  rowCount: number
  /** Every column of the table after the write, in table order, with its SQL type. */
  columns: { name: string; type: string }[]
  /** Result column name -> table column name, for names that had to be sanitised. */
  renamed: Record<string, string>
  /** `<table>_mv` when it existed and was refreshed. */
  refreshedView: string | null
}

const LOCK_CLASS = 0x5354_4b57 // "STKW"
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
  opts.signal?.throwIfAborted()
  try {
    return await sql.begin(async (tx) => {
      await tx`set local timezone = 'UTC'`
      await tx`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${schema}))`
      const [ns] = await tx<{ oid: number }[]>`select oid::int8 from pg_namespace where nspname = ${schema}`
      if (!ns) await tx`create schema ${tx(schema)}`
      await tx`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${where}))`

      const existing = await existingColumns(tx as unknown as Sql, schema, table)
      // The DELETE (which does not depend on the new columns) runs on the server while this process
      // infers the column types: the two biggest costs of a replace overlap.
      const deleting = existing ? tx`delete from ${tx(schema)}.${tx(table)}`.execute() : undefined
      deleting?.catch(() => {})
      // postgres.js sends a query from a setImmediate queued after a microtask; two turns of the
      // check phase make sure the DELETE is on the wire before the inference blocks this thread.
      await new Promise((r) => setImmediate(() => setImmediate(r)))
      const { sourceNames, kinds } = inferColumns(data)
      const names = sanitiseColumnNames(sourceNames)
      await deleting
      const plan = names.map((name, i) => ({ name, kind: kinds[i]!, current: existing?.get(name) }))
      if (!existing) {
        const defs = plan.reduce(
          (acc, c, i) => tx`${acc}${i ? tx`, ` : tx``}${tx(c.name)} ${tx.unsafe(SQL_TYPE[c.kind ?? 'text'])}`,
          tx``,
        )
        await tx`create table ${tx(schema)}.${tx(table)} (${defs})`
      } else {
        for (const c of plan) {
          if (c.current === undefined) {
            await tx`alter table ${tx(schema)}.${tx(table)} add column ${tx(c.name)} ${tx.unsafe(SQL_TYPE[c.kind ?? 'text'])}`
          } else if (!fitsExisting(c.current, c.kind)) {
            const wider = SQL_TYPE[joinKinds(kindOfSqlType(c.current), c.kind) ?? 'text']
            await widen(tx as unknown as Sql, schema, table, c.name, c.current, wider)
          }
        }
      }

      const textColumns = new Set<number>()
      const finalColumns = (await existingColumns(tx as unknown as Sql, schema, table))!
      names.forEach((n, i) => {
        if (finalColumns.get(n) === 'text') textColumns.add(i)
      })
      let rowCount = 0
      if (names.length > 0 && data.rows.length > 0) {
        const copy = await tx`copy ${tx(schema)}.${tx(table)} (${tx(names)}) from stdin`.writable()
        const lines = Readable.from(encodeRows(data.rows, sourceNames, textColumns, opts.batchRows ?? 2000))
        await pipeline(lines, copy, opts.signal ? { signal: opts.signal } : {})
        rowCount = data.rows.length
      }
      const refreshedView = await refreshViewIfExists(tx as unknown as Sql, schema, `${table}_mv`)
      return {
        rowCount,
        columns: [...finalColumns].map(([name, type]) => ({ name, type })),
        renamed: Object.fromEntries(
          sourceNames.map((s, i) => [s, names[i]!] as const).filter(([s, n]) => s !== n),
        ),
        refreshedView,
      }
    })
  } catch (e) {
    throw asWriteError(e, where, opts.signal)
  }
}

/** One pass over the rows: the column list (declared first, then keys seen only in rows) and each column's kind. */
export function inferColumns(data: InventoryData): { sourceNames: string[]; kinds: (ColumnKind | null)[] } {
  const sourceNames = [...data.columns]
  const index = new Map(sourceNames.map((c, i) => [c, i]))
  const kinds: (ColumnKind | null)[] = sourceNames.map(() => null)
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
      if (k === null || !keepsKind(v, k)) kinds[i] = joinKinds(k, kindOf(v))
    }
  }
  return { sourceNames, kinds }
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

async function widen(sql: Sql, schema: string, table: string, column: string, from: string, to: string) {
  try {
    await sql`alter table ${sql(schema)}.${sql(table)} alter column ${sql(column)}
      type ${sql.unsafe(to)} using ${sql(column)}::${sql.unsafe(to)}`
  } catch (e) {
    const err = e as { code?: string; detail?: string }
    if (err.code === '0A000') {
      throw new AppError(
        'CONFLICT',
        `Column ${column} of ${schema}.${table} must widen from ${from} to ${to} for the new data, but a view depends on it (${err.detail ?? 'see pg_depend'}). Drop the view, let the run widen the column, then recreate the view. The previous data is kept.`,
        { cause: e },
      )
    }
    throw e
  }
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '' }
const NEEDS_ESCAPE = /[\\\n\r\t\0]/
const ESCAPE_ALL = /[\\\n\r\t\0]/g

/** COPY text-format escaping; NUL characters are dropped (PostgreSQL text cannot hold them). */
function escapeCopy(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE_ALL, (c) => ESCAPES[c]!) : s
}

const SURROGATE = /[\uD800-\uDFFF]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Replaces unpaired UTF-16 surrogates (which jsonb rejects as escapes) with U+FFFD. */
function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s
}

/** What JSON.stringify leaves that jsonb refuses: a NUL escape, or an escaped lone surrogate (false positives are fine). */
const JSONB_REFUSES = /\\u(0000|d[89a-f])/

/** JSON for a jsonb column: NULs dropped, lone surrogates replaced, bigints as strings — jsonb accepts all of it. */
function toJson(value: unknown): string {
  // The common case — plain JSON that jsonb takes as is — without a replacer call per value.
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    // a BigInt inside: the replacer below turns it into a string
  }
  if (text !== undefined && !JSONB_REFUSES.test(text)) return text
  text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'string') return wellFormed(v.replaceAll('\0', ''))
    if (typeof v === 'bigint') return v.toString()
    return v
  })
  // NULs can still hide in object keys (escaped as \u0000, which jsonb rejects).
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : text
}

function encodeValue(v: unknown, isText: boolean): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'string') return v === '' && !isText ? '\\N' : escapeCopy(v)
  if (typeof v === 'object') return escapeCopy(toJson(v))
  return escapeCopy(String(v))
}

function* encodeRows(
  rows: readonly Row[],
  keys: readonly string[],
  textColumns: ReadonlySet<number>,
  batchRows: number,
): Generator<string> {
  const isText = keys.map((_, i) => textColumns.has(i))
  const n = keys.length
  let chunk = ''
  let inChunk = 0
  for (const row of rows) {
    let line = encodeValue(row[keys[0]!], isText[0]!)
    for (let i = 1; i < n; i++) line += `\t${encodeValue(row[keys[i]!], isText[i]!)}`
    chunk += `${line}\n`
    if (++inChunk >= batchRows) {
      yield chunk
      chunk = ''
      inChunk = 0
    }
  }
  if (chunk) yield chunk
}

function asWriteError(e: unknown, where: string, signal?: AbortSignal): AppError {
  if (signal?.aborted) {
    return new AppError(
      'STACKQL_CANCELLED',
      `The run was cancelled while writing ${where}; the previous data is kept.`,
      {
        cause: e,
      },
    )
  }
  if (isAppError(e)) return e
  const err = e as { code?: string; message?: string; detail?: string }
  const code = String(err.code ?? '')
  const summary = (err.message ?? String(e)).replace(/\s+/g, ' ').trim()
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
