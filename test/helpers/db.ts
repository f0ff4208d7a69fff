// A fresh database per test file on the run's PostgreSQL server (scripts/test.mjs starts it and
// sets TEST_DATABASE_URL), with the app's schema applied and dropped again at teardown.
import './children.js'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { openDatabase, type Sql } from '../../src/db/connect.js'
import { DbService } from '../../src/db/db-service.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run tests through `npm test` (scripts/test.mjs)')
  return url
}

/** Creates an empty database and returns its URL; dropped (with its connections) at teardown. */
export async function createTestDatabase(t: Teardown): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  t.teardown(async () => {
    const a = postgres(adminUrl(), { max: 1, onnotice: () => {} })
    await a.unsafe(`drop database if exists ${name} with (force)`)
    await a.end()
  })
  const u = new URL(adminUrl())
  u.pathname = `/${name}`
  return u.toString()
}

export interface TestDb {
  url: string
  sql: Sql
  db: DbService
}

/** A DbService on a fresh database with the schema applied. */
export async function testDb(t: Teardown, opts: { max?: number } = {}): Promise<TestDb> {
  const url = await createTestDatabase(t)
  const { sql, target, close } = await openDatabase({ mode: 'url', url }, { max: opts.max ?? 5 })
  const db = new DbService(sql, target)
  await db.ping()
  t.teardown(close)
  return { url, sql, db }
}
