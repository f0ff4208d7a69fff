import t, { type Test } from 'tap'
import { DatabricksClient, fromJson, toJson } from '../src/databricks/client.js'
import { rejection } from './helpers/errors.js'
import { type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-test-pat-0123456789'
const CLIENT_ID = 'sp-client-id'
const CLIENT_SECRET = 'sp-client-secret-do-not-leak'
const fast = { baseBackoffMs: 1, maxBackoffMs: 5, timeoutMs: 5000 }

async function standin(t: Test, opts: Parameters<typeof startDatabricksStandin>[0] = {}): Promise<Standin> {
  const s = await startDatabricksStandin({ pats: [PAT], clients: { [CLIENT_ID]: CLIENT_SECRET }, ...opts })
  t.teardown(() => s.close())
  return s
}

function patClient(t: Test, s: Standin, opts = {}) {
  const c = new DatabricksClient({ host: s.url, token: PAT }, { ...fast, ...opts })
  t.teardown(() => c.close())
  return c
}

function oauthClient(t: Test, s: Standin, opts = {}) {
  const c = new DatabricksClient(
    { host: s.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    { ...fast, ...opts },
  )
  t.teardown(() => c.close())
  return c
}

const requestsTo = (s: Standin, path: string) => s.state.requests.filter((r) => r.path === path).length

t.test('a personal access token is sent as a bearer token', async (t) => {
  const s = await standin(t)
  s.state.putSecret('stackql-inventory', 'k', 'v')
  const res = await patClient(t, s).get<{ scopes: { name: string }[] }>('/api/2.0/secrets/scopes/list')
  t.same(res.scopes, [{ name: 'stackql-inventory', backend_type: 'DATABRICKS' }])
})

t.test(
  'a rejected personal access token is an auth error that names DATABRICKS_TOKEN, not the token',
  async (t) => {
    const s = await standin(t)
    const c = new DatabricksClient({ host: s.url, token: 'dapi-wrong-token' }, fast)
    t.teardown(() => c.close())
    const e = await rejection(c.get('/api/2.0/secrets/scopes/list'))
    t.equal(e.code, 'DATABRICKS_AUTH')
    t.match(e.message, /DATABRICKS_TOKEN/)
    t.notMatch(e.message, /dapi-wrong-token/)
    t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 1, 'a PAT 401 is not retried')
  },
)

t.test('OAuth M2M: one token is fetched with Basic auth and reused for later calls', async (t) => {
  const s = await standin(t)
  const c = oauthClient(t, s)
  t.equal(c.usesOAuth, true)
  await c.get('/api/2.0/secrets/scopes/list')
  await c.get('/api/2.0/secrets/scopes/list')
  await Promise.all([c.get('/api/2.0/secrets/scopes/list'), c.get('/api/2.0/secrets/scopes/list')])
  t.equal(s.state.tokenRequests, 1)
  const tokenReq = s.state.requests.find((r) => r.path === '/oidc/v1/token')!
  t.same(tokenReq.body, { grant_type: 'client_credentials', scope: 'all-apis' })
})

t.test('an expired OAuth token is renewed without failing the call', async (t) => {
  let now = Date.parse('2025-06-01T00:00:00Z')
  const s = await standin(t, { tokenTtlSeconds: 3600, now: () => now })
  const c = oauthClient(t, s, { now: () => now })
  await c.get('/api/2.0/secrets/scopes/list')
  now += 3601_000
  await c.get('/api/2.0/secrets/scopes/list')
  t.equal(s.state.tokenRequests, 2)
  t.equal(
    s.state.requests.filter((r) => r.path !== '/oidc/v1/token').length,
    2,
    'no call failed and was retried',
  )
})

t.test('the OAuth token is refreshed early, before the workspace would reject it', async (t) => {
  let now = Date.parse('2025-06-01T00:00:00Z')
  const s = await standin(t, { tokenTtlSeconds: 3600, now: () => now })
  const c = oauthClient(t, s, { now: () => now })
  await c.get('/api/2.0/secrets/scopes/list')
  now += 50 * 60_000 // 10 minutes left: still used
  await c.get('/api/2.0/secrets/scopes/list')
  t.equal(s.state.tokenRequests, 1)
  now += 6 * 60_000 // 4 minutes left: renewed
  await c.get('/api/2.0/secrets/scopes/list')
  t.equal(s.state.tokenRequests, 2)
})

t.test('a revoked OAuth token (401) is replaced once and the call retried', async (t) => {
  const s = await standin(t)
  const c = oauthClient(t, s)
  await c.get('/api/2.0/secrets/scopes/list')
  s.state.revokeTokens()
  await c.get('/api/2.0/secrets/scopes/list')
  t.equal(s.state.tokenRequests, 2)
})

t.test('a 401 that persists after a fresh OAuth token is an auth error', async (t) => {
  const s = await standin(t)
  const c = oauthClient(t, s)
  s.faults.add({ method: 'GET', path: '/api/2.0/secrets/scopes/list', status: 401, times: 5 })
  const e = await rejection(c.get('/api/2.0/secrets/scopes/list'))
  t.equal(e.code, 'DATABRICKS_AUTH')
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 2)
})

