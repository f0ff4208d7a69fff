// The rows step of an inventory write, once the table's columns are ready: a new table takes the rows
// straight away (a baseline); an existing one gets only the difference (delta.ts). For a keyed table
// the run's digests (row-digest.ts) go to the server first; when the stored digest set is current
// and few rows changed, only the rows whose digest changed are staged — the comparison, the writes
// to the table and the change records then scale with the churn, not the table size. Otherwise all
// rows are staged and compared (first keyed run, key columns changed, high churn, daily check).
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { PendingQuery, Row as PgRow } from 'postgres'
import type { Row } from '../models.js'
import type { Sql } from './connect.js'
import { encodeRow, encodeValue } from './copy-encoding.js'
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
import { type DigestTable, KeyHashList } from './digest-table.js'
import type { DigestEntry } from './digests.js'
import * as digests from './digests.js'
import { rowDigest, seedHalves } from './row-digest.js'
import { type InventoryData, passOver } from './row-source.js'

type Fragment = PendingQuery<PgRow[]>

export interface RowsStep {
  schema: string
  table: string
  where: string
  data: InventoryData
  rowCount: number
  /** Result keys, and the table column each goes to (same order). */
  sourceNames: string[]
  names: string[]
  /** The table's columns after this write's schema changes (name -> SQL type), in table order. */
  columns: Map<string, string>
  /** The table existed before this write. */
  existing: boolean
  /** Result keys that identify a row (checked to be among sourceNames). */
  keys: string[]
  scope?: { column: string; values: string[] }
  /** Result key holding a row's profile (fan-out), or null. */
  profileSource: string | null
  /** Table column holding the profile, for change records. */
  profileColumn: string | null
  record?: { runId: number; scheduleId: number | null }
  batchRows: number
  signal?: AbortSignal
}

/** Share of the run's rows above which staging everything is cheaper than narrowing by digest. */
const NARROW_MAX_SHARE = 0.25

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
      const entries = enc.entries(seed)
      await digests.replaceDigests(tx, schema, table, undefined, entries, step.signal)
      await keyVerdict(tx, enc, entries.result(), target, keyColumns, where)
      await digests.saveDigestSet(tx, schema, table, { seed, keyColumns: step.keys, verified: true })
    }
    return { added: step.rowCount, removed: 0, modified: 0, baseline: true }
  }
  const plan = {
    schema,
    table,
    columns: [...step.columns.keys()],
    keyColumns,
    scope: step.scope && {
      column: step.names[step.sourceNames.indexOf(step.scope.column)]!,
      values: step.scope.values,
    },
    profileColumn: step.profileColumn,
    record: step.record,
    where,
  }
  await createStage(tx, schema, table)
  if (keyColumns.length === 0) {
    await digests.dropDigests(tx, schema, table)
    await copyInto(tx, stage, step, enc.lines())
    return { ...(await applyDelta(tx, { ...plan, narrowed: false })), baseline: false }
  }
  const stored = await digests.readDigestSet(tx, schema, table)
  const sameKeys = stored !== null && stored.keyColumns.join('\n') === step.keys.join('\n')
  const seed = sameKeys ? stored.seed : digests.newSeed()
  const current =
    sameKeys &&
    Date.now() - stored.verifiedAt.getTime() < digests.DIGEST_VERIFY_MS &&
    stored.rowCount === (await digests.tableRowCount(tx, schema, table))
  if (current) {
    const cmp = await compare(step, enc, seed, await digests.loadDigests(tx, schema, table, slices))
    if (cmp.nullKeys > 0) throw nullKeysError(cmp.nullKeys, step.keys, where)
    const gone = cmp.differing <= NARROW_MAX_SHARE * Math.max(step.rowCount, 1) ? cmp.gone : null
    if (
      !cmp.suspect &&
      gone &&
      cmp.differing + gone.length <= NARROW_MAX_SHARE * Math.max(step.rowCount, 1)
    ) {
      const entries: DigestEntry[] = []
      await copyInto(tx, stage, step, enc.lines({ only: cmp.changed, seed, entries }))
      await createGone(tx, schema, table, keyColumns)
      const gone = await digests.storedKeys(tx, schema, table, cmp.gone)
      await copyInto(tx, tx`${tx(GONE_TABLE)}`, step, chunked(gone), keyColumns)
      const counts = await applyDelta(tx, { ...plan, narrowed: true })
      await digests.applyDigestDelta(tx, schema, table, cmp.gone, entries)
      await digests.saveDigestSet(tx, schema, table, { seed, keyColumns: step.keys, verified: false })
      return { ...counts, baseline: false }
    }
  }
  await copyInto(tx, stage, step, enc.lines())
  if (slices && !current) {
    // A slice alone cannot make a whole set current: the next write of every slice rebuilds it.
    await digests.dropDigests(tx, schema, table)
    await checkKeys(tx, stage, keyColumns, where)
  } else {
    const entries = enc.entries(seed)
    await digests.replaceDigests(tx, schema, table, slices, entries, step.signal)
    await keyVerdict(tx, enc, entries.result(), stage, keyColumns, where)
    await digests.saveDigestSet(tx, schema, table, { seed, keyColumns: step.keys, verified: !slices })
  }
  return { ...(await applyDelta(tx, { ...plan, narrowed: false })), baseline: false }
}

/** NULL keys fail at once; a key hash seen twice (a duplicate, or rarely a hash collision) is settled by the typed check. */
async function keyVerdict(
  tx: Sql,
  enc: RowEncoder,
  check: { nullKeys: number; suspect: boolean },
  rows: Fragment,
  keyColumns: string[],
  where: string,
): Promise<void> {
  if (check.nullKeys > 0) throw nullKeysError(check.nullKeys, enc.keys, where)
  if (check.suspect) await checkKeys(tx, rows, keyColumns, where)
}

