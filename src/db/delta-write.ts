// The rows step of an inventory write, once the table's columns are ready: a new table takes the rows
// straight away (a baseline); an existing one gets only the difference (delta.ts). A keyed write that
// the digests narrowed (digest-compare.ts) stages only the rows whose digest changed and lists the
// stored keys that went — the comparison, the writes to the table and the change records then scale
// with the churn, not the table size. Otherwise all rows are staged and compared (first keyed run,
// key columns changed, high churn, daily check, a column widened) and the digest set is rebuilt.
// A keyed table carries the writer's index on its key (key-index.ts) for the narrowed comparison.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { PendingQuery, Row as PgRow } from 'postgres'
import type { Sql } from './connect.js'
import {
  applyDelta,
  type ChangeCounts,
  checkKeys,
  createGone,
  createStage,
  GONE_TABLE,
  nullKeysError,
  STAGE_TABLE,
} from './delta.js'
import type { EditsAtStart } from './delta-replace.js'
import type { DigestState, Narrowing } from './digest-compare.js'
import { OVERLAY_MAX_SHARE, rebuildPacks } from './digest-packs.js'
import { KeyHashList } from './digest-table.js'
import type { DigestEntry } from './digests.js'
import * as digests from './digests.js'
import { ensureEditGuard } from './edit-guard.js'
import { SQL_TYPE } from './inventory-types.js'
import { ensureKeyIndex, indexedKeyColumn } from './key-index.js'
import { type EncoderInput, type RowEncoder, rowEncoder } from './row-encoder.js'

type Fragment = PendingQuery<PgRow[]>

const WRITER_TYPES = new Set(Object.values(SQL_TYPE))

/** The rows step: the encoder's input (row-encoder.ts: rows, names, columns, keys) and the rest. */
export interface RowsStep extends EncoderInput {
  schema: string
  table: string
  rowCount: number
  /** The table existed before this write. */
  existing: boolean
  scope?: { column: string; values: string[]; orNull?: boolean }
  /** Table column holding the profile, for change records. */
  profileColumn: string | null
  record?: { runId: number; scheduleId: number | null }
  signal?: AbortSignal
  /** The digest set's state (keyed writes to an existing table). */
  digest?: DigestState
  /** Set when the digests narrowed the run and no column was widened: stage only these rows. */
  narrowing?: Narrowing
}