t.test(
  'wrong service principal credentials are an auth error that does not contain the secret',
  async (t) => {
    const s = await standin(t)
    const c = new DatabricksClient(
      { host: s.url, clientId: CLIENT_ID, clientSecret: 'wrong-secret-value' },
      fast,
    )
    t.teardown(() => c.close())
    const e = await rejection(c.get('/api/2.0/secrets/scopes/list'))
    t.equal(e.code, 'DATABRICKS_AUTH')
    t.match(e.message, /invalid_client/)
    t.match(e.message, /DATABRICKS_CLIENT_ID/)
    t.notMatch(e.message, /wrong-secret-value/)
    t.notMatch(JSON.stringify(e.details), /wrong-secret-value/)
  },
)

t.test('403 becomes a permission error keeping Databricks message and saying what to grant', async (t) => {
  const s = await standin(t)
  s.faults.add({
    path: '/api/2.2/jobs/create',
    status: 403,
    body: { error_code: 'PERMISSION_DENIED', message: 'User sp-1 does not have permission to create jobs.' },
  })
  const e = await rejection(patClient(t, s).post('/api/2.2/jobs/create', { name: 'x' }))
  t.equal(e.code, 'DATABRICKS_PERMISSION')
  t.equal(e.status, 403)
  t.match(
    e.message,
    /Databricks refused: PERMISSION_DENIED: User sp-1 does not have permission to create jobs\./,
  )
  t.match(e.message, /service principal needs .*CAN_MANAGE/)
  t.same(e.details, { error_code: 'PERMISSION_DENIED', status: 403, path: '/api/2.2/jobs/create' })
})

t.test('429 is retried and then succeeds', async (t) => {
  const s = await standin(t)
  s.faults.add({ method: 'GET', path: '/api/2.0/secrets/scopes/list', status: 429, times: 2 })
  const res = await patClient(t, s).get<{ scopes: unknown[] }>('/api/2.0/secrets/scopes/list')
  t.same(res.scopes, [])
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 3)
})

