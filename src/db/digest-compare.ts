// The first pass of a keyed write to an existing table with a current digest set (digests.ts): every
// row's key and content are hashed as StackQL returned them (row-digest.ts) and compared with the
// stored digests in this process, BEFORE any type is inferred. When few rows differ, the rest of the
// write — type inference, staging, the comparison in PostgreSQL, the change records — only sees the
// rows that are new or whose digest changed, and the stored keys the run no longer has. Otherwise
// (first keyed run, other key columns, a day since the last full comparison, the table edited behind
// the writer's back — edit-guard.ts —, high churn, a key hash twice) the write compares every row.
import type { Row } from '../models.js'
import type { Sql } from './connect.js'
import { nullKeysError } from './delta.js'
import { loadPairs } from './digest-packs.js'
import { KeyHashList } from './digest-table.js'
import * as digests from './digests.js'
import { checkScopeRows, type Scope } from './inventory-columns.js'
import { rowHasher } from './row-digest.js'
import { type InventoryData, isRowSource, passOver } from './row-source.js'

/** Share of the run's rows above which staging everything is cheaper than narrowing by digest. */
const NARROW_MAX_SHARE = 0.25
/** Rows hashed, then looked up, then compared together (see the loop). */
const WINDOW = 256
/**
 * Changed rows of a streamed source kept in memory for the narrowed write — at most this many, and
 * at most about this many characters of field names and values (wide rows: 20,000 rows of 300
 * columns would be hundreds of MB); beyond either, the source is read again for them.
 */
const RETAIN_ROWS = 20_000
export const RETAIN_CHARS = 16 * 2 ** 20

/** About how much text a row holds: names and values (nested values as their JSON), 8 per scalar. */
export function approxChars(row: Row): number {
  let n = 0
  for (const k in row) {
    const v = row[k]
    n += k.length
    if (typeof v === 'string') n += v.length
    else if (v !== null && typeof v === 'object') n += JSON.stringify(v)?.length ?? 8
    else n += 8
  }
  return n
}

/** What the stored digest set says about this table, for the keys of this run. */
export interface DigestState {
  /** The seed the run's digests use: the stored one when the keys are the same, else a new one. */
  seed: string
  /** The key columns the state was read for (the run's). */
  keyColumns: string[]
  /** The stored set is about these keys, packed, fresh enough, and the table's row count is the stored one. */
  current: boolean
  /** The table's row count, when it was read. */
  tableRows: number | null
  /** The stored set's write version (0 without one), packs version and overlay (digest-packs.ts). */
  writeVersion: number
  packedVersion: number | null
  overlay: number
  /** The table carries the edit guard, and the edits it had counted when this write began. */
  guarded: boolean
  edits: number
  /** The edits the stored set's last write saw (null: none recorded, a previous version's set). */
  checkedEdits: number | null
}

export async function digestState(
  tx: Sql,
  schema: string,
  table: string,
  keys: readonly string[],
): Promise<DigestState> {
  const { set: stored, guarded, edits } = await digests.readDigestSet(tx, schema, table)
  const versions = {
    keyColumns: [...keys],
    writeVersion: stored?.writeVersion ?? 0,
    packedVersion: stored?.packedVersion ?? null,
    overlay: stored?.overlay ?? 0,
    guarded,
    edits,
    checkedEdits: stored?.checkedEdits ?? null,
  }
  const sameKeys = stored !== null && stored.keyColumns.join('\n') === keys.join('\n')
  if (!sameKeys) return { seed: digests.newSeed(), current: false, tableRows: null, ...versions }
  // A set without packs or without its entries table (a previous version's) is rebuilt by this write.
  const usable = stored.packedVersion !== null && stored.entries
  if (Date.now() - stored.verifiedAt.getTime() >= digests.DIGEST_VERIFY_MS || !usable) {
    return { seed: stored.seed, current: false, tableRows: null, ...versions }
  }
  // The edit guard (edit-guard.ts) says whether anyone else wrote the table since the last write;
  // without it (a table of a previous version, a disabled trigger) the row count has to do.
  if (guarded && stored.checkedEdits !== null) {
    const unedited = stored.checkedEdits === edits
    return { seed: stored.seed, current: unedited, tableRows: unedited ? stored.rowCount : null, ...versions }
  }
  const tableRows = await digests.tableRowCount(tx, schema, table)
  return { seed: stored.seed, current: stored.rowCount === tableRows, tableRows, ...versions }
}

/** A run narrowed by its digests: only `changed` and `gone` take part in the rest of the write. */
export interface Narrowing {
  rowCount: number
  /** Every result key of the run (declared columns first, then keys seen in rows). */
  sourceNames: string[]
  /** The rows that are new or whose digest changed, in the run's order, and how many. */
  changed: InventoryData
  changedCount: number
  /** Key hashes of stored rows the run no longer has. */
  gone: number[]
  /** The table's row count before the write. */
  tableRows: number
}

