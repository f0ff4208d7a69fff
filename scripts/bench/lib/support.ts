// What every benchmark needs: a PostgreSQL server (the run's TEST_DATABASE_URL, set by
// scripts/bench.mjs, or a throw-away embedded one when a benchmark is run on its own) and a median.
import { startThrowawayPostgres } from '../../test-postgres.mjs'

export async function benchDatabase(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = process.env.TEST_DATABASE_URL
  if (given) return { url: given, stop: async () => {} }
  return startThrowawayPostgres()
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
