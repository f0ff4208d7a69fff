// What every benchmark needs: a PostgreSQL server (the run's TEST_DATABASE_URL, set by
// scripts/bench.mjs, or a throw-away embedded one when a benchmark is run on its own) and a median.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { startThrowawayPostgres } from '../../test-postgres.mjs'

export async function benchDatabase(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = process.env.TEST_DATABASE_URL
  if (given) return { url: given, stop: async () => {} }
  return startThrowawayPostgres()
}

/** A fresh, empty database on the bench server; `drop()` removes it (and stops a server started here). */
export async function freshBenchDatabase(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = await benchDatabase()
  const admin = postgres(server.url, { max: 1, onnotice: () => {} })
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  await admin.unsafe(`create database ${name}`)
  const url = new URL(server.url)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
      await server.stop()
    },
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
