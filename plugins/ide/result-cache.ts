// The IDE's last results, kept briefly so a large result can be paged and downloaded whole without
// running the query again. Private to the IDE plugin (one instance per app, never module-level),
// bounded by entry count, estimated bytes and age; a result is readable only by the user who ran it.
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

/** Rough in-memory size of a result: JSON length of a sample of rows, scaled to the row count. */
export function estimateBytes(rows: Row[]): number {
  if (rows.length === 0) return 0
  const sample = Math.min(rows.length, 200)
  const step = rows.length / sample
  let chars = 0
  for (let i = 0; i < sample; i++) chars += JSON.stringify(rows[Math.floor(i * step)]).length
  // Strings are UTF-16 in memory and objects carry overhead: twice the JSON length is a fair guess.
  return Math.ceil((chars / sample) * rows.length * 2)
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
    const bytes = estimateBytes(result.rows)
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
