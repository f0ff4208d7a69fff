// Writes a query result into <schema>.<table> with REPLACE semantics, atomically, keeping the
// table's identity so `<table>_mv` and other dependents survive. Type rules: inventory-types.ts;
// which column a key goes to: column-names.ts / column-map.ts (stored, reused every run).
//
// Design: ONE transaction does everything —
//   1. lock_timeout / statement_timeout for this transaction, then a transaction-scoped advisory lock
//      on the target (schema.table) serialises writers of the same table; writers of other tables of
//      the schema do not wait (only the first creation of a schema takes a schema lock);
//   2. one pass over the rows infers the column types (rows come from memory or a spooled file,
//      see row-source.ts, so a large result is never held whole); a keyed write to an existing table
//      first compares the rows' digests with the stored ones and, when few differ, infers, stages
//      and compares only those (digest-compare.ts);
//   3. the stored key -> column mapping is read and extended for new keys (saved in this transaction);
//      the schema is created if missing, the table created on the first run, new columns added,
//      columns whose values no longer fit widened WITHOUT a table rewrite (see widen());
//      vanished columns are kept (NULL);
//   4. the rows are streamed in with `COPY ... FROM STDIN` (text format): straight into a new table,
//      else only the difference is applied and change records are written (delta-write.ts, delta.ts;
//      MVCC: readers keep seeing the old rows and are never blocked);
//   5. `<table>_mv` is refreshed if it exists (CONCURRENTLY when it has a unique index);
//   6. COMMIT — readers switch from the old snapshot to the new one at once.
// A failure, a cancel (checked before COMMIT, also when there are no rows to copy), or the process
// being killed leaves the previous snapshot untouched: nothing is visible before COMMIT.
// DELETE instead of TRUNCATE, and add-and-swap instead of ALTER COLUMN TYPE: both TRUNCATE and a
// rewriting ALTER are not MVCC-safe (a REPEATABLE READ reader with an older snapshot would see an empty
// table). Schema changes take an ACCESS EXCLUSIVE lock, so on such runs readers wait until COMMIT.
import { AppError } from '../errors.js'
import { type ColumnMapEntry, mapColumns, readColumnMap } from './column-map.js'
import type { Sql } from './connect.js'
import { writeRows } from './delta-write.js'
import { type DigestState, digestState, type Narrowing, narrowByDigests } from './digest-compare.js'
import { WRITER_SETTING } from './edit-guard.js'
import { assertIdentifierShape, assertTargetSchema } from './identifiers.js'
import { existingColumns, surveyRows } from './inventory-columns.js'
import { columnKind, fitsExisting, SQL_TYPE, widenedType } from './inventory-types.js'
import { widen } from './inventory-widen.js'
import { refreshViewIfExists } from './materialised-views.js'
import type { InventoryData } from './row-source.js'
import { lockTarget } from './target-lock.js'
import { asWriteError, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from './write-errors.js'

export type { InventoryData, RowSource } from './row-source.js'
export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS }

export interface InventoryTarget {
  schema: string
  table: string
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
   * The column is created as text when missing. `orNull`: the rows whose `column` is NULL are
   * replaced too (the rows of `data` still carry one of the values).
   */
  scope?: { column: string; values: string[]; orNull?: boolean }
  /** Source keys whose values identify a row (unique, non-NULL); without keys the whole row is its identity. */
  keys?: string[]
  /** Write change records for this run (none are written without it). */
  record?: { runId: number; scheduleId: number | null }
  /** false: leave `<table>_mv` alone (a for_each iteration; its finish task refreshes it once). */
  refreshView?: boolean
}

