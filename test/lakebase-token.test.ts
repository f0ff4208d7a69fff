import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { createLakebasePassword, lakebasePassword } from '../src/databricks/lakebase-token.js'
import { AppError } from '../src/errors.js'
import { type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const ENDPOINT = 'projects/inventory/branches/production/endpoints/primary'

async function setup(t: Test, ttl = 3600) {
  let now = Date.parse('2025-06-01T00:00:00Z')
  const clock = { now: () => now, advance: (ms: number) => (now += ms) }
  const s: Standin = await startDatabricksStandin({
    clients: { sp: 'sp-secret' },
    credentialTtlSeconds: ttl,
    tokenTtlSeconds: 3600,
    now: clock.now,
  })
  const client = new DatabricksClient(
    { host: s.url, clientId: 'sp', clientSecret: 'sp-secret' },
    { baseBackoffMs: 1, maxBackoffMs: 2, now: clock.now },
  )
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  return { s, client, clock }
}

t.test('Autoscaling: mints a token for the endpoint and reuses it until shortly before expiry', async (t) => {
  const { s, client, clock } = await setup(t)
  const password = createLakebasePassword(client, { endpoint: ENDPOINT }, clock.now)
  const first = await password()
  t.match(first, /^lakebase-/)
  t.same(s.state.credentialRequests[0]!.body, { endpoint: ENDPOINT })
  t.equal(s.state.credentialRequests[0]!.path, '/api/2.0/postgres/credentials')
  clock.advance(50 * 60_000)
  t.equal(await password(), first, '10 minutes before expiry the token is reused')
  clock.advance(6 * 60_000)
  const second = await password()
  t.not(second, first, '4 minutes before expiry a new token is minted')
  t.equal(s.state.credentialRequests.length, 2)
})

t.test('Provisioned: asks /database/credentials with the instance name and a request id', async (t) => {
  const { s, client, clock } = await setup(t)
  const password = createLakebasePassword(client, { instance: 'inventory-db' }, clock.now)
  t.match(await password(), /^lakebase-/)
  const req = s.state.credentialRequests[0]!
  t.equal(req.path, '/api/2.0/database/credentials')
  t.match(req.body, { instance_names: ['inventory-db'], request_id: /^[0-9a-f-]{36}$/ })
})

t.test('concurrent new connections share one token request', async (t) => {
  const { s, client, clock } = await setup(t)
  const password = createLakebasePassword(client, { endpoint: ENDPOINT }, clock.now)
  const tokens = await Promise.all([password(), password(), password(), password()])
  t.equal(new Set(tokens).size, 1)
  t.equal(s.state.credentialRequests.length, 1)
})

t.test('a short-lived token is renewed at half its life', async (t) => {
  const { s, client, clock } = await setup(t, 120)
  const password = createLakebasePassword(client, { endpoint: ENDPOINT }, clock.now)
  await password()
  clock.advance(59_000)
  await password()
  t.equal(s.state.credentialRequests.length, 1)
  clock.advance(2_000)
  await password()
  t.equal(s.state.credentialRequests.length, 2)
})

t.test('failures are permission errors without any token in them, and the next call retries', async (t) => {
  const { s, client, clock } = await setup(t)
  const password = createLakebasePassword(client, { endpoint: ENDPOINT }, clock.now)
  const old = await password()
  clock.advance(3600_000)
  s.faults.add({
    path: '/api/2.0/postgres/credentials',
    status: 403,
    body: { error_code: 'PERMISSION_DENIED', message: 'no access to endpoint' },
  })
  let error: unknown
  try {
    await password()
  } catch (e) {
    error = e
  }
  t.ok(error instanceof AppError)
  t.equal((error as AppError).code, 'DATABRICKS_PERMISSION')
  t.match((error as AppError).message, /no access to endpoint.*Lakebase/)
  t.notMatch((error as AppError).message, old)
  t.match(await password(), /^lakebase-/, 'recovers on the next connection')
})

t.test('neither endpoint nor instance is a configuration error', async (t) => {
  const { client } = await setup(t)
  t.throws(() => createLakebasePassword(client, {}), { code: 'CONFIG_INVALID', message: /LAKEBASE_ENDPOINT/ })
})

t.test('lakebasePassword picks the static password, the token minter, or nothing', async (t) => {
  const { client } = await setup(t)
  const base = { host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'require' }
  t.equal(
    lakebasePassword(
      { mode: 'lakebase', ...base, password: 'static-pw', lakebaseEndpoint: ENDPOINT },
      client,
    ),
    'static-pw',
  )
  t.type(lakebasePassword({ mode: 'pg-env', ...base, lakebaseEndpoint: ENDPOINT }, client), 'function')
  t.equal(lakebasePassword({ mode: 'url', url: 'postgres://x' }, client), undefined)
  t.equal(lakebasePassword({ mode: 'pg-env', ...base }, client), undefined)
  t.throws(() => lakebasePassword({ mode: 'lakebase', ...base, lakebaseInstance: 'i' }), {
    code: 'CONFIG_INVALID',
    message: /DATABRICKS_HOST/,
  })
})
