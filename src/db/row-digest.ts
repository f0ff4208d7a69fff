// Row digests for the delta write (src/db/delta-write.ts): a 53-bit keyed hash of a row's COPY line,
// so a run can tell which of its rows may differ from what the previous run wrote without sending
// every row to the server. A digest only narrows the comparison: rows whose digest changed are
// compared column by column in PostgreSQL, so a false "changed" costs time, never a wrong record.
// A false "unchanged" (two contents with one digest) would need the table's random seed, which lives
// only in stackql_app; a full comparison at least once a day bounds even that (DIGEST_VERIFY_MS).

/** Murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/**
 * The digest of `text` under `seed` (two 32-bit seed halves): two independent multiply-rotate lanes
 * over the UTF-16 code units, mixed together at the end. Returns a non-negative safe integer (< 2^53).
 */
export function rowDigest(text: string, seedA: number, seedB: number): number {
  let a = seedA | 0
  let b = seedB | 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x9e3779b1)
    a = (a << 15) | (a >>> 17)
    b = Math.imul(b + c, 0x85ebca77)
    b = (b << 13) | (b >>> 19)
  }
  a = fmix(a ^ n)
  b = fmix(b ^ a ^ Math.imul(n, 0x27d4eb2f))
  a = fmix(a ^ b)
  return (b >>> 0) * 0x200000 + (a >>> 11)
}

/** Splits a stored seed (a bigint column read as text) into the two halves rowDigest takes. */
export function seedHalves(seed: string): [number, number] {
  const v = BigInt.asUintN(64, BigInt(seed))
  return [Number(v >> 32n) | 0, Number(v & 0xffffffffn) | 0]
}
