// Where a secret could leak, gathered so a test can search it for a canary value: the app's log
// (the production logger options at level 'trace', written to memory), every HTTP response the
// browser received, every row of every table in the test database, and files under given folders.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page, Response } from 'playwright-core'
import postgres from 'postgres'
import { type BrowserApp, startBrowserApp } from './browser.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface CanaryApp extends BrowserApp {
  /** Every line the app logged (pino JSON, level trace and up), in order. */
  logLines: string[]
  /** DATA_DIR of the app. */
  dataDir: string
}

/**
 * startBrowserApp with the app's production logger options (redaction included) at level 'trace'
 * writing into `logLines`, and its own DATA_DIR, so everything the app can write is inspectable.
 */
export async function startCanaryApp(
  t: Teardown,
  opts: { env?: Record<string, string> } = {},
): Promise<CanaryApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stackql-canary-data-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const logLines: string[] = []
  let partial = ''
  const logStream = {
    write(chunk: string) {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      logLines.push(...parts.filter(Boolean))
    },
  }
  const started = await startBrowserApp(t, {
    env: { DATA_DIR: dataDir, LOG_LEVEL: 'trace', ...opts.env },
    logStream,
    timeoutMs: 30_000,
  })
  return { ...started, logLines, dataDir }
}

export interface CapturedResponse {
  url: string
  status: number
  contentType: string
  /** Headers and (for text types) the body. */
  text: string
}

const TEXT_TYPES = /^(text\/html|application\/json|text\/event-stream|text\/csv|text\/plain)/

/**
 * Records every response the page receives: headers always, the body for HTML, JSON, SSE, CSV and
 * plain text. Chromium keeps no body for a stream the page reads as it arrives (the chat's SSE over
 * fetch), so event streams are recorded chunk by chunk through the DevTools protocol
 * (Network.streamResourceContent). `settle()` waits for bodies still being read (call it before
 * navigating away, while Chromium still has them); `unread` lists the responses that could not be read.
 */
export async function captureResponses(page: Page): Promise<{
  responses: CapturedResponse[]
  unread: string[]
  settle(timeoutMs?: number): Promise<void>
}> {
  const responses: CapturedResponse[] = []
  const unread: string[] = []
  const pending = new Set<Promise<void>>()
  const track = (p: Promise<void>) => {
    const tracked = p.finally(() => pending.delete(tracked))
    pending.add(tracked)
  }

  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const streams = new Map<string, { head: Buffer[]; tail: Buffer[] }>()
  cdp.on('Network.responseReceived', (e) => {
    if (!/^text\/event-stream/.test(e.response.mimeType)) return
    const stream = { head: [] as Buffer[], tail: [] as Buffer[] }
    streams.set(e.requestId, stream)
    const record = { url: e.response.url, status: e.response.status, contentType: e.response.mimeType }
    track(
      cdp
        .send('Network.streamResourceContent', { requestId: e.requestId })
        .then((r) => {
          // What arrived before streaming was switched on; later chunks come with dataReceived.
          stream.head.push(Buffer.from(r.bufferedData, 'base64'))
        })
        .catch((err: Error) => {
          unread.push(`${record.status} ${record.url} (event stream): ${err.message}`)
        }),
    )
    // The whole stream is read once its request finished (or failed).
    track(
      new Promise<void>((resolve) => {
        const done = (f: { requestId: string }) => {
          if (f.requestId !== e.requestId) return
          cdp.off('Network.loadingFinished', done)
          cdp.off('Network.loadingFailed', done)
          resolve()
        }
        cdp.on('Network.loadingFinished', done)
        cdp.on('Network.loadingFailed', done)
      }).then(() => {
        const body = Buffer.concat([...stream.head, ...stream.tail]).toString('utf8')
        responses.push({ ...record, text: `${JSON.stringify(e.response.headers)}\n${body}` })
      }),
    )
  })
  cdp.on('Network.dataReceived', (e) => {
    const data = (e as { data?: string }).data
    if (data) streams.get(e.requestId)?.tail.push(Buffer.from(data, 'base64'))
  })

  const read = async (r: Response) => {
    const headers = await r.allHeaders().catch(() => r.headers())
    const contentType = headers['content-type'] ?? ''
    if (contentType.startsWith('text/event-stream')) return // recorded through the protocol above
    let body = ''
    if (TEXT_TYPES.test(contentType) && r.status() !== 204 && !(r.status() >= 300 && r.status() < 400)) {
      try {
        body = (await r.body()).toString('utf8')
      } catch (e) {
        unread.push(`${r.status()} ${r.url()}: ${(e as Error).message}`)
      }
    }
    responses.push({
      url: r.url(),
      status: r.status(),
      contentType,
      text: `${JSON.stringify(headers)}\n${body}`,
    })
  }
  page.on('response', (r) => track(read(r)))
  return {
    responses,
    unread,
    settle: async (timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs
      while (pending.size > 0 && Date.now() < end) {
        await Promise.race([Promise.all([...pending]), new Promise((r) => setTimeout(r, end - Date.now()))])
      }
      if (pending.size > 0) unread.push(`${pending.size} responses still unread after ${timeoutMs} ms`)
    },
  }
}

