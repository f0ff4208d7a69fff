// A small bounded map (least recently used out first) for values that never go stale, such as
// the metadata of one provider version.
export class MemoryCache<T> {
  private readonly map = new Map<string, T>()

  constructor(private readonly maxEntries: number) {}

  get(key: string): T | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }

  set(key: string, value: T): void {
    this.map.delete(key)
    this.map.set(key, value)
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string)
  }

  clear(): void {
    this.map.clear()
  }
}
