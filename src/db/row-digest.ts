// Row digests for the delta write (src/db/delta-write.ts, digest-compare.ts): 53-bit keyed hashes of a
// row's key and of its whole content, computed from the values as StackQL returned them — before any
// type is inferred or COPY text encoded — so a run can tell which of its rows may differ from what the
// previous run wrote without sending every row to the server, and without inferring the types of the
// rows that did not change. A digest only narrows the comparison: rows whose digest changed are
// compared column by column in PostgreSQL, so a false "changed" (a JSON object with its keys in
// another order) costs time, never a wrong record. A false "unchanged" (two contents with one digest)
// would need the table's random seed, which lives only in stackql_app; a full comparison at least once
// a day bounds even that (DIGEST_VERIFY_MS).
import type { Row } from '../models.js'

/** Murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

// Two independent multiply-rotate lanes over UTF-16 code units. The state lives in a typed array:
// module-level numbers beyond the small-integer range would be boxed on every update.
const L = new Int32Array(2)

function unit(c: number): void {
  L[0] = Math.imul(L[0]! ^ c, 0x9e3779b1)
  L[0] = (L[0] << 15) | (L[0] >>> 17)
  L[1] = Math.imul(L[1]! + c, 0x85ebca77)
  L[1] = (L[1] << 13) | (L[1] >>> 19)
}

/** A string, length first: field boundaries can never be shifted between two values. */
function text(s: string, tag?: number): void {
  const n = s.length
  let a = L[0]!
  let b = L[1]!
  if (tag !== undefined) {
    // unit(tag) in the same locals (a typed string value: its type tag first)
    a = Math.imul(a ^ tag, 0x9e3779b1)
    a = (a << 15) | (a >>> 17)
    b = Math.imul(b + tag, 0x85ebca77)
    b = (b << 13) | (b >>> 19)
  }
  a = Math.imul(a ^ (n + 0x10000), 0x9e3779b1)
  a = (a << 15) | (a >>> 17)
  b = Math.imul(b + n + 0x10000, 0x85ebca77)
  b = (b << 13) | (b >>> 19)
  // Two code units per step (one 32-bit word): half the mixing of one unit at a time.
  let i = 0
  for (; i + 1 < n; i += 2) {
    const w = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)
    a = Math.imul(a ^ w, 0x9e3779b1)
    a = (a << 15) | (a >>> 17)
    b = Math.imul(b + w, 0x85ebca77)
    b = (b << 13) | (b >>> 19)
  }
  if (i < n) {
    const c = s.charCodeAt(i)
    a = Math.imul(a ^ c, 0x9e3779b1)
    a = (a << 15) | (a >>> 17)
    b = Math.imul(b + c, 0x85ebca77)
    b = (b << 13) | (b >>> 19)
  }
  L[0] = a
  L[1] = b
}

/** A value with its JSON type: the string "1" and the number 1 differ; NULL and a missing field agree. */
function value(v: unknown): boolean {
  if (v === null || v === undefined) {
    unit(0x20000)
    return false
  }
  switch (typeof v) {
    case 'string':
      text(v, 0x20001)
      break
    case 'number':
      unit(0x20002)
      text(v === 0 && Object.is(v, -0) ? '-0' : String(v))
      break
    case 'boolean':
      unit(v ? 0x20003 : 0x20004)
      break
    case 'bigint':
      unit(0x20005)
      text(v.toString())
      break
    default:
      structure(v as object)
  }
  return true
}

/**
 * An object or array walked member by member (building its JSON text cost more than hashing it).
 * Members keep their order: the same object with its keys in another order digests differently.
 */
function structure(v: object): void {
  if (Array.isArray(v)) {
    unit(0x20007)
    for (let i = 0; i < v.length; i++) value(v[i])
    unit(0x20008 + v.length)
    return
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    // A Date and the like: what the row would be stored as.
    unit(0x20009)
    text(JSON.stringify(v) ?? '')
    return
  }
  unit(0x20006)
  let n = 0
  for (const k in v) {
    text(k)
    value((v as Record<string, unknown>)[k])
    n++
  }
  unit(0x20008 + n)
}

function finish(n: number): number {
  let a = fmix(L[0]! ^ n)
  const b = fmix(L[1]! ^ a ^ Math.imul(n, 0x27d4eb2f))
  a = fmix(a ^ b)
  return (b >>> 0) * 0x200000 + (a >>> 11)
}

/**
 * A 53-bit hash of a string, unseeded: a run's COPY lines are told apart by it (delta-keyless.ts).
 * Equal strings always hash alike; a collision only makes two distinct lines look equal.
 */
export function lineHash(s: string): number {
  L[0] = 0x2545f491
  L[1] = 0x6a09e667
  text(s)
  return finish(s.length)
}

/** Hashes under one table's seed: `content` of a whole row, `key` of its slice and key values. */
export interface RowHasher {
  /** The row's content: every field (name and typed value, in the row's order). */
  content(row: Row): number
  /** The row's identity within the table; null when a key value is NULL or missing. */
  key(row: Row, keys: readonly string[], slice: string): number | null
}

// Bumped when the digest input changes: stored digests of another version then never match.
const VERSION = 2

export function rowHasher(seed: string): RowHasher {
  const v = BigInt.asUintN(64, BigInt(seed))
  const seedA = (Number(v >> 32n) ^ VERSION) | 0
  const seedB = Number(v & 0xffffffffn) | 0
  // A field name enters the digest as a 32-bit hash of its text, computed once per name.
  const names = new Map<string, number>()
  const lastNames: string[] = []
  const lastHashes: number[] = []
  const nameHash = (k: string) => {
    let h = seedA ^ 0x5bd1e995
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193)
    return fmix(h ^ k.length)
  }
  return {
    content(row) {
      L[0] = seedA
      L[1] = seedB
      let n = 0
      for (const k in row) {
        // Rows of one result share their field names (the same string objects): the name at this
        // position is usually the last row's, one comparison instead of a map lookup.
        let h: number
        if (lastNames[n] === k) h = lastHashes[n]!
        else {
          let m = names.get(k)
          if (m === undefined) {
            m = nameHash(k)
            names.set(k, m)
          }
          h = m
          lastNames[n] = k
          lastHashes[n] = m
        }
        unit(h)
        const v = row[k]
        // A string (the common case): its tag mixed in by text() itself, one call less.
        if (typeof v === 'string') text(v, 0x20001)
        else value(v)
        n++
      }
      return finish(n)
    },
    key(row, keys, slice) {
      L[0] = seedB
      L[1] = seedA
      text(slice)
      for (let i = 0; i < keys.length; i++) if (!value(row[keys[i]!])) return null
      return finish(keys.length)
    },
  }
}