/** Every row of every table and materialised view outside the system schemas, as text lines. */
export async function dumpDatabase(url: string): Promise<{ text: string; tables: string[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const relations = await sql<{ schema: string; name: string }[]>`
      select n.nspname as schema, c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm', 'p')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
      order by 1, 2`
    const lines: string[] = []
    const tables: string[] = []
    for (const { schema, name } of relations) {
      tables.push(`${schema}.${name}`)
      const unpopulated = await sql`
        select 1 from pg_matviews where schemaname = ${schema} and matviewname = ${name} and not ispopulated`
      if (unpopulated.length > 0) continue // an unpopulated view holds no rows (and cannot be read)
      const rows = await sql<{ row: string }[]>`select t::text as row from ${sql(schema)}.${sql(name)} t`
      for (const r of rows) lines.push(`${schema}.${name}: ${r.row}`)
    }
    return { text: lines.join('\n'), tables }
  } finally {
    await sql.end()
  }
}

/** Regular files under `roots` (recursively; missing roots and vanished files are skipped). */
export function listFiles(roots: string[], opts: { skip?: (path: string) => boolean } = {}): string[] {
  const out: string[] = []
  const walk = (path: string) => {
    if (opts.skip?.(path)) return
    let st: ReturnType<typeof statSync>
    try {
      st = statSync(path, { throwIfNoEntry: false }) as ReturnType<typeof statSync>
    } catch {
      return
    }
    if (!st) return
    if (st.isDirectory()) {
      let names: string[] = []
      try {
        names = readdirSync(path)
      } catch {
        return
      }
      for (const n of names) walk(join(path, n))
    } else if (st.isFile()) out.push(path)
  }
  for (const r of roots) walk(r)
  return out
}

/** The files (of `files`) whose bytes contain any of `needles`; unreadable files are skipped. */
export function filesContaining(files: string[], needles: string[], maxBytes = 64 * 1024 * 1024): string[] {
  const hits: string[] = []
  const patterns = needles.map((n) => Buffer.from(n, 'utf8'))
  for (const f of files) {
    let buf: Buffer
    try {
      if (statSync(f).size > maxBytes) continue
      buf = readFileSync(f)
    } catch {
      continue
    }
    if (patterns.some((p) => buf.includes(p))) hits.push(f)
  }
  return hits
}

/** Entries of `dir` (one level) that were not in `before`: what appeared while the test ran. */
export function newEntries(dir: string, before: Set<string>): string[] {
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.filter((n) => !before.has(n)).map((n) => join(dir, n))
}

/** The needles found in `text`, as "<label>" (never the value itself, so the report does not leak). */
export function leaksIn(text: string, canaries: Record<string, string>): string[] {
  return Object.entries(canaries)
    .filter(([, v]) => text.includes(v))
    .map(([label]) => label)
}
