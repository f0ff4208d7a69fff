// Faults of every outside system, end to end through the app: the database (down at start, cut
// mid-session), the StackQL binary (missing, crashing, hanging), the Databricks workspace (403, 429,
// 500), the Anthropic API (429, 500, a stream cut mid-answer) and the job runner killed mid-write.
// Each test asserts what the user sees and what the data holds.
import { join } from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import postgres from 'postgres'
import t from 'tap'
import { buildTestApp, type Session, type TestApp } from './helpers/app.js'
import { createTestDatabase } from './helpers/db.js'
import { exitOf, spawnRunner } from './helpers/runner-process.js'
import { openSnapshotter } from './helpers/snapshot-db.js'
import { processGone, readLog, STANDIN, tempDir, waitUntil, writeExecutable } from './helpers/stackql.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'
import { startAnthropicStandin } from './standins/anthropic.js'
import { addTemplateJob, type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const NO_STACK = /at .+\.(ts|js|mjs):\d+:\d+|node_modules/

interface Teardown {
  teardown(fn: () => unknown): void
}

const repos = "SELECT id, name FROM github.repos.repos WHERE org = 'stackql'"

function stackqlEnv(t: Teardown, extra: Record<string, string> = {}) {
  return { STACKQL_BIN: STANDIN, STACKQL_DOWNLOAD_DIR: tempDir(t, 'faults-'), ...extra }
}

/** A page (GET) or an htmx data request, as the browser makes it. */
async function visit(
  session: Session,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  form?: Record<string, string>,
) {
  return method === 'GET' ? session.get(url) : session.htmx(method, url, form)
}

function errorText(res: LightMyRequestResponse): string {
  return (
    /<div id="error-message"[^>]*>([\s\S]*?)<\/div>/.exec(res.body)?.[1] ??
    /<pre id="query-error"[^>]*>([\s\S]*?)<\/pre>/.exec(res.body)?.[1] ??
    ''
  )
}

t.test('database down at start: pages render with the banner, data routes 503, /healthz 503', async (t) => {
  const { app, session } = await buildTestApp(t, {
    url: 'postgres://postgres:pw-not-shown@127.0.0.1:1/none',
    env: stackqlEnv(t),
  })
  for (const page of ['/', '/schedules', '/inventory', '/providers']) {
    const res = await session.get(page)
    t.ok(res.statusCode === 200 || res.statusCode === 503, `${page} renders (${res.statusCode})`)
    t.match(res.body, /id="db-banner"[^>]*role="alert"/, `${page} shows the banner`)
    t.match(res.body, /Database unavailable\.<\/strong> Cannot reach the database at 127\.0\.0\.1:1/)
    t.match(res.body, '<nav', `${page} keeps the navigation`)
    t.notMatch(res.body, /pw-not-shown/, 'the password is not shown')
    t.notMatch(res.body, NO_STACK, 'no stack trace')
  }
  const data: Array<[method: 'GET' | 'POST' | 'DELETE', url: string, form?: Record<string, string>]> = [
    ['POST', '/queries', { name: 'q', query_text: repos, provider: 'github' }],
    ['GET', '/schedules/table'],
    ['POST', '/schedules', { query_id: '1', cron_expression: '0 6 * * *', target_table: 't' }],
    ['GET', '/inventory/tables/anything'],
    [
      'POST',
      '/providers',
      { provider: 'aws', env_var_name: 'AWS_REGION', secret_scope: 's', secret_key: 'k' },
    ],
    ['DELETE', '/queries/1'],
  ]
  for (const [method, url, form] of data) {
    const res = await visit(session, method, url, form)
    t.equal(res.statusCode, 503, `${method} ${url} answers 503`)
    t.match(errorText(res), /Cannot reach the database at 127\.0\.0\.1:1/, `${method} ${url} says why`)
  }
  const health = await app.inject('/healthz')
  t.equal(health.statusCode, 503)
  t.match(health.json(), { status: 'degraded', database: { up: false } })
})

t.test('database cut mid-session: banner and 503, then recovery without a restart', async (t) => {
  const real = new URL(await createTestDatabase(t))
  const proxy = await startTcpProxy(real.hostname, Number(real.port))
  t.teardown(() => proxy.close())
  const viaProxy = new URL(real)
  viaProxy.port = String(proxy.port)
  const { app, session } = await buildTestApp(t, { url: viaProxy.toString(), env: stackqlEnv(t) })
  const db = openSnapshotter(t, real.toString())
  const save = (name: string) =>
    session.htmx('POST', '/queries', { name, description: '', query_text: repos, provider: 'github' })
  t.equal((await save('before the cut')).statusCode, 201)

  await proxy.cut()
  const page = await session.get('/schedules')
  t.equal(page.statusCode, 503)
  t.match(page.body, /id="db-banner"[^>]*role="alert"/)
  const refused = await save('during the cut')
  t.equal(refused.statusCode, 503)
  t.match(errorText(refused), /Cannot reach the database at 127\.0\.0\.1:\d+/)
  t.equal((await session.htmx('GET', '/inventory/tables/x')).statusCode, 503)
  t.equal((await app.inject('/healthz')).statusCode, 503)

  await proxy.restore()
  const saved = await save('after the restore')
  t.equal(saved.statusCode, 201, 'saving works again without a restart')
  t.match(saved.body, 'after the restore')
  t.notMatch((await session.get('/')).body, /Database unavailable/, 'the banner is gone')
  t.equal((await app.inject('/healthz')).statusCode, 200)
  t.same(
    (await db.rows<{ name: string }>('queries')).map((q) => q.name),
    ['before the cut', 'after the restore'],
    'nothing was half-saved during the cut',
  )
})

t.test('StackQL faults in the IDE', async (t) => {
  t.test('a missing binary: a clear STACKQL_BINARY message naming STACKQL_BIN', async (t) => {
    const { session } = await buildTestApp(t, { env: stackqlEnv(t, { STACKQL_BIN: '/nonexistent/stackql' }) })
    const res = await session.htmx('POST', '/run', { query_text: 'SHOW PROVIDERS' })
    t.ok(res.statusCode >= 400, `refused (${res.statusCode})`)
    t.match(res.body, /<span class="muted">STACKQL_BINARY<\/span>/)
    t.match(errorText(res), /STACKQL_BIN/, 'tells which setting to check')
    t.match(errorText(res), /\/nonexistent\/stackql/, 'names the path it tried')
    t.notMatch(res.body, NO_STACK)
  })

  t.test('a crashing binary: its panic message is shown, no server stack', async (t) => {
    const { session } = await buildTestApp(t, { env: stackqlEnv(t) })
    const res = await session.htmx('POST', '/run', {
      query_text: 'SELECT * FROM stackql_test.util.crash',
      provider: 'stackql_test',
    })
    t.equal(res.statusCode, 422)
    t.match(res.body, /<span class="muted">STACKQL_QUERY<\/span>/)
    t.match(errorText(res), /panic: runtime error: invalid memory address/)
    t.notMatch(res.body, NO_STACK, 'no Node stack trace (the Go panic is StackQL’s own message)')
  })

  t.test('a hanging binary: stopped at STACKQL_QUERY_TIMEOUT_S, its processes gone', async (t) => {
    const dir = tempDir(t, 'faults-hang-')
    const log = join(dir, 'standin.log')
    // A "downloaded binary" that logs its pid and its grandchild's pid (test/standins/stackql/README.md).
    const bin = writeExecutable(
      join(dir, 'stackql'),
      `#!/bin/sh\nSTACKQL_STANDIN_LOG="${log}" exec "${process.execPath}" "${STANDIN}" "$@"\n`,
    )
    const { session } = await buildTestApp(t, {
      env: stackqlEnv(t, { STACKQL_BIN: bin, STACKQL_QUERY_TIMEOUT_S: '3' }),
    })
    const started = Date.now()
    const res = await session.htmx('POST', '/run', {
      query_text: "SELECT * FROM stackql_test.util.sleep WHERE seconds = '60'",
      provider: 'stackql_test',
    })
    t.ok(Date.now() - started < 20_000, 'the answer comes at the timeout, not after the sleep')
    t.equal(res.statusCode, 504)
    t.match(res.body, /<span class="muted">STACKQL_TIMEOUT<\/span>/)
    t.match(errorText(res), /ran longer than 3 s(econds?)? and was stopped.*STACKQL_QUERY_TIMEOUT_S/s)
    const lines = readLog(log)
    const sleeper = lines.find((l) => l.argv?.some((a) => a.includes('stackql_test.util.sleep')))
    const grandchild = lines.find((l) => l.grandchildPid)?.grandchildPid
    t.ok(sleeper, 'the sleeping StackQL process was logged')
    t.ok(grandchild, 'its grandchild was logged')
    t.ok(await waitUntil(() => processGone(sleeper!.pid), 5000), `StackQL process ${sleeper?.pid} is gone`)
    t.ok(await waitUntil(() => processGone(grandchild!), 5000), `grandchild ${grandchild} is gone`)
  })
  t.end()
})

async function workspaceApp(t: Teardown): Promise<TestApp & { ws: Standin }> {
  const ws = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => ws.close())
  addTemplateJob(ws)
  ws.state.putSecret('stackql-inventory', 'aws-key-id', 'AKIAFAULTS')
  const built = await buildTestApp(t, {
    env: stackqlEnv(t, {
      DATABRICKS_HOST: ws.url,
      DATABRICKS_TOKEN: 'dapi-test',
      STACKQL_LOCAL_DEV: 'false',
    }),
  })
  await built.session.get('/schedules')
  return { ...built, ws }
}

