// The Provider Config page against the Databricks stand-in (secrets) and the stand-in stackql:
// saving checks the secret first, Test resolves it into a child process only, no value ever shows.
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { buildTestApp, type Session } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const SCOPE = 'stackql-inventory'
const CANARY = 'canary-AKIA-7f3e9c1d-do-not-show'

interface Tap {
  teardown(fn: () => unknown): void
}

async function setup(t: Tap, env: Record<string, string> = {}) {
  const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => standin.close())
  standin.state.putSecret(SCOPE, 'aws-access-key-id', CANARY)
  const built = await buildTestApp(t, {
    env: {
      DATABRICKS_HOST: standin.url,
      DATABRICKS_TOKEN: 'dapi-test',
      STACKQL_LOCAL_DEV: 'false',
      STACKQL_BIN: STANDIN,
      STACKQL_DOWNLOAD_DIR: tempDir(t, 'providers-test-'),
      ...env,
    },
  })
  return { ...built, standin, as: asUser(built.session) }
}

/** An htmx request as a signed-in user (X-Forwarded-Email), carrying the CSRF cookie and token. */
function asUser(session: Session) {
  return (email: string, method: InjectOptions['method'], url: string, form?: Record<string, string>) =>
    session.htmx(method, url, form, { 'x-forwarded-email': email })
}

const AWS_KEY = {
  provider: 'aws',
  env_var_name: 'AWS_ACCESS_KEY_ID',
  secret_scope: SCOPE,
  secret_key: 'aws-access-key-id',
}

t.test('the page explains the empty state and offers the providers and their variables', async (t) => {
  const { session } = await setup(t)
  const res = await session.get('/providers')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.body, /No provider mappings yet\./)
  t.match(res.body, /data-open-dialog="add-mapping-dialog">Add Mapping</)
  t.match(res.body, /<dialog id="add-mapping-dialog"/)
  t.match(
    res.body,
    /<input id="mapping-scope" name="secret_scope" value="stackql-inventory"/,
    'default scope',
  )
  for (const p of ['aws', 'azure', 'google', 'github', 'cloudflare', 'databricks_account', 'okta']) {
    t.match(res.body, `<option value="${p}"></option>`, `provider ${p} suggested`)
  }
  t.match(res.body, /data-env-vars="\{&quot;aws&quot;:\[&quot;AWS_ACCESS_KEY_ID&quot;/)
  t.match(res.body, /<option value="GOOGLE_CREDENTIALS"><\/option>/)
  t.notMatch(res.body, /id="local-dev-note"/, 'secrets come from Databricks here')
})

t.test('a mapping whose secret exists is saved with the signed-in user as its creator', async (t) => {
  const { app, as, standin } = await setup(t)
  const res = await as('jane@example.com', 'POST', '/providers', { ...AWS_KEY, provider: ' AWS ' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.body, /^<section id="provider-mappings"/)
  t.match(res.body, /<span class="badge provider">aws<\/span>/)
  t.match(res.body, /<code>AWS_ACCESS_KEY_ID<\/code>/)
  t.match(res.body, /<code>stackql-inventory<\/code>/)
  t.match(res.body, /<span class="secret-key" aria-label="hidden">\*\*\*<\/span>/)
  t.notMatch(res.body, /aws-access-key-id/, 'the key name is shown as ***')
  t.match(res.body, /<td>jane@example.com<\/td>/)
  t.notMatch(res.body, CANARY)
  const saved = await app.db.getProviderConfig()
  t.equal(saved.length, 1)
  t.match(saved[0], { ...AWS_KEY, created_by: 'jane@example.com' })
  t.ok(
    standin.state.requests.some(
      (r) => r.path === '/api/2.0/secrets/list' && r.query.scope === 'stackql-inventory',
    ),
    'the workspace was asked whether the secret exists',
  )
})

t.test('a mapping whose secret does not exist is refused naming scope and key, nothing saved', async (t) => {
  const { app, as } = await setup(t)
  const res = await as('jane@example.com', 'POST', '/providers', { ...AWS_KEY, secret_key: 'no-such-key' })
  t.equal(res.statusCode, 422)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.body, /id="error-message"/)
  t.match(res.body, /Secret stackql-inventory\/no-such-key/)
  t.same(await app.db.getProviderConfig(), [], 'nothing saved')
  const otherScope = await as('jane@example.com', 'POST', '/providers', {
    ...AWS_KEY,
    secret_scope: 'missing-scope',
  })
  t.equal(otherScope.statusCode, 422)
  t.match(otherScope.body, /missing-scope\/aws-access-key-id/)
  t.same(await app.db.getProviderConfig(), [])
})