interface Comparison {
  /** Key hashes of rows that are new or whose digest changed (only collected while few). */
  changed: Set<number>
  /** How many rows are new or changed. */
  differing: number
  /** Key hashes of stored rows the run no longer has. */
  gone: number[]
  nullKeys: number
  /** A key hash came twice: the write takes the full path, whose typed check is authoritative. */
  suspect: boolean
}

/** One pass over the run's rows against the stored digests, in this process. */
async function compare(
  step: RowsStep,
  enc: RowEncoder,
  seed: string,
  stored: DigestTable,
): Promise<Comparison> {
  const h = enc.hasher(seed)
  const changed = new Set<number>()
  const added = new KeyHashList()
  // Beyond this many differences the write compares every row anyway: stop collecting them.
  const most = NARROW_MAX_SHARE * Math.max(step.rowCount, 1)
  let nullKeys = 0
  let differing = 0
  let suspect = false
  for await (const batch of passOver(step.data)) {
    for (const row of batch) {
      const k = enc.key(row)
      if (k === null) {
        nullKeys++
        continue
      }
      const kh = h.key(enc.slice(row), k)
      const i = stored.find(kh)
      let differs: boolean
      if (i < 0) {
        added.push(kh)
        differs = true
      } else if (!stored.mark(i)) {
        suspect = true
        differs = false
      } else {
        differs = stored.digestAt(i) !== h.digest(enc.line(row))
      }
      if (differs && ++differing <= most) changed.add(kh)
    }
  }
  if (added.hasDuplicate()) suspect = true
  const gone = differing <= most ? stored.unseen() : []
  return { changed, gone, differing, nullKeys, suspect }
}

interface Hasher {
  key(slice: string, key: string): number
  digest(line: string): number
}

type Narrow = { only: ReadonlySet<number>; seed: string; entries: DigestEntry[] }

interface RowEncoder {
  /** COPY lines of every row (or of the rows whose key hash is in `only`, collecting their entries), in chunks. */
  lines(narrow?: Narrow): AsyncIterable<string>
  /** Digest entries of every row, in batches; `result()` afterwards: NULL keys and suspected duplicates. */
  entries(seed: string): AsyncIterable<DigestEntry[]> & { result(): { nullKeys: number; suspect: boolean } }
  hasher(seed: string): Hasher
  /** A row's key: the COPY text of its key fields, null when one is NULL. */
  key(row: Row): string | null
  line(row: Row): string
  slice(row: Row): string
  keys: string[]
}

function rowEncoder(step: RowsStep): RowEncoder {
  const isText = step.names.map((n) => step.columns.get(n) === 'text')
  const keyIdx = step.keys.map((k) => step.sourceNames.indexOf(k))
  // The table's layout (columns, their types, which result key fills them) is part of every digest:
  // a changed layout makes every row differ instead of comparing digests of another encoding.
  const layout = step.names.map((n, i) => `${n}:${step.columns.get(n)}:${isText[i] ? 't' : ''}`).join(',')
  const key = (row: Row): string | null => {
    let out = ''
    for (let j = 0; j < keyIdx.length; j++) {
      const i = keyIdx[j]!
      const v = encodeValue(row[step.sourceNames[i]!], isText[i]!)
      if (v === '\\N') return null
      out = j ? `${out}\t${v}` : v
    }
    return out
  }
  const line = (row: Row) => encodeRow(row, step.sourceNames, isText)
  const slice = (row: Row) => {
    const v = step.profileSource ? row[step.profileSource] : undefined
    return v === null || v === undefined ? '' : String(v)
  }
  const hasher = (seed: string): Hasher => {
    const [a, b] = seedHalves(seed)
    const la = rowDigest(layout, a, b) | 0
    const lb = rowDigest(layout, b, a) | 0
    return {
      key: (s, k) => rowDigest(s === '' ? k : `${s}\u0001${k}`, b, a),
      digest: (l) => rowDigest(l, la, lb),
    }
  }
  async function* lines(narrow?: Narrow): AsyncIterable<string> {
    const h = narrow && hasher(narrow.seed)
    let chunk = ''
    let n = 0
    for await (const batch of passOver(step.data)) {
      for (const row of batch) {
        let l: string
        if (narrow && h) {
          const k = key(row)
          if (k === null) continue
          const s = slice(row)
          const keyHash = h.key(s, k)
          if (!narrow.only.has(keyHash)) continue
          l = line(row)
          narrow.entries.push({ keyHash, slice: s, rowKey: k, digest: h.digest(l) })
        } else {
          l = line(row)
        }
        chunk += `${l}\n`
        if (++n >= step.batchRows) {
          yield chunk
          chunk = ''
          n = 0
        }
      }
    }
    if (chunk) yield chunk
  }
  const entries = (seed: string) => {
    const h = hasher(seed)
    const hashes = new KeyHashList()
    const verdict = { nullKeys: 0, suspect: false }
    async function* gen(): AsyncIterable<DigestEntry[]> {
      for await (const batch of passOver(step.data)) {
        const out: DigestEntry[] = []
        for (const row of batch) {
          const k = key(row)
          if (k === null) {
            verdict.nullKeys++
            continue
          }
          const s = slice(row)
          const keyHash = h.key(s, k)
          hashes.push(keyHash)
          out.push({ keyHash, slice: s, rowKey: k, digest: h.digest(line(row)) })
        }
        yield out
      }
      if (hashes.hasDuplicate()) verdict.suspect = true
    }
    return Object.assign(gen(), { result: () => verdict })
  }
  return { lines, entries, hasher, key, line, slice, keys: step.keys }
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