const count = (ws: Standin, method: string, path: string) =>
  ws.state.requests.filter((r) => r.method === method && r.path === path).length

t.test('Databricks faults on schedule creation', async (t) => {
  const { app, session, ws } = await workspaceApp(t)
  const query = await app.db.saveQuery(
    { name: 'repos', description: '', query_text: repos, provider: 'github' },
    'dev@example.com',
  )
  const create = (table: string) =>
    session.htmx('POST', '/schedules', {
      query_id: String(query.id),
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: table,
    })
  const jobsInWorkspace = () => ws.state.jobs.size

  t.test('403 reading the template: the permission message, no row, no job', async (t) => {
    ws.faults.add({ method: 'GET', path: '/api/2.2/jobs/list', status: 403 })
    const res = await create('forbidden')
    t.equal(res.statusCode, 403)
    t.match(res.body, /data-code="DATABRICKS_PERMISSION"/)
    t.match(errorText(res), /service principal needs .*permission to create jobs/)
    t.same(await app.db.getSchedules(), [], 'no schedule row left behind')
    t.equal(jobsInWorkspace(), 1, 'only the template job exists')
  })

  t.test('429 on jobs/create is retried, then the schedule is created once', async (t) => {
    const before = count(ws, 'POST', '/api/2.2/jobs/create')
    ws.faults.add({ method: 'POST', path: '/api/2.2/jobs/create', status: 429, times: 2, retryAfter: '0' })
    const res = await create('rate_limited')
    t.equal(res.statusCode, 200, errorText(res))
    t.equal(count(ws, 'POST', '/api/2.2/jobs/create') - before, 3, 'two 429s, then one success')
    const schedules = await app.db.getSchedules()
    t.equal(schedules.length, 1)
    t.ok(schedules[0]!.job_id, 'the row carries the new job id')
    t.equal(jobsInWorkspace(), 2, 'exactly one job was created')
    await app.schedules.delete(schedules[0]!.id)
  })

  t.test('500 on jobs/create is not retried (no duplicate jobs): a clear error, no row', async (t) => {
    const before = count(ws, 'POST', '/api/2.2/jobs/create')
    ws.faults.add({ method: 'POST', path: '/api/2.2/jobs/create', status: 500, times: 5 })
    const res = await create('server_error')
    t.equal(res.statusCode, 502)
    t.match(res.body, /data-code="DATABRICKS_UNAVAILABLE"/)
    t.match(
      errorText(res),
      /Databricks failed to answer \/api\/2\.2\/jobs\/create \(500 .*\) after 1 attempt\./,
    )
    t.equal(count(ws, 'POST', '/api/2.2/jobs/create') - before, 1, 'one attempt only')
    t.same(await app.db.getSchedules(), [], 'no schedule row left behind')
    t.equal(jobsInWorkspace(), 1)
    ws.faults.clear()
  })

  t.test('500 on a read is retried a bounded number of times, then a clear error', async (t) => {
    const before = count(ws, 'GET', '/api/2.2/jobs/list')
    ws.faults.add({ method: 'GET', path: '/api/2.2/jobs/list', status: 500, times: 50 })
    const res = await create('server_error')
    t.equal(res.statusCode, 502)
    t.match(
      errorText(res),
      /Databricks failed to answer \/api\/2\.2\/jobs\/list.*\(500 .*\) after 4 attempts\./,
    )
    t.equal(count(ws, 'GET', '/api/2.2/jobs/list') - before, 4, 'the first try and 3 retries')
    t.same(await app.db.getSchedules(), [])
    ws.faults.clear()
  })
  t.end()
})