t.test('invalid fields are refused with a readable message before the workspace is asked', async (t) => {
  const { app, as, standin } = await setup(t)
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...AWS_KEY, env_var_name: '1BAD' }, /Environment variable: not a valid environment variable name/],
    [{ ...AWS_KEY, env_var_name: 'AWS KEY' }, /Environment variable: not a valid/],
    [{ ...AWS_KEY, env_var_name: 'A=B' }, /Environment variable: not a valid/],
    [{ ...AWS_KEY, env_var_name: '' }, /Environment variable: not a valid/],
    [{ ...AWS_KEY, provider: 'aws; drop' }, /Provider: use the StackQL provider name/],
    [{ ...AWS_KEY, secret_scope: 'a/b' }, /Secret scope: use 1-128/],
    [{ ...AWS_KEY, secret_key: '<script>' }, /Secret key: use 1-128/],
    [{ provider: 'aws' }, /fill in provider, environment variable|Environment variable/],
  ]
  for (const [form, message] of cases) {
    const res = await as('jane@example.com', 'POST', '/providers', form)
    t.equal(res.statusCode, 400, JSON.stringify(form))
    t.match(res.body, message)
    t.notMatch(res.body, /<script>/)
  }
  t.same(await app.db.getProviderConfig(), [], 'nothing saved')
  t.notOk(
    standin.state.requests.some((r) => r.path.startsWith('/api/2.0/secrets/')),
    'no secret was looked up',
  )
})

t.test('a second mapping for the same provider and variable is a conflict shown in the form', async (t) => {
  const { app, as } = await setup(t)
  t.equal((await as('jane@example.com', 'POST', '/providers', AWS_KEY)).statusCode, 200)
  const res = await as('joe@example.com', 'POST', '/providers', AWS_KEY)
  t.equal(res.statusCode, 409)
  t.match(res.body, /id="error-message"/)
  t.match(res.body, /Provider aws already has a mapping for AWS_ACCESS_KEY_ID/)
  t.equal((await app.db.getProviderConfig()).length, 1)
})

