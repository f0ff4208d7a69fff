// The IDE's last results, kept briefly so a large result can be paged and downloaded whole without
// running the query again. Private to the IDE plugin (one instance per app, never module-level),
// bounded by entry count, exact bytes and age; a result is readable only by the user who ran it.
// Results are the query's output (cloud inventory data), never credentials.
import { randomUUID } from 'node:crypto'
import type { Row } from '../../src/models.js'

export interface CachedResult {
  id: string
  owner: string
  columns: string[]
  rows: Row[]
  elapsedMs: number
  message?: string
  /** False when StackQL reported an error along with the rows (the page keeps showing the warning). */
  complete?: boolean
  incomplete?: string
  /** Bytes of the JSON the rows were parsed from, when the runner measured them. */
  outputBytes?: number
  createdAt: number
  bytes: number
}

export interface ResultCacheOptions {
  maxEntries?: number
  maxBytes?: number
  ttlMs?: number
  now?: () => number
}

export const RESULT_CACHE_DEFAULTS = { maxEntries: 20, maxBytes: 200 * 1024 * 1024, ttlMs: 30 * 60_000 }

/**
 * The size a result is accounted at: the exact bytes of the JSON StackQL printed (the runner counts
 * them), or — for a result that did not come from StackQL's stdout — the exact UTF-8 length of its
 * rows as JSON. Never a sample: one wide row among many narrow ones must count in full.
 */
export function resultBytes(result: { rows: Row[]; outputBytes?: number }): number {
  if (result.outputBytes !== undefined) return result.outputBytes
  let bytes = 2 + Math.max(0, result.rows.length - 1) // [ ] and the commas
  for (const row of result.rows) bytes += Buffer.byteLength(JSON.stringify(row))
  return bytes
}

export class ResultCache {
  readonly #entries = new Map<string, CachedResult>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #ttlMs: number
  readonly #now: () => number
  #bytes = 0

  constructor(opts: ResultCacheOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? RESULT_CACHE_DEFAULTS.maxEntries
    this.#maxBytes = opts.maxBytes ?? RESULT_CACHE_DEFAULTS.maxBytes
    this.#ttlMs = opts.ttlMs ?? RESULT_CACHE_DEFAULTS.ttlMs
    this.#now = opts.now ?? Date.now
  }

  get size(): number {
    return this.#entries.size
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Stores a result; undefined when it alone is larger than the whole cache may hold. */
  add(
    owner: string,
    result: Omit<CachedResult, 'id' | 'owner' | 'createdAt' | 'bytes'>,
  ): CachedResult | undefined {
    const bytes = resultBytes(result)
    if (bytes > this.#maxBytes) return undefined
    this.#expire()
    while (this.#entries.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#remove(oldest)
    }
    const entry: CachedResult = { ...result, id: randomUUID(), owner, createdAt: this.#now(), bytes }
    this.#entries.set(entry.id, entry)
    this.#bytes += bytes
    return entry
  }

  /** The result if it exists, has not expired and belongs to `owner`; marks it recently used. */
  get(id: string, owner: string): CachedResult | undefined {
    const entry = this.#entries.get(id)
    if (!entry) return undefined
    if (this.#now() - entry.createdAt > this.#ttlMs) {
      this.#remove(id)
      return undefined
    }
    if (entry.owner !== owner) return undefined
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    return entry
  }

  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  #expire(): void {
    const now = this.#now()
    for (const [id, entry] of this.#entries) {
      if (now - entry.createdAt > this.#ttlMs) this.#remove(id)
    }
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id)
    if (!entry) return
    this.#entries.delete(id)
    this.#bytes -= entry.bytes
  }
}
