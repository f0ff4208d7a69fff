// How the pages write numbers, times and JSON values, in one place.

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** 'YYYY-MM-DD HH:MM UTC', or the given fallback for no (or an invalid) date. */
export function formatTime(d: Date | string | null | undefined, fallback = 'never'): string {
  if (!d) return fallback
  const date = d instanceof Date ? d : new Date(d)
  if (Number.isNaN(date.getTime())) return fallback
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** JSON text of any value, with bigints written as strings (JSON.stringify throws on them). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value)
}