export interface WriteResult {
  rowCount: number
  /** Every column of the table after the write, in table order, with its SQL type. */
  columns: { name: string; type: string }[]
  /** Result column name -> table column name, for the names that differ (from the stored mapping). */
  renamed: Record<string, string>
  /** This run's result columns and the table column each went to. */
  written: { source: string; name: string }[]
  /** Mapping entries this write created (new keys; a whole table's when a previous version made it). */
  mappedColumns: ColumnMapEntry[]
  /** Columns widened by this write. */
  widened: { column: string; from: string; to: string }[]
  /** `<table>_mv` when it existed and was refreshed. */
  refreshedView: string | null
  /** What the write changed (within the scope); `baseline` on a table's first write (counts only). */
  changes?: { added: number; removed: number; modified: number; baseline: boolean }
}

const SCHEMA_LOCK_CLASS = 0x5354_4b53 // "STKS": only while a missing schema is created

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
      // stackql.writer: this transaction's statements are the writer's, not edits (edit-guard.ts).
      await tx`select set_config('timezone', 'UTC', true), set_config('lock_timeout', ${String(lockMs)}, true),
        set_config('statement_timeout', ${String(statementMs)}, true), set_config(${WRITER_SETTING}, 'on', true)`
      await lockTarget(tx, schema, table)
      signal?.throwIfAborted()
      await ensureSchema(tx, schema)

      const existing = await existingColumns(tx, schema, table)
      const scope = opts.scope
      // The mapping read runs on the server while this process infers the column types.
      const storedMap = readColumnMap(tx, schema, table)
      storedMap.catch(() => {})
      // A keyed write to an existing table first compares the run's digests with the stored ones;
      // when few rows differ, only those are surveyed, staged and compared (digest-compare.ts).
      const digestKeys = existing && opts.keys?.length ? opts.keys : null
      let digest: DigestState | undefined
      let narrowing: Narrowing | null = null
      if (digestKeys) {
        digest = await digestState(tx, schema, table, digestKeys)
        narrowing = await narrowByDigests(tx, digest, { schema, table, where, data, keys: digestKeys, scope })
      }
      await new Promise((r) => setImmediate(() => setImmediate(r)))
      const survey = await surveyRows(narrowing?.changed ?? data, scope, where)
      const { sourceNames, kinds } = survey
      const rowCount = narrowing?.rowCount ?? survey.rowCount
      // An empty result names no columns: every row in scope is removed, whatever the keys.
      const keys = rowCount === 0 ? [] : (opts.keys ?? [])
      const missingKeys = keys.filter((k) => !sourceNames.includes(k))
      if (missingKeys.length > 0) {
        throw new AppError(
          'VALIDATION',
          `The key column(s) ${missingKeys.join(', ')} are not in this run's output for ${where} (columns: ${sourceNames.join(', ').slice(0, 400)}); change the schedule's key columns. The previous snapshot is kept.`,
        )
      }
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
            await widen(tx, { schema, table }, c.name, c.current, to, existing, true)
            widened.push({ column: c.name, from: c.current, to })
          }
        }
      }

      const schemaChanged = !existing || widened.length > 0 || plan.some((c) => c.current === undefined)
      const finalColumns = schemaChanged ? (await existingColumns(tx, schema, table))! : existing
      const tableName = (key: string) => names[sourceNames.indexOf(key)]!
      const profileSource = scope ? scope.column : sourceNames.includes('_profile') ? '_profile' : null
      const profileColumn = profileSource
        ? tableName(profileSource)
        : finalColumns.has('_profile')
          ? '_profile'
          : null
      const changes = await writeRows(tx, {
        schema,
        table,
        where,
        data,
        rowCount,
        sourceNames,
        names,
        columns: finalColumns,
        existing: existing !== null,
        keys,
        scope,
        profileSource,
        profileColumn,
        record: opts.record,
        batchRows: opts.batchRows ?? 2000,
        signal,
        digest,
        // A widened column changes how stored rows read: the write then compares every row.
        narrowing: narrowing && widened.length === 0 ? narrowing : undefined,
      })
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
        written: sourceNames.map((source, i) => ({ source, name: names[i]! })),
        mappedColumns: mapped.added,
        widened,
        refreshedView,
        changes,
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
