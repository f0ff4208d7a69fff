// Compact in-memory forms for the delta write's digests: the stored (key hash, digest) pairs as two
// sorted Float64Arrays searched by bisection (16 bytes a row, not a Map's ~80), and a growable list
// of key hashes whose duplicates are found by sorting. A 1M-row table costs ~17 MB, not ~120 MB.

/** The stored pairs, sorted by key hash; `mark` flags the ones a run has seen. */
export class DigestTable {
  private readonly keys: Float64Array
  private readonly digests: Float64Array
  private readonly seen: Uint8Array
  private n = 0

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity)
    this.digests = new Float64Array(capacity)
    this.seen = new Uint8Array(capacity)
  }

  /** Appends a pair; pairs must come in ascending key-hash order (the query orders them). */
  push(keyHash: number, digest: number): void {
    this.keys[this.n] = keyHash
    this.digests[this.n] = digest
    this.n++
  }

  get size(): number {
    return this.n
  }

  /** Index of the key hash, or -1. */
  find(keyHash: number): number {
    let lo = 0
    let hi = this.n - 1
    const keys = this.keys
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const k = keys[mid]!
      if (k < keyHash) lo = mid + 1
      else if (k > keyHash) hi = mid - 1
      else return mid
    }
    return -1
  }

  digestAt(i: number): number {
    return this.digests[i]!
  }

  /** Marks the entry seen; false when it already was (a key hash twice in the run). */
  mark(i: number): boolean {
    if (this.seen[i]) return false
    this.seen[i] = 1
    return true
  }

  /** Key hashes of the entries no row of the run had. */
  unseen(): number[] {
    const out: number[] = []
    for (let i = 0; i < this.n; i++) if (!this.seen[i]) out.push(this.keys[i]!)
    return out
  }
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
