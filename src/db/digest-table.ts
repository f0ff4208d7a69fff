// Compact in-memory forms for the delta write's digests: the stored (key hash, digest) pairs in an
// open-addressing hash table over typed arrays (~40 bytes a row at most, not a Map's ~80; one probe
// per lookup instead of a bisection's cache misses), and a growable list of key hashes whose
// duplicates are found by sorting. A 1M-row table costs ~34 MB, not ~120 MB.

/** The stored pairs, looked up by key hash; `mark` flags the ones a run has seen. */
export class DigestTable {
  private keys: Float64Array
  private digests: Float64Array
  /** Slot -> entry index + 1 (0 = empty); a power of two, at most half full. */
  private slots: Int32Array
  private seen: Uint8Array
  private n = 0

  /** `capacity` is a hint: the table grows when more pairs come. */
  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(capacity, 16))
    this.digests = new Float64Array(this.keys.length)
    this.seen = new Uint8Array(this.keys.length)
    this.slots = new Int32Array(slotsFor(this.keys.length))
  }

  /** Twice the room: the pairs are copied and the slots rebuilt. */
  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2)
    keys.set(this.keys)
    const digests = new Float64Array(keys.length)
    digests.set(this.digests)
    const seen = new Uint8Array(keys.length)
    seen.set(this.seen)
    this.keys = keys
    this.digests = digests
    this.seen = seen
    this.slots = new Int32Array(slotsFor(keys.length))
    const mask = this.slots.length - 1
    for (let i = 0; i < this.n; i++) {
      let s = this.home(keys[i]!)
      while (this.slots[s] !== 0) s = (s + 1) & mask
      this.slots[s] = i + 1
    }
  }

  /** Home slot of a key hash (a non-negative integer below 2^53): its low bits, mixed with the high ones. */
  private home(keyHash: number): number {
    const lo = keyHash | 0 // ToInt32: the exact low 32 bits of an integer below 2^53
    const hi = (keyHash / 0x100000000) | 0
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & (this.slots.length - 1)
  }

  /** Adds a pair (a key hash twice keeps the first; the writer's key checks refuse such runs). */
  push(keyHash: number, digest: number): void {
    if (this.n === this.keys.length) this.grow()
    const mask = this.slots.length - 1
    let s = this.home(keyHash)
    while (this.slots[s] !== 0) {
      if (this.keys[this.slots[s]! - 1] === keyHash) return
      s = (s + 1) & mask
    }
    this.keys[this.n] = keyHash
    this.digests[this.n] = digest
    this.n++
    this.slots[s] = this.n
  }

  get size(): number {
    return this.n
  }

  /** Index of the key hash, or -1. */
  find(keyHash: number): number {
    const { slots, keys } = this
    const mask = slots.length - 1
    let s = this.home(keyHash)
    for (;;) {
      const e = slots[s]!
      if (e === 0) return -1
      if (keys[e - 1] === keyHash) return e - 1
      s = (s + 1) & mask
    }
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

/** A power of two at least twice the entries: linear probing stays short. */
function slotsFor(entries: number): number {
  let size = 16
  while (size < entries * 2) size *= 2
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
