import t from 'tap'
import { buildTestApp } from './helpers/app.js'
import { createTestDatabase } from './helpers/db.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

t.test('the layout links the four areas, carries a CSRF token and strict security headers', async (t) => {
  const { session } = await buildTestApp(t)
  for (const [path, label] of [
    ['/', 'IDE'],
    ['/schedules', 'Schedules'],
    ['/inventory', 'Inventory'],
    ['/providers', 'Providers'],
  ] as const) {
    const res = await session.get(path)
    t.equal(res.statusCode, 200, path)
    t.match(
      res.body,
      new RegExp(`<a href="${path}" aria-current="page" class="active">${label}</a>`),
      `${label} is active`,
    )
    t.match(res.body, /<meta name="csrf-token" content="[^"]+">/)
    t.match(res.headers['content-security-policy'], /script-src 'self'/)
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  }
  for (const label of ['IDE', 'Schedules', 'Inventory', 'Providers']) {
    t.match((await session.get('/')).body, `>${label}</a>`)
  }
})

t.test('an htmx partial request gets the fragment without the layout', async (t) => {
  const { session } = await buildTestApp(t)
  const full = await session.get('/schedules')
  const partial = await session.get('/schedules', { 'hx-request': 'true', 'hx-request-type': 'partial' })
  t.match(full.body, /<!doctype html>/)
  t.notMatch(partial.body, /<!doctype html>|<nav/)
  t.match(partial.body, /id="schedules-page"/)
})

t.test('state-changing requests without the CSRF token are refused with 403', async (t) => {
  const { app, session } = await buildTestApp(t)
  const bare = await app.inject({ method: 'POST', url: '/providers', payload: { a: 1 } })
  t.equal(bare.statusCode, 403)
  t.match(bare.json().message, /Reload the page/)
  await session.get('/')
  const withToken = await session.htmx('POST', '/nowhere', { a: '1' })
  t.equal(withToken.statusCode, 404, 'the token lets the request through to routing')
})

t.test('identity comes from X-Forwarded-Email, with the local fallback user in development', async (t) => {
  const { session } = await buildTestApp(t, { env: { LOCAL_USER_EMAIL: 'dev@example.com' } })
  t.match((await session.get('/', { 'x-forwarded-email': 'jane@example.com' })).body, />jane@example.com</)
  t.match((await session.get('/')).body, />dev@example.com</)
  t.match((await session.get('/', { 'x-forwarded-email': '<script>@x' })).body, />dev@example.com</)
})

t.test('outside a Databricks App the identity header is ignored unless trusted explicitly', async (t) => {
  const { session } = await buildTestApp(t, {
    env: { LOCAL_USER_EMAIL: 'dev@example.com', TRUST_FORWARDED_EMAIL: 'false' },
  })
  t.match((await session.get('/', { 'x-forwarded-email': 'ceo@example.com' })).body, />dev@example.com</)
  t.notMatch((await session.get('/', { 'x-forwarded-email': 'ceo@example.com' })).body, /ceo@example\.com/)
})

t.test('unknown pages and errors render a page for people and JSON for programs', async (t) => {
  const { app, session } = await buildTestApp(t)
  const page = await session.get('/no/such/<script>')
  t.equal(page.statusCode, 404)
  t.match(page.body, /There is no page at \/no\/such\//)
  t.notMatch(page.body.split('<main')[1], /<script>/, 'the path is never echoed as markup')
  const json = await app.inject({ method: 'GET', url: '/nope', headers: { accept: 'application/json' } })
  t.same(json.json(), { error: 'NOT_FOUND', message: 'There is no page at /nope.' })
})

t.test('a database that goes away shows the banner and 503s, then recovers without a restart', async (t) => {
  const real = new URL(await createTestDatabase(t))
  const proxy = await startTcpProxy(real.hostname, Number(real.port))
  t.teardown(() => proxy.close())
  const viaProxy = new URL(real)
  viaProxy.port = String(proxy.port)
  const { app, session } = await buildTestApp(t, {
    url: viaProxy.toString(),
    env: { APP_PLUGINS: './test/fixtures/extension-example.ts' },
  })
  t.equal((await session.get('/team-report')).statusCode, 200)
  t.equal((await app.inject('/healthz')).statusCode, 200)

  await proxy.cut()
  const down = await session.get('/team-report')
  t.equal(down.statusCode, 503)
  t.match(down.body, /id="db-banner"[^>]*role="alert"/)
  t.match(down.body, /Cannot reach the database at 127\.0\.0\.1:\d+/)
  t.notMatch(down.body, /at .*\.ts:\d+/, 'no stack trace')
  const health = await app.inject('/healthz')
  t.equal(health.statusCode, 503)
  t.equal(health.json().database.up, false)
  t.match((await session.get('/')).body, /Database unavailable/, 'every page shows the banner')

  await proxy.restore()
  const back = await session.get('/team-report')
  t.equal(back.statusCode, 200)
  t.notMatch(back.body, /Database unavailable/)
  t.equal((await app.inject('/healthz')).statusCode, 200)
})

t.test('a database unreachable at start: the app still starts and says why', async (t) => {
  const { app, session } = await buildTestApp(t, { url: 'postgres://postgres:secret-pw@127.0.0.1:1/none' })
  const res = await session.get('/')
  t.equal(res.statusCode, 200)
  t.match(res.body, /Database unavailable.*Cannot reach the database at 127\.0\.0\.1:1/s)
  t.notMatch(res.body, /secret-pw/)
  t.equal((await app.inject('/healthz')).statusCode, 503)
})

t.test('an extension plugin adds a page to the navigation and reads fastify.db', async (t) => {
  const { app, session } = await buildTestApp(t, {
    env: { APP_PLUGINS: './test/fixtures/extension-example.ts' },
  })
  await app.db.saveQuery(
    { name: 'q', description: '', query_text: 'SELECT 1', provider: 'aws' },
    'x@example.com',
  )
  const home = await session.get('/')
  t.match(home.body, /<a href="\/team-report">Team report<\/a>/)
  const page = await session.get('/team-report')
  t.match(page.body, /1 saved queries, 0 schedules/)
  t.match(page.body, /aria-current="page" class="active">Team report/)
})

t.test('a broken extension specifier stops start-up with a clear message', async (t) => {
  await t.rejects(buildTestApp(t, { env: { APP_PLUGINS: './test/fixtures/missing.ts' } }), {
    code: 'CONFIG_INVALID',
    message: /APP_PLUGINS: cannot load "\.\/test\/fixtures\/missing\.ts"/,
  })
})
