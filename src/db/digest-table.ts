// Compact in-memory forms for the delta write's digests: the stored (key hash, digest) pairs in an
// open-addressing hash table over ONE typed array — each slot holds its key hash and its digest side by
// side, so a lookup touches one cache line (separate arrays for slots, keys, digests and seen flags
// cost four cache misses a row: ~60 ms of a 200k-row comparison) — and a growable list of key hashes
// whose duplicates are found by sorting. A 1M-row table costs ~34 MB.

/** A slot's key cell: 0 = empty, else the key hash + 1 (exact: key hashes are below 2^53). */
const EMPTY = 0
/** A digest cell of an entry the overlay removed: `find` does not return it, `unseen` skips it. */
const REMOVED = -(2 ** 60)

/**
 * The stored pairs, looked up by key hash; `mark` flags the ones a run has seen (a digest d is stored
 * as d while unseen and as -1 - d once seen: digests are non-negative).
 */
export class DigestTable {
  /** Slot s: cells[2s] key cell, cells[2s + 1] digest cell; a power of two slots, at most 80% full. */
  private cells: Float64Array
  private mask: number
  /** Live entries, and slots in use (removed ones included). */
  private n = 0
  private used = 0

  /** `capacity` is a hint: the table grows when more pairs come. */
  constructor(capacity: number) {
    const slots = slotsFor(Math.max(capacity, 8))
    this.cells = new Float64Array(slots * 2)
    this.mask = slots - 1
  }

  /** Twice the slots: the entries (removed ones dropped) are placed again. */
  private grow(): void {
    const old = this.cells
    this.cells = new Float64Array(old.length * 2)
    this.mask = old.length - 1
    this.used = this.n
    for (let s = 0; s < old.length; s += 2) {
      if (old[s] === EMPTY || old[s + 1] === REMOVED) continue
      const at = this.probe(old[s]! - 1)
      this.cells[at] = old[s]!
      this.cells[at + 1] = old[s + 1]!
    }
  }

  /** Cell index of the key hash's slot, or of the empty slot where it would go. */
  private probe(keyHash: number): number {
    const cells = this.cells
    const cell = keyHash + 1
    const lo = keyHash | 0 // ToInt32: the exact low 32 bits of an integer below 2^53
    const hi = (keyHash / 0x100000000) | 0
    let s = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask
    for (;;) {
      const c = cells[2 * s]!
      if (c === cell || c === EMPTY) return 2 * s
      s = (s + 1) & this.mask
    }
  }

  /** Sets the pair (the stored digest, or the overlay's newer one). A key hash twice keeps the last. */
  set(keyHash: number, digest: number): void {
    if (5 * (this.used + 1) > 2 * this.cells.length) this.grow()
    const at = this.probe(keyHash)
    if (this.cells[at] === EMPTY) {
      this.cells[at] = keyHash + 1
      this.used++
      this.n++
    } else if (this.cells[at + 1] === REMOVED) this.n++
    this.cells[at + 1] = digest
  }

  /** Sets the pairs of `pairs` (key hash, digest, key hash, digest, ...). */
  setPairs(pairs: Float64Array): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) this.set(pairs[i]!, pairs[i + 1]!)
  }

  /** Removes the pair, if held (an overlay tombstone). */
  remove(keyHash: number): void {
    const at = this.probe(keyHash)
    if (this.cells[at] === EMPTY || this.cells[at + 1] === REMOVED) return
    this.cells[at + 1] = REMOVED
    this.n--
  }

  get size(): number {
    return this.n
  }

  /** A handle on the key hash's entry (for digestAt and mark), or -1. */
  find(keyHash: number): number {
    const at = this.probe(keyHash)
    return this.cells[at] === EMPTY || this.cells[at + 1] === REMOVED ? -1 : at + 1
  }

  /** `find` for the first `count` key hashes, into `out` (NaN, a row without a key: -1). */
  findMany(keyHashes: Float64Array, count: number, out: Int32Array): void {
    for (let j = 0; j < count; j++) {
      const kh = keyHashes[j]!
      out[j] = Number.isNaN(kh) ? -1 : this.find(kh)
    }
  }

  /** The stored digest of an entry `find` returned. */
  digestAt(i: number): number {
    const d = this.cells[i]!
    return d < 0 ? -1 - d : d
  }

  /** Marks the entry seen; false when it already was (a key hash twice in the run). */
  mark(i: number): boolean {
    const d = this.cells[i]!
    if (d < 0) return false
    this.cells[i] = -1 - d
    return true
  }

  /** Key hashes of the entries no row of the run had. */
  unseen(): number[] {
    const out: number[] = []
    const cells = this.cells
    for (let s = 0; s < cells.length; s += 2) {
      if (cells[s] !== EMPTY && cells[s + 1]! >= 0) out.push(cells[s]! - 1)
    }
    return out
  }
}

/**
 * A power of two slots, at least 1.25 times the entries: linear probing stays short (~2.5 slots a
 * lookup, mostly in one cache line), and the table small enough to stay in the cache more often.
 */
function slotsFor(entries: number): number {
  let size = 16
  while (size * 4 < entries * 5) size *= 2
  return size
}

/** Key hashes of a run, 8 bytes each; `hasDuplicate` sorts them once at the end. */
export class KeyHashList {
  private data = new Float64Array(1024)
  private n = 0

  push(keyHash: number): void {
    if (this.n === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.n++] = keyHash
  }

  hasDuplicate(): boolean {
    const sorted = this.data.subarray(0, this.n).sort()
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true
    return false
  }
}
