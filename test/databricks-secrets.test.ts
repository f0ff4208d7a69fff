import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { DatabricksSecrets } from '../src/databricks/secrets.js'
import { rejection } from './helpers/errors.js'
import { type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-secrets-test'

async function setup(t: Test): Promise<{ s: Standin; secrets: DatabricksSecrets }> {
  const s = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  return { s, secrets: new DatabricksSecrets(client) }
}

t.test('getSecret returns the base64-decoded value', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('stackql-inventory', 'aws-secret', 'wJalr/XUtnFEMI+K7MDENG=é✓')
  t.equal(await secrets.getSecret('stackql-inventory', 'aws-secret'), 'wJalr/XUtnFEMI+K7MDENG=é✓')
  const req = s.state.requests.at(-1)!
  t.same(req.query, { scope: 'stackql-inventory', key: 'aws-secret' })
})

t.test('a missing key is SECRET_NOT_FOUND naming scope and key and how to fix it', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('stackql-inventory', 'other', 'x')
  const e = await rejection(secrets.getSecret('stackql-inventory', 'aws-secret'))
  t.equal(e.code, 'SECRET_NOT_FOUND')
  t.equal(
    e.message,
    'Secret stackql-inventory/aws-secret was not found in Databricks. Create it (databricks secrets put-secret stackql-inventory aws-secret) or fix the mapping on the Provider Config page.',
  )
  t.same(e.details, { scope: 'stackql-inventory', key: 'aws-secret' })
})

t.test('a missing scope is SECRET_NOT_FOUND too', async (t) => {
  const { secrets } = await setup(t)
  const e = await rejection(secrets.getSecret('no-such-scope', 'k'))
  t.equal(e.code, 'SECRET_NOT_FOUND')
  t.match(e.message, /no-such-scope\/k/)
})

t.test('no READ on the scope is SECRET_FORBIDDEN naming scope and key', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('locked', 'k', 'canary-value-1')
  s.state.forbiddenScopes.add('locked')
  const e = await rejection(secrets.getSecret('locked', 'k'))
  t.equal(e.code, 'SECRET_FORBIDDEN')
  t.equal(e.status, 403)
  t.match(e.message, /locked\/k/)
  t.match(e.message, /READ on the secret scope/)
  t.notMatch(e.message, /canary-value-1/)
})

t.test('secretExists is true for a stored secret and false on 404', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('stackql-inventory', 'present', 'v')
  t.equal(await secrets.secretExists('stackql-inventory', 'present'), true)
  t.equal(await secrets.secretExists('stackql-inventory', 'absent'), false)
  t.equal(await secrets.secretExists('missing-scope', 'absent'), false)
  t.equal(
    s.state.requests.filter((r) => r.path === '/api/2.0/secrets/get').length,
    0,
    'existence is read from the key list, never by fetching the value',
  )
})

t.test('secretExists still fails loudly on 403 and on an outage', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('locked', 'k', 'v')
  s.state.forbiddenScopes.add('locked')
  await t.rejects(secrets.secretExists('locked', 'k'), { code: 'SECRET_FORBIDDEN' })
  s.faults.add({ path: '/api/2.0/secrets/list', status: 500, times: 10 })
  await t.rejects(secrets.secretExists('stackql-inventory', 'k'), { code: 'DATABRICKS_UNAVAILABLE' })
})

t.test('values are never cached: a changed secret is read fresh each time', async (t) => {
  const { s, secrets } = await setup(t)
  s.state.putSecret('sc', 'k', 'first')
  t.equal(await secrets.getSecret('sc', 'k'), 'first')
  s.state.putSecret('sc', 'k', 'second')
  t.equal(await secrets.getSecret('sc', 'k'), 'second')
  t.equal(s.state.requests.filter((r) => r.path === '/api/2.0/secrets/get').length, 2)
})

t.test('a response without a value is an error naming the secret, not a blank credential', async (t) => {
  const { s, secrets } = await setup(t)
  s.faults.add({ path: '/api/2.0/secrets/get', status: 200, body: { key: 'k' } })
  const e = await rejection(secrets.getSecret('sc', 'k'))
  t.match(e.message, /sc\/k/)
})