t.test('Test resolves the secret into StackQL only and reports pass, never the value', async (t) => {
  const { app, as, session } = await setup(t)
  await as('jane@example.com', 'POST', '/providers', AWS_KEY)
  const [m] = await app.db.getProviderConfig()
  const res = await as('jane@example.com', 'POST', `/providers/${m!.id}/test`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(
    res.body,
    new RegExp(
      `^<div id="mapping-test-${m!.id}" class="test-result pass" role="status"><strong>Pass:</strong>`,
    ),
  )
  t.match(res.body, /Secret stackql-inventory\/aws-access-key-id resolved and StackQL ran/)
  t.notMatch(res.body, CANARY)
  t.notMatch(JSON.stringify(res.headers), CANARY)
  const page = await session.get('/providers')
  t.notMatch(page.body, CANARY, 'the page shows no value either')
  t.notOk(Object.values(process.env).includes(CANARY), "the value never entered the server's environment")
})

t.test('Test of a mapping whose secret is gone fails naming scope and key', async (t) => {
  const { app, as, standin } = await setup(t)
  await as('jane@example.com', 'POST', '/providers', AWS_KEY)
  const [m] = await app.db.getProviderConfig()
  standin.state.secrets.get(SCOPE)!.delete('aws-access-key-id')
  const res = await as('jane@example.com', 'POST', `/providers/${m!.id}/test`)
  t.equal(res.statusCode, 200, 'the test ran; its outcome is a failure')
  t.match(res.body, /class="test-result fail"/)
  t.match(res.body, /<strong>Fail:<\/strong> Secret stackql-inventory\/aws-access-key-id/)
  t.match(res.body, /AWS_ACCESS_KEY_ID/)
  t.notMatch(res.body, CANARY)
  const missing = await as('jane@example.com', 'POST', '/providers/999999/test')
  t.equal(missing.statusCode, 404)
  t.match(missing.body, /Provider mapping 999999 does not exist/)
})

t.test('delete asks for confirmation, then removes the mapping', async (t) => {
  const { app, as } = await setup(t)
  await as('jane@example.com', 'POST', '/providers', AWS_KEY)
  const [m] = await app.db.getProviderConfig()
  const confirm = await as('jane@example.com', 'GET', `/providers/${m!.id}/confirm-delete`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, new RegExp(`^<tr id="mapping-${m!.id}" class=" confirming">`))
  t.match(confirm.body, /Delete the mapping of <code>AWS_ACCESS_KEY_ID<\/code> for aws\?/)
  t.match(confirm.body, new RegExp(`hx-delete="/providers/${m!.id}"`))
  t.equal((await app.db.getProviderConfig()).length, 1, 'asking deletes nothing')
  const cancel = await as('jane@example.com', 'GET', `/providers/${m!.id}/row`)
  t.notMatch(cancel.body, /confirming|hx-delete/)

  const res = await as('jane@example.com', 'DELETE', `/providers/${m!.id}`)
  t.equal(res.statusCode, 200)
  t.match(res.body, /^<section id="provider-mappings"/)
  t.match(res.body, /No provider mappings yet\./)
  t.same(await app.db.getProviderConfig(), [])
  t.equal((await as('jane@example.com', 'DELETE', `/providers/${m!.id}`)).statusCode, 404)
  const bad = await as('jane@example.com', 'DELETE', '/providers/abc')
  t.equal(bad.statusCode, 400)
  t.equal(bad.headers['cache-control'], 'no-store')
})

t.test('in local development the check reads the app environment, and the page says so', async (t) => {
  const { app, as, session } = await setup(t, { STACKQL_LOCAL_DEV: 'true' })
  const page = await session.get('/providers')
  t.match(
    page.body,
    /Local development:<\/strong> credentials are read from this app's environment variables; the secret scope\/key are used once deployed/,
  )
  const unset = await as('jane@example.com', 'POST', '/providers', {
    ...AWS_KEY,
    env_var_name: 'SURELY_UNSET_TEST_VARIABLE',
  })
  t.equal(unset.statusCode, 422)
  t.match(unset.body, /Environment variable SURELY_UNSET_TEST_VARIABLE .* is not set/)
  t.same(await app.db.getProviderConfig(), [])
  // TEST_DATABASE_URL is set in this process (the app's own environment here), though no secret of that name exists.
  const set = await as('jane@example.com', 'POST', '/providers', {
    ...AWS_KEY,
    env_var_name: 'TEST_DATABASE_URL',
  })
  t.equal(set.statusCode, 200)
  t.equal((await app.db.getProviderConfig()).length, 1)
})

t.test(
  "changing a provider's mappings updates the jobs of its schedules (references, never values)",
  async (t) => {
    const { app, as, standin } = await setup(t)
    const { addTemplateJob } = await import('./standins/databricks/index.js')
    addTemplateJob(standin)
    const query = await app.db.saveQuery(
      {
        name: 'EC2',
        description: '',
        query_text: "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'",
        provider: 'aws',
      },
      'jane@example.com',
    )
    const schedule = await app.schedules.create({
      query_id: query.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'ec2',
    })
    type ClusterSettings = { job_clusters: { new_cluster: { spark_env_vars?: Record<string, string> } }[] }
    const envOf = () => {
      const settings = standin.state.jobs.get(Number(schedule.job_id))!.settings as unknown as ClusterSettings
      return settings.job_clusters[0]!.new_cluster.spark_env_vars ?? {}
    }
    t.notOk(envOf().AWS_ACCESS_KEY_ID, 'no mapping yet')

    const added = await as('jane@example.com', 'POST', '/providers', AWS_KEY)
    t.match(added.body, /Updated the Databricks jobs of 1 schedule using aws to the new mappings/)
    t.equal(envOf().AWS_ACCESS_KEY_ID, '{{secrets/stackql-inventory/aws-access-key-id}}')
    t.notMatch(JSON.stringify(standin.state.jobs.get(Number(schedule.job_id))), CANARY)

    // The workspace refuses the update: the deletion stands, the page says the jobs are stale.
    standin.faults.add({ method: 'POST', path: '/api/2.2/jobs/reset', status: 403 })
    const [mapping] = await app.db.getProviderConfig()
    const removed = await as('jane@example.com', 'DELETE', `/providers/${mapping!.id}`)
    t.equal(removed.statusCode, 200)
    t.match(
      removed.body,
      /class="alert alert-error".*the jobs of schedules using aws could not be updated.*PERMISSION_DENIED/s,
    )
    t.same(await app.db.getProviderConfig(), [], 'the mapping is deleted anyway')
  },
)