t.test('Databricks faults on the provider-mapping check', async (t) => {
  const { app, session, ws } = await workspaceApp(t)
  const add = () =>
    session.htmx('POST', '/providers', {
      provider: 'aws',
      env_var_name: 'AWS_ACCESS_KEY_ID',
      secret_scope: 'stackql-inventory',
      secret_key: 'aws-key-id',
    })
  const secretGets = () => count(ws, 'GET', '/api/2.0/secrets/list')

  t.test('403: the app may not read the scope, nothing saved', async (t) => {
    ws.faults.add({ method: 'GET', path: '/api/2.0/secrets/list', status: 403 })
    const res = await add()
    t.equal(res.statusCode, 403)
    t.match(res.body, /data-code="SECRET_FORBIDDEN"/)
    t.match(errorText(res), /The app may not read secret stackql-inventory\/aws-key-id/)
    t.match(errorText(res), /READ on the secret scope/)
    t.notMatch(res.body, /AKIAFAULTS/)
    t.same(await app.db.getProviderConfig(), [])
  })

  t.test('429 twice, then the check passes and the mapping is saved', async (t) => {
    const before = secretGets()
    ws.faults.add({ method: 'GET', path: '/api/2.0/secrets/list', status: 429, times: 2, retryAfter: '0' })
    const res = await add()
    t.equal(res.statusCode, 200, errorText(res))
    t.equal(secretGets() - before, 3)
    t.equal((await app.db.getProviderConfig()).length, 1)
    await app.db.deleteProviderConfig((await app.db.getProviderConfig())[0]!.id)
  })

  t.test('500 until the retries run out: a clear error, nothing saved', async (t) => {
    const before = secretGets()
    ws.faults.add({ method: 'GET', path: '/api/2.0/secrets/list', status: 500, times: 50 })
    const res = await add()
    t.equal(res.statusCode, 502)
    t.match(errorText(res), /Databricks failed to answer \/api\/2\.0\/secrets\/list.*after 4 attempts/)
    t.equal(secretGets() - before, 4, 'bounded: the first try and 3 retries')
    t.same(await app.db.getProviderConfig(), [])
    ws.faults.clear()
  })
  t.end()
})

