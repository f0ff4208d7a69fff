// Applies scripts/init_lakebase.sql (idempotent DDL) under an advisory lock, so the app and a job
// runner starting at the same moment do not race each other.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from './connect.js'

const LOCK_KEY = 0x5354_4b51 // "STKQ"

/** Finds the DDL: next to a bundled build (dist/init_lakebase.sql) or in the project's scripts/. */
export function findSchemaFile(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, 'init_lakebase.sql'), join(dir, 'scripts', 'init_lakebase.sql')]) {
      if (existsSync(candidate)) return candidate
    }
    dir = resolve(dir, '..')
  }
  throw new Error('scripts/init_lakebase.sql not found next to the application files')
}

export async function applySchema(sql: Sql, file = findSchemaFile()): Promise<void> {
  const ddl = readFileSync(file, 'utf8')
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`
    // Trusted, static DDL shipped with the app (never user input): simple protocol, many statements.
    await tx.unsafe(ddl)
  })
}