t.test('Retry-After (seconds) is honoured before the retry', async (t) => {
  const s = await standin(t)
  s.faults.add({ path: '/api/2.0/secrets/scopes/list', status: 429, retryAfter: '1' })
  const started = Date.now()
  await patClient(t, s, { maxBackoffMs: 5000 }).get('/api/2.0/secrets/scopes/list')
  t.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`)
})

t.test('Retry-After as an HTTP date in the past retries at once', async (t) => {
  const s = await standin(t)
  s.faults.add({ path: '/api/2.0/secrets/scopes/list', status: 503, retryAfter: new Date(0).toUTCString() })
  await patClient(t, s, { maxBackoffMs: 60_000, baseBackoffMs: 60_000 }).get('/api/2.0/secrets/scopes/list')
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 2)
})

t.test('a persistent 429 ends in a rate-limit error after the bounded retries', async (t) => {
  const s = await standin(t)
  s.faults.add({ path: '/api/2.0/secrets/scopes/list', status: 429, times: 100 })
  const e = await rejection(patClient(t, s, { maxRetries: 3 }).get('/api/2.0/secrets/scopes/list'))
  t.equal(e.code, 'DATABRICKS_RATE_LIMIT')
  t.match(e.message, /REQUEST_LIMIT_EXCEEDED.*4 attempts.*try again/)
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 4)
})

t.test('a Retry-After longer than the total wait budget is not waited for', async (t) => {
  const s = await standin(t)
  s.faults.add({ path: '/api/2.0/secrets/scopes/list', status: 429, retryAfter: '30', times: 5 })
  const started = Date.now()
  const e = await rejection(
    patClient(t, s, { maxBackoffMs: 30_000, maxTotalWaitMs: 100 }).get('/api/2.0/secrets/scopes/list'),
  )
  t.equal(e.code, 'DATABRICKS_RATE_LIMIT')
  t.ok(Date.now() - started < 5000)
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 1)
})

t.test('500 is retried and then reported as a clear unavailable error', async (t) => {
  const s = await standin(t)
  s.faults.add({
    path: '/api/2.0/secrets/scopes/list',
    status: 500,
    times: 100,
    body: { error_code: 'INTERNAL_ERROR', message: 'Something went wrong' },
  })
  const e = await rejection(patClient(t, s).get('/api/2.0/secrets/scopes/list'))
  t.equal(e.code, 'DATABRICKS_UNAVAILABLE')
  t.match(e.message, /500 INTERNAL_ERROR: Something went wrong.*after 4 attempts.*try again/)
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 4)
})

t.test('500 then success on a GET returns the answer', async (t) => {
  const s = await standin(t)
  s.faults.add({ path: '/api/2.0/secrets/scopes/list', status: 500, times: 1 })
  await patClient(t, s).get('/api/2.0/secrets/scopes/list')
  t.equal(requestsTo(s, '/api/2.0/secrets/scopes/list'), 2)
})

t.test('a non-idempotent POST is not repeated after a 500, but is after a 503', async (t) => {
  const s = await standin(t)
  const c = patClient(t, s)
  s.faults.add({ path: '/api/2.2/jobs/create', status: 500 })
  const e = await rejection(c.post('/api/2.2/jobs/create', { name: 'once' }, { idempotent: false }))
  t.equal(e.code, 'DATABRICKS_UNAVAILABLE')
  t.equal(requestsTo(s, '/api/2.2/jobs/create'), 1)
  s.faults.add({ path: '/api/2.2/jobs/create', status: 503 })
  const res = await c.post<{ job_id: number }>(
    '/api/2.2/jobs/create',
    { name: 'twice' },
    { idempotent: false },
  )
  t.ok(res.job_id)
  t.equal(requestsTo(s, '/api/2.2/jobs/create'), 3)
})

t.test('404 becomes a not-found error', async (t) => {
  const s = await standin(t)
  const e = await rejection(patClient(t, s).get('/api/2.0/secrets/list', { scope: 'nope' }))
  t.equal(e.code, 'DATABRICKS_NOT_FOUND')
  t.match(e.message, /RESOURCE_DOES_NOT_EXIST: Scope nope does not exist!/)
})

t.test('400 becomes a bad-request error carrying Databricks message', async (t) => {
  const s = await standin(t)
  const e = await rejection(patClient(t, s).post('/api/2.2/jobs/create', { name: 'x', bogus_field: 1 }))
  t.equal(e.code, 'DATABRICKS_BAD_REQUEST')
  t.match(e.message, /INVALID_PARAMETER_VALUE: Unknown field\(s\) 'bogus_field'/)
})

t.test('quota errors (QUOTA_EXCEEDED, 1000 jobs per hour) say the job limit is reached', async (t) => {
  const s = await standin(t)
  const c = patClient(t, s)
  s.faults.add({
    path: '/api/2.2/jobs/create',
    status: 400,
    body: { error_code: 'QUOTA_EXCEEDED', message: 'The quota for the number of jobs has been reached.' },
  })
  const a = await rejection(c.post('/api/2.2/jobs/create', { name: 'x' }))
  t.equal(a.code, 'DATABRICKS_QUOTA')
  t.match(a.message, /The quota for the number of jobs has been reached.*delete unused jobs/)
  s.faults.add({
    path: '/api/2.2/jobs/create',
    status: 400,
    body: {
      error_code: 'INVALID_STATE',
      message: 'There were already 1000 jobs created in past 3600 seconds',
    },
  })
  const b = await rejection(c.post('/api/2.2/jobs/create', { name: 'x' }))
  t.equal(b.code, 'DATABRICKS_QUOTA')
  t.match(b.message, /already 1000 jobs created/)
})

t.test('an unreachable workspace is an unavailable error naming the host', async (t) => {
  const s = await standin(t)
  const url = s.url
  await s.close()
  const c = new DatabricksClient({ host: url, token: PAT }, { ...fast, maxRetries: 1 })
  t.teardown(() => c.close())
  const e = await rejection(c.get('/api/2.0/secrets/scopes/list'))
  t.equal(e.code, 'DATABRICKS_UNAVAILABLE')
  t.match(e.message, url)
  t.match(e.message, /DATABRICKS_HOST/)
})

t.test('a client without credentials cannot be built', async (t) => {
  t.throws(() => new DatabricksClient({ host: 'https://x' }), { code: 'DATABRICKS_NOT_CONFIGURED' })
})

t.test('int64 ids survive the round trip as strings and raw JSON numbers', async (t) => {
  const parsed = fromJson('{"job_id": 9007199254740993, "n": 12, "s": "12345678901234567890"}') as Record<
    string,
    unknown
  >
  t.equal(parsed.job_id, '9007199254740993')
  t.equal(parsed.n, 12)
  t.equal(parsed.s, '12345678901234567890')
  t.equal(toJson({ job_id: BigInt('9007199254740993'), name: 'a' }), '{"job_id":9007199254740993,"name":"a"}')
})