t.test('Anthropic faults in the chat', async (t) => {
  const api = await startAnthropicStandin()
  t.teardown(() => api.close())
  const ws = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => ws.close())
  ws.state.putSecret('stackql-inventory', 'anthropic-api-key', api.apiKey)
  const { app } = await buildTestApp(t, {
    env: stackqlEnv(t, {
      STACKQL_LOCAL_DEV: 'false',
      DATABRICKS_HOST: ws.url,
      DATABRICKS_TOKEN: 'dapi-test',
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_MODEL: 'claude-test-model',
    }),
  })
  const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })
  const set = page.headers['set-cookie']
  const cookie = `_csrf=${/_csrf=([^;]+)/.exec(Array.isArray(set) ? set[0]! : String(set))![1]}`
  const token = /<meta name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!
  const chat = async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/chat',
      headers: {
        cookie,
        'x-csrf-token': token,
        accept: 'text/event-stream',
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ mode: 'query', messages: [{ role: 'user', content: 'list my repos' }] }),
    })
    const events = res.body
      .split('\n\n')
      .filter((b) => b.trim())
      .map((b) => ({
        event: /^event: (.*)$/m.exec(b)?.[1],
        data: b
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n'),
      }))
    const done = events.find((e) => e.event === 'done')
    return {
      res,
      events,
      error: events.find((e) => e.event === 'error')?.data ?? '',
      done: done
        ? (JSON.parse(done.data) as { content: string; error: string | null; html: string })
        : undefined,
    }
  }

  t.test('429: visible waits, then a readable rate-limit error in the chat', async (t) => {
    // Two visible retries (each a `wait` event), then the third 429 is the error.
    api.script(
      { kind: 'error', status: 429, retryAfterS: 1 },
      { kind: 'error', status: 429, retryAfterS: 1 },
      { kind: 'error', status: 429, retryAfterS: 1 },
    )
    const { res, error, done, events } = await chat()
    t.equal(res.statusCode, 200, 'the stream opens; the failure is an event in it')
    t.equal(events.filter((e) => e.event === 'wait').length, 2)
    t.match(error, /^<div class="alert alert-error chat-error" role="alert">The AI assistant is rate limited/)
    t.equal(done?.content, '')
    t.match(done?.error, /rate limited/)
    t.match(done?.html, /rate limited/, 'the final message shows the error')
  })

  t.test('500: a readable error after the bounded retry', async (t) => {
    const before = api.messageRequests().length
    api.script({ kind: 'error', status: 500 }, { kind: 'error', status: 500 })
    const { error, done } = await chat()
    t.equal(api.messageRequests().length - before, 2, 'one retry, then the error')
    t.match(error, /chat-error" role="alert">[^<]*(Anthropic|AI assistant)[^<]*<\/div>/)
    t.notMatch(error, NO_STACK)
    t.match(done?.error, /./)
  })

  t.test('a stream cut mid-answer: the partial answer is kept, the cut is explained', async (t) => {
    const text = 'First you need the org name. Then run a SELECT against github.repos.repos with it.'
    api.script({ kind: 'cut', text, afterDeltas: 6 })
    const { error, done, events } = await chat()
    t.ok(
      events.some((e) => e.event === 'render'),
      'the partial answer was rendered while it streamed',
    )
    t.match(error, /cut off/)
    t.ok(done, 'the stream still ends with done')
    t.ok(done!.content.length > 0 && text.startsWith(done!.content), `partial answer kept: ${done!.content}`)
    t.ok(done!.content.length < text.length, 'and it is only the part that arrived')
    t.match(done!.error, /cut off/)
    t.match(done!.html, /First you need/, 'the partial answer is in the final message')
  })
  t.end()
})

