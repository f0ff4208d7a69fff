// How the rows step (delta-write.ts) reads a run's rows: as COPY text lines for the table — all of them,
// or a narrowed run's changed rows with their digest entries — and as digest entries (key hash, slice,
// the key as stored, content digest) for the digest set.
import type { Row } from '../models.js'
import { encodeRow, encodeValue } from './copy-encoding.js'
import { nullKeysError } from './delta.js'
import { KeyHashList } from './digest-table.js'
import type { DigestEntry } from './digests.js'
import { lineHash, type RowHasher, rowHasher } from './row-digest.js'
import { type InventoryData, passOver } from './row-source.js'

/** What the encoder needs of the rows step. */
export interface EncoderInput {
  where: string
  data: InventoryData
  /** Result keys, and the table column each goes to (same order). */
  sourceNames: string[]
  names: string[]
  /** The table's columns after this write's schema changes (name -> SQL type), in table order. */
  columns: Map<string, string>
  /** Result keys that identify a row (checked to be among sourceNames). */
  keys: string[]
  /** Result key holding a row's profile (fan-out), or null. */
  profileSource: string | null
  batchRows: number
}

export type Narrow = { data: InventoryData; seed: string; entries: DigestEntry[] }

export interface RowEncoder {
  /**
   * COPY lines of every row — or of a narrowed run's changed rows, collecting their digest entries —
   * in chunks; each line's hash into `lineHashes` when given (are the lines distinct?).
   */
  lines(narrow?: Narrow, lineHashes?: KeyHashList): AsyncIterable<string>
  /** Digest entries of every row, in batches; `result()` afterwards: NULL keys and suspected duplicates. */
  entries(seed: string): AsyncIterable<DigestEntry[]> & { result(): { nullKeys: number; suspect: boolean } }
  keys: string[]
}

export function rowEncoder(step: EncoderInput): RowEncoder {
  const isText = step.names.map((n) => step.columns.get(n) === 'text')
  const keyIdx = step.keys.map((k) => step.sourceNames.indexOf(k))
  /** A row's key as the table stores it: the COPY text of its key fields, null when one is NULL. */
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
  /** The row's digest entry, or null for a NULL key ('' in a non-text key column is one too). */
  const entry = (h: RowHasher, row: Row): DigestEntry | null => {
    const rowKey = key(row)
    if (rowKey === null) return null
    const s = slice(row)
    return { keyHash: h.key(row, step.keys, s)!, slice: s, rowKey, digest: h.content(row) }
  }
  async function* lines(narrow?: Narrow, lineHashes?: KeyHashList): AsyncIterable<string> {
    const h = narrow && rowHasher(narrow.seed)
    let chunk = ''
    let n = 0
    let nullKeys = 0
    for await (const batch of passOver(narrow?.data ?? step.data)) {
      for (const row of batch) {
        if (h) {
          const e = entry(h, row)
          if (e === null) {
            nullKeys++
            continue
          }
          narrow.entries.push(e)
        }
        const text = line(row)
        lineHashes?.push(lineHash(text))
        chunk += `${text}\n`
        if (++n >= step.batchRows) {
          yield chunk
          chunk = ''
          n = 0
        }
      }
    }
    if (nullKeys > 0) throw nullKeysError(nullKeys, step.keys, step.where)
    if (chunk) yield chunk
  }
  const entries = (seed: string) => {
    const h = rowHasher(seed)
    const hashes = new KeyHashList()
    const verdict = { nullKeys: 0, suspect: false }
    async function* gen(): AsyncIterable<DigestEntry[]> {
      for await (const batch of passOver(step.data)) {
        const out: DigestEntry[] = []
        for (const row of batch) {
          const e = entry(h, row)
          if (e === null) {
            verdict.nullKeys++
            continue
          }
          hashes.push(e.keyHash)
          out.push(e)
        }
        yield out
      }
      if (hashes.hasDuplicate()) verdict.suspect = true
    }
    return Object.assign(gen(), { result: () => verdict })
  }
  return { lines, entries, keys: step.keys }
}