export interface NarrowInput {
  schema: string
  table: string
  where: string
  data: InventoryData
  keys: string[]
  scope?: Scope
}

/**
 * The comparison pass. Returns null when the write must compare every row (too many differ, a key
 * hash came twice, a key column is missing from every row: the full path names the problem).
 * Throws when rows have NULL keys, or (scoped writes) a row lies outside the scope.
 */
export async function narrowByDigests(
  tx: Sql,
  state: DigestState,
  input: NarrowInput,
): Promise<Narrowing | null> {
  if (!state.current || state.tableRows === null || state.packedVersion === null) return null
  const { data, keys, scope, where } = input
  const stored = await loadPairs(tx, {
    schema: input.schema,
    table: input.table,
    slices: scope?.values,
    packedVersion: state.packedVersion,
    expected: state.tableRows,
  })
  const h = rowHasher(state.seed)
  const names = new Map(data.columns.map((c, i) => [c, i]))
  const sourceNames = [...data.columns]
  const allowed = new Set(scope?.values ?? [])
  const sliceOf = scope ? scope.column : '_profile'
  const added = new KeyHashList()
  const ordinals: number[] = []
  // An array source is indexed by position instead (changedRows): nothing to keep.
  const streamed = isRowSource(data.rows)
  let retained: Row[] = []
  let retainedChars = 0
  let rowCount = 0
  let nullKeys = 0
  // Rows go through in windows: first every key hash of the window, then every lookup, then the
  // contents. The lookups are independent of each other, so the processor overlaps their cache
  // misses (one per row in a table of megabytes) instead of waiting for each in turn.
  const hashes = new Float64Array(WINDOW)
  const found = new Int32Array(WINDOW)
  for await (const batch of passOver(data)) {
    if (scope) checkScopeRows(batch, scope, allowed, where)
    for (let from = 0; from < batch.length; from += WINDOW) {
      const to = Math.min(from + WINDOW, batch.length)
      for (let j = from; j < to; j++) {
        const row = batch[j]!
        const s = row[sliceOf]
        hashes[j - from] = h.key(row, keys, s === null || s === undefined ? '' : String(s)) ?? Number.NaN
      }
      stored.findMany(hashes, to - from, found)
      for (let j = from; j < to; j++) {
        const row = batch[j]!
        const ordinal = rowCount++
        const kh = hashes[j - from]!
        if (Number.isNaN(kh)) {
          nullKeys++
          continue
        }
        const i = found[j - from]!
        let differs = true
        if (i < 0) added.push(kh)
        else if (!stored.mark(i))
          return null // a key hash twice: the typed check decides
        else differs = stored.digestAt(i) !== h.content(row)
        if (!differs) continue
        // An unchanged row's fields are the stored row's: only the others can bring new columns.
        for (const k in row) if (!names.has(k)) names.set(k, sourceNames.push(k) - 1)
        ordinals.push(ordinal)
        if (ordinals.length > NARROW_MAX_SHARE * Math.max(stored.size, 1) + 1) return null
        if (streamed && retained.length < RETAIN_ROWS && retainedChars <= RETAIN_CHARS) {
          retainedChars += approxChars(row)
          // Past the budget none are kept (the source is read again): free the ones held so far.
          if (retainedChars > RETAIN_CHARS) retained = []
          else retained.push(row)
        }
      }
    }
  }
  if (keys.some((k) => !names.has(k))) return null
  if (nullKeys > 0) throw nullKeysError(nullKeys, keys, where)
  if (rowCount === 0 || added.hasDuplicate()) return null
  const gone = stored.unseen()
  if (ordinals.length + gone.length > NARROW_MAX_SHARE * Math.max(rowCount, 1)) return null
  return {
    rowCount,
    sourceNames,
    changed: { columns: sourceNames, rows: changedRows(data, ordinals, retained) },
    changedCount: ordinals.length,
    gone,
    tableRows: state.tableRows,
  }
}

/** The changed rows: taken from the array, the ones kept, or the source read again by position. */
function changedRows(data: InventoryData, ordinals: number[], retained: Row[]): InventoryData['rows'] {
  const rows = data.rows
  if (!isRowSource(rows)) return ordinals.map((i) => (rows as readonly Row[])[i]!)
  if (retained.length === ordinals.length) return retained
  return {
    async *batches() {
      let ordinal = 0
      let j = 0
      for await (const batch of passOver(data)) {
        const out: Row[] = []
        for (const row of batch) {
          if (ordinals[j] === ordinal) {
            out.push(row)
            j++
          }
          ordinal++
        }
        if (out.length > 0) yield out
        if (j === ordinals.length) return
      }
    },
  }
}