t.test('the runner killed with SIGKILL mid-write leaves the previous snapshot intact', async (t) => {
  const { app, url, session } = await buildTestApp(t, { env: stackqlEnv(t) })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))
  const rowsQuery = (n: number) => `SELECT id, name, region FROM stackql_test.util.rows WHERE count = '${n}'`
  const small = await app.db.saveQuery(
    { name: 'small', description: '', query_text: rowsQuery(3000), provider: 'stackql_test' },
    'dev@example.com',
  )
  const big = await app.db.saveQuery(
    { name: 'big', description: '', query_text: rowsQuery(200_000), provider: 'stackql_test' },
    'dev@example.com',
  )
  const schedule = await app.db.saveSchedule({
    query_id: big.id,
    cron_expression: '0 6 * * *',
    target_schema: 'stackql_inventory',
    target_table: 'killed_rows',
  })
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tempDir(t, 'faults-home-'),
    DATABASE_URL: url,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'faults-runner-'),
    LOG_LEVEL: 'warn',
  }
  const runner = (queryId: number, extra: string[] = []) =>
    spawnRunner(
      [
        '--query-id',
        String(queryId),
        '--target-schema',
        'stackql_inventory',
        '--target-table',
        'killed_rows',
        ...extra,
      ],
      env,
    )

  // The previous snapshot: a complete run of 3,000 rows.
  const first = await exitOf(runner(small.id))
  t.equal(first.code, 0, first.output)
  const snapshot = async () =>
    (
      await sql`select count(*)::int as n, md5(string_agg(id || name || region, ',' order by id)) as digest
      from stackql_inventory.killed_rows`
    )[0]!
  const previous = await snapshot()
  t.equal(previous.n, 3000)

  const child = runner(big.id, ['--schedule-id', String(schedule.id)])
  const exited = exitOf(child)
  // Kill it while its COPY into the inventory is under way.
  let copying = 0
  for (let i = 0; i < 1500 && copying === 0; i++) {
    const [p] = await sql<{ n: number }[]>`
      select coalesce(max(tuples_processed), 0)::int as n from pg_stat_progress_copy
      where datname = current_database()`
    copying = p!.n
    if (copying === 0) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(copying > 0, `the runner was writing (${copying} rows sent)`)
  child.kill('SIGKILL')
  const killed = await exited
  t.equal(killed.signal, 'SIGKILL')
  t.notMatch(killed.output, /wrote 200000 rows/)

  t.same(await snapshot(), previous, 'the previous 3,000 rows are intact, not mixed with the new ones')
  const runs = await sql<{ status: string; query_id: number; finished_at: Date | null }[]>`
    select status, query_id::int, finished_at from stackql_app.runs where query_id = ${big.id}`
  t.same(
    runs.map((r) => ({ status: r.status, finished: r.finished_at !== null })),
    [{ status: 'RUNNING', finished: false }],
    'the killed run stays RUNNING: nothing was left to record its end',
  )
  // What the user sees: the row says Running (amber, with a spinner) and keeps polling.
  const row = await session.htmx('GET', `/schedules/${schedule.id}`)
  t.equal(row.statusCode, 200)
  t.match(row.body, /data-status="RUNNING"/)
  t.match(row.body, /class="dot RUNNING"/)
  t.match(row.body, /hx-trigger="every 2s"/, 'and polls every 2 s for as long as the page is open')
  t.match(row.body, /class="run-now"[^>]*disabled/, 'Run now stays disabled while the run looks RUNNING')
  const inventory = await session.get('/inventory/tables/killed_rows')
  t.equal(inventory.statusCode, 200)
  t.match(inventory.body, /killed_rows/, 'the inventory still shows the table with its previous rows')
})