/** Writes the rows; returns the changes (a baseline for a new table). */
export async function writeRows(tx: Sql, step: RowsStep): Promise<ChangeCounts & { baseline: boolean }> {
  const { schema, table, where } = step
  const target = tx`${tx(schema)}.${tx(table)}`
  const stage = tx`${tx(STAGE_TABLE)}`
  const enc = rowEncoder(step)
  const keyColumns = step.keys.map((k) => step.names[step.sourceNames.indexOf(k)]!)
  const slices = step.scope?.values
  if (!step.existing) {
    await copyInto(tx, target, step, enc.lines())
    if (keyColumns.length > 0) {
      const seed = digests.newSeed()
      await storeRunDigests(tx, step, enc, seed, target, keyColumns, undefined)
      await digests.saveDigestSet(tx, schema, table, {
        seed,
        keyColumns: step.keys,
        verified: true,
        rowCount: step.rowCount,
        writeVersion: 1,
        packedVersion: 1,
        overlay: 0,
        checkedEdits: null,
      })
      await ensureEditGuard(tx, schema, table)
    }
    await ensureKeyIndex(tx, schema, table, indexedKeyColumn(keyColumns, step.profileColumn))
    return { added: step.rowCount, removed: 0, modified: 0, baseline: true }
  }
  const plan = {
    schema,
    table,
    columns: [...step.columns.keys()],
    // Columns of a type the writer does not make (added by hand): keyed rows compare them as JSON.
    foreign: [...step.columns].filter(([, type]) => !WRITER_TYPES.has(type)).map(([name]) => name),
    keyColumns,
    scope: step.scope && {
      column: step.names[step.sourceNames.indexOf(step.scope.column)]!,
      values: step.scope.values,
      orNull: step.scope.orNull === true,
    },
    profileColumn: step.profileColumn,
    record: step.record,
    where,
  }
  await createStage(tx, schema, table)
  const d = step.digest
  // An empty scoped write of a keyed table (a for_each finish retiring profiles) names no key
  // columns, but the other slices keep their digest set and the key index.
  const retiring =
    step.rowCount === 0 && step.scope && d?.current
      ? { set: d, slices: [...step.scope.values, ...(step.scope.orNull ? [''] : [])] }
      : null
  if (!retiring) await ensureKeyIndex(tx, schema, table, indexedKeyColumn(keyColumns, step.profileColumn))
  if (keyColumns.length === 0) {
    const lineHashes = new KeyHashList()
    await copyInto(tx, stage, step, enc.lines(undefined, lineHashes))
    const distinctStage = !lineHashes.hasDuplicate()
    const counts = await applyDelta(tx, { ...plan, narrowed: false, distinctStage })
    if (retiring) {
      const { set, slices } = retiring
      await digests.retireSlices(tx, schema, table, {
        ...set,
        slices,
        rowCount: set.tableRows! - counts.removed,
        checkedEdits: set.edits,
      })
    } else await digests.dropDigests(tx, schema, table)
    return { ...counts, baseline: false }
  }
  const seed = step.digest?.seed ?? digests.newSeed()
  // The edits this write began with: those after it (a hand edit while it ran) are noticed next time.
  const checkedEdits = d?.edits ?? 0
  if (!d?.guarded) await ensureEditGuard(tx, schema, table)
  // Putting the guard on locked the table until COMMIT; else the edits it had counted (delta-replace.ts).
  const edits: EditsAtStart = d?.guarded ? { count: d.edits } : { locked: true }
  const n = step.narrowing
  if (n) {
    if (n.changedCount === 0 && n.gone.length === 0) {
      // Nothing to write; a set that has not recorded its edits yet (a previous version's) does now.
      if (d!.checkedEdits === null) await digests.saveCheckedEdits(tx, schema, table, checkedEdits)
      return { added: 0, removed: 0, modified: 0, baseline: false }
    }
    const version = d!.writeVersion + 1
    const entries: DigestEntry[] = []
    await copyInto(tx, stage, step, enc.lines({ data: n.changed, seed, entries }))
    await createGone(tx, schema, table, keyColumns)
    const gone = await digests.retireEntries(tx, schema, table, n.gone, version)
    await copyInto(tx, tx`${tx(GONE_TABLE)}`, step, chunked(gone), keyColumns)
    const counts = await applyDelta(tx, { ...plan, narrowed: true })
    await digests.applyDigestDelta(tx, schema, table, entries, version)
    const rowCount = n.tableRows + counts.added - counts.removed
    // The entries written since the packs were built; past a quarter of the table, rebuild them.
    let overlay = d!.overlay + n.gone.length + entries.length
    let packedVersion = d!.packedVersion!
    if (overlay > OVERLAY_MAX_SHARE * Math.max(rowCount, 1)) {
      await rebuildPacks(tx, schema, table)
      overlay = 0
      packedVersion = version
    }
    await digests.saveDigestSet(tx, schema, table, {
      seed,
      keyColumns: step.keys,
      verified: false,
      rowCount,
      writeVersion: version,
      packedVersion,
      overlay,
      checkedEdits,
    })
    return { ...counts, baseline: false }
  }
  const current = step.digest?.current === true
  await copyInto(tx, stage, step, enc.lines())
  if (slices && !current) {
    // A slice alone cannot make a whole set current: the next write of every slice rebuilds it.
    await digests.dropDigests(tx, schema, table)
    await checkKeys(tx, stage, keyColumns, where)
    return {
      ...(await applyDelta(tx, { ...plan, narrowed: false, stagedRows: step.rowCount, edits })),
      baseline: false,
    }
  }
  const version = (step.digest?.writeVersion ?? 0) + 1
  await storeRunDigests(tx, step, enc, seed, stage, keyColumns, slices)
  const counts = await applyDelta(tx, { ...plan, narrowed: false, stagedRows: step.rowCount, edits })
  // After the delta: the set's row count is the table's as this write leaves it.
  await digests.saveDigestSet(tx, schema, table, {
    seed,
    keyColumns: step.keys,
    verified: !slices,
    writeVersion: version,
    packedVersion: version,
    overlay: 0,
    checkedEdits,
  })
  return { ...counts, baseline: false }
}

/**
 * A full write's digest set: the run's entries are staged and its keys checked on them — NULL keys
 * fail at once; a key hash seen twice (a duplicate, or rarely a hash collision) is settled by the
 * typed check on `rows` — then they replace the stored entries of `slices` (all without) and the
 * packs are rebuilt.
 */
async function storeRunDigests(
  tx: Sql,
  step: RowsStep,
  enc: RowEncoder,
  seed: string,
  rows: Fragment,
  keyColumns: string[],
  slices: string[] | undefined,
): Promise<void> {
  const entries = enc.entries(seed)
  await digests.stageDigests(tx, entries, step.signal, slices ? undefined : step)
  const check = entries.result()
  if (check.nullKeys > 0) throw nullKeysError(check.nullKeys, enc.keys, step.where)
  if (check.suspect) await checkKeys(tx, rows, keyColumns, step.where)
  await digests.storeDigests(tx, step.schema, step.table, slices, check.suspect)
  await rebuildPacks(tx, step.schema, step.table)
}

async function* chunked(lines: string[]): AsyncIterable<string> {
  for (let i = 0; i < lines.length; i += 2000) yield `${lines.slice(i, i + 2000).join('\n')}\n`
}

/** COPY of the rows' lines (skipped when the run has no rows), or of other lines into `columns`. */
async function copyInto(
  tx: Sql,
  into: Fragment,
  step: RowsStep,
  lines: AsyncIterable<string>,
  columns?: string[],
): Promise<void> {
  if (!columns && (step.names.length === 0 || step.rowCount === 0)) return
  columns ??= step.names
  const copy = await tx`copy ${into} (${tx(columns)}) from stdin`.writable()
  await pipeline(Readable.from(lines), copy, step.signal ? { signal: step.signal } : {})
}
