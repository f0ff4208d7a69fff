// A short-lived, in-process cache of read-mostly lists (the saved queries, the mapped providers) that
// every IDE page view reads. This process's own writes invalidate it at once; writes by another
// process (a second app instance on the same database) show within `maxAgeMs`.
export class ReadCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>()

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * The cached value of `key`, or `load()`'s. Concurrent callers share one load; a failed load is
   * not kept, so the next caller asks the database again. Values are frozen: callers share them.
   */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key)
    if (hit && this.now() - hit.at < this.maxAgeMs) return hit.value as Promise<T>
    const entry = { at: this.now(), value: load().then(freezeList) as Promise<unknown> }
    this.entries.set(key, entry)
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    return entry.value as Promise<T>
  }

  /** Forgets `keys`, including a load in flight (it may have started before the write committed). */
  invalidate(...keys: string[]): void {
    for (const key of keys) this.entries.delete(key)
  }
}

/** Freezes a list and its rows, so a caller that tries to change a shared value fails loudly. */
function freezeList<T>(value: T): T {
  if (Array.isArray(value)) for (const item of value) if (typeof item === 'object') Object.freeze(item)
  return Object.freeze(value)
}
