// Helpers for tests of the StackQL engine: the stand-in executable, runners on a fresh approot,
// a local HTTP server handing out zip archives, and process-liveness checks.
import './children.js'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import yazl from 'yazl'
import {
  type EngineLogger,
  pickBaseEnvironment,
  StackqlRunner,
  type StackqlRunnerOptions,
} from '../../src/stackql/runner.js'

/** The stand-in `stackql` executable (test/standins/stackql/README.md). */
export const STANDIN = fileURLToPath(new URL('../standins/stackql/stackql.mjs', import.meta.url))

export interface Tap {
  teardown(fn: () => unknown): void
}

export function tempDir(t: Tap, prefix = 'stackql-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A runner on the stand-in with its own approot. With `logArgv` every run appends its argv to
 * `logFile` (otherwise only runs given STACKQL_STANDIN_LOG in their env do).
 */
export function makeRunner(
  t: Tap,
  opts: Partial<StackqlRunnerOptions> = {},
  { logArgv = false } = {},
): { runner: StackqlRunner; approot: string; logFile: string } {
  const dir = tempDir(t)
  const approot = join(dir, 'approot')
  const logFile = join(dir, 'standin.log')
  const runner = new StackqlRunner({
    ...(logArgv ? { baseEnv: { ...pickBaseEnvironment(), STACKQL_STANDIN_LOG: logFile } } : {}),
    binary: STANDIN,
    approot,
    timeoutMs: 30_000,
    maxOutputBytes: 64 * 1024 * 1024,
    ...opts,
  })
  return { runner, approot, logFile }
}

/** makeRunner with `providers` already pulled into its approot. */
export async function pulledRunner(t: Tap, providers: string[], opts: Partial<StackqlRunnerOptions> = {}) {
  const made = makeRunner(t, opts)
  for (const p of providers) await made.runner.run(`REGISTRY PULL ${p}`)
  return made
}

/** Lines the stand-in appended to its log (STACKQL_STANDIN_LOG). */
export function readLog(logFile: string): Array<{ pid: number; argv?: string[]; grandchildPid?: number }> {
  if (!existsSync(logFile)) return []
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

/** The stand-in's account id for an access key (same derivation as fixtures.mjs). */
export function awsAccountFor(accessKeyId: string): string {
  const hex = createHash('sha256').update(`standin:${accessKeyId}`).digest('hex')
  return String(BigInt(`0x${hex.slice(0, 15)}`) % 10n ** 12n).padStart(12, '0')
}

/** True when the process no longer runs (gone, or a zombie waiting to be reaped). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

export async function waitUntil(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}

/** A shell script that behaves like a downloaded stackql binary by running the stand-in. */
export function standinWrapper(): string {
  return `#!/bin/sh\nexec "${process.execPath}" "${STANDIN}" "$@"\n`
}

/** Writes an executable file. */
export function writeExecutable(path: string, content: string | Buffer): string {
  writeFileSync(path, content)
  chmodSync(path, 0o755)
  return path
}

export function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, { mode: 0o100644 })
  }
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    zip.outputStream.on('error', reject)
  })
}

export interface FileServer {
  url: string
  /** Request paths, in order. */
  hits: string[]
  /** Replace what a path answers. */
  routes: Map<string, { status: number; body: Buffer }>
}

/** A local HTTP server answering GET <path> from `routes` (404 otherwise); closed at teardown. */
export async function serveFiles(
  t: Tap,
  routes: Record<string, { status?: number; body: Buffer }> = {},
): Promise<FileServer> {
  const table = new Map(
    Object.entries(routes).map(([p, r]) => [p, { status: r.status ?? 200, body: r.body }]),
  )
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(req.url ?? '')
    const route = table.get(req.url ?? '')
    // A small delay so concurrent first uses really overlap.
    setTimeout(() => {
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
        return
      }
      res.writeHead(route.status, { 'content-type': 'application/zip' }).end(route.body)
    }, 50)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/latest`, hits, routes: table }
}

/** A logger that keeps every line as text, to prove what was (not) logged. */
export function captureLogger(): EngineLogger & { lines: string[] } {
  const lines: string[] = []
  const write = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    lines.push(`${level} ${msg} ${JSON.stringify(obj)}`)
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn') }
}
