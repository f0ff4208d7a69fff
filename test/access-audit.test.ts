// Read-only by default (mutations hidden in comments, CTEs, odd casing and semicolons are refused;
// admins with ALLOW_MUTATIONS=true confirm first), the audit log (rows for runs, saves, denials; the
// Audit page's filters and CSV; no secret value in any row) and the audit table being unavailable.
import postgres from 'postgres'
import t from 'tap'
import { classifyStatement } from '../src/access/mutations.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const CANARY = 'AKIA-CANARY-7f3e9c1d-never-store'
const workspace = await startDatabricksStandin({ pats: ['dapi-app'] })
t.teardown(() => workspace.close())
workspace.state.putSecret('stackql-inventory', 'aws-key-id', CANARY)
workspace.state.putSecret('stackql-inventory', 'aws-secret', `${CANARY}-secret`)

const ADMIN = { 'x-forwarded-email': 'admin@example.com' }
const EDITOR = { 'x-forwarded-email': 'editor@example.com' }
const VIEWER = { 'x-forwarded-email': 'viewer@example.com' }

const env = (extra: Record<string, string> = {}) => ({
  APP_ADMINS: 'admin@example.com',
  APP_EDITORS: 'editor@example.com',
  STACKQL_BIN: STANDIN,
  STACKQL_DOWNLOAD_DIR: tempDir(t, 'access-audit-'),
  STACKQL_LOCAL_DEV: 'false',
  DATABRICKS_HOST: workspace.url,
  DATABRICKS_TOKEN: 'dapi-app',
  ...extra,
})

t.test('mutations hidden in comments, CTEs, odd casing and semicolons are not read-only', async (t) => {
  const mutations = [
    'insert into aws.s3.buckets (region) select 1',
    'InSeRt INTO aws.s3.buckets (region) SELECT 1',
    '/* a harmless SELECT */ DELETE FROM aws.ec2.instances WHERE region = 1',
    '-- SELECT\nUPDATE aws.ec2.instances SET x = 1 WHERE region = 1',
    '# SELECT\nEXEC aws.ec2.instances.start @region = 1',
    'WITH x AS (SELECT 1) DELETE FROM aws.ec2.instances WHERE region = 1',
    'SELECT 1; DELETE FROM aws.ec2.instances WHERE region = 1',
    'select 1 ;; delete from aws.ec2.instances where region = 1',
    'REPLACE INTO aws.s3.buckets (region) SELECT 1',
    'CREATE TABLE x (a int)',
    'SELECT * INTO t FROM aws.ec2.instances',
    '(((EXEC aws.ec2.instances.stop @region = 1)))',
  ]
  for (const text of mutations)
    t.equal(classifyStatement(text).readOnly, false, `refused: ${JSON.stringify(text)}`)
  const reads = [
    "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'",
    "select 'DELETE FROM x' as s",
    '/* DELETE */ SELECT "delete" FROM aws.ec2.instances',
    'WITH a AS (SELECT 1) SELECT * FROM a',
    'SHOW PROVIDERS',
    'describe aws.ec2.instances',
  ]
  for (const text of reads)
    t.equal(classifyStatement(text).readOnly, true, `read-only: ${JSON.stringify(text)}`)
})

t.test('the IDE refuses a mutation unless ALLOW_MUTATIONS=true and the user is admin', async (t) => {
  const { url, session } = await buildTestApp(t, { env: env() })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const insert = { query_text: '/* hi */ insert into aws.s3.buckets (region) select 1' }
  for (const who of [VIEWER, EDITOR, ADMIN]) {
    const res = await session.htmx('POST', '/run', insert, who)
    t.equal(res.statusCode, 403, `${who['x-forwarded-email']} is refused`)
    t.match(res.body, /id="results"/, 'the answer replaces the results area')
    t.match(res.body, /ALLOW_MUTATIONS=true/)
  }
  const hidden = [
    '/* SELECT */ DeLeTe FROM aws.ec2.instances WHERE region = 1',
    'WITH x AS (SELECT 1) DELETE FROM aws.ec2.instances WHERE region = 1',
    "SELECT 1;\n-- harmless\nexec aws.ec2.instances.stop @region = 'x'",
    'select 1 ;; InSeRt into aws.s3.buckets (region) select 1',
  ]
  for (const text of hidden) {
    const res = await session.htmx('POST', '/run', { query_text: text }, ADMIN)
    t.equal(res.statusCode, 403, `over HTTP too: ${JSON.stringify(text)}`)
  }
  const denied =
    await sql`select user_email, details from stackql_app.audit where action = 'query.run' and outcome = 'denied' order by id`
  t.equal(denied.length, 3 + hidden.length, 'each refused attempt is audited')
  t.equal(
    (
      await sql`select count(*)::int as n from stackql_app.audit where action = 'query.run' and outcome <> 'denied'`
    )[0]!.n,
    0,
    'none of them ran',
  )
  t.equal(denied[0]!.details.statement_kind, 'INSERT')
})

t.test(
  'with ALLOW_MUTATIONS=true an admin confirms the kind and profile first; others are refused',
  async (t) => {
    const { url, session } = await buildTestApp(t, { env: env({ ALLOW_MUTATIONS: 'true' }) })
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => sql.end())
    const text = "DELETE FROM aws.ec2.instances WHERE region = 'eu-west-1'"
    const editor = await session.htmx('POST', '/run', { query_text: text, provider: 'aws' }, EDITOR)
    t.equal(editor.statusCode, 403)
    t.match(editor.body, /Only the admin role may run changing statements; your role is editor/)

    const ask = await session.htmx('POST', '/run', { query_text: text, provider: 'aws' }, ADMIN)
    t.equal(ask.statusCode, 200)
    t.match(ask.body, /role="alertdialog"/)
    t.match(ask.body, /Run this DELETE statement\?/)
    t.match(ask.body, /profile <strong>aws:default<\/strong>/, 'the dialog names the profile')
    t.equal(
      (await sql`select count(*)::int as n from stackql_app.audit where action = 'query.run'`)[0]!.n,
      1,
      "only the editor's denial so far: nothing ran",
    )

    const wrongKind = await session.htmx(
      'POST',
      '/run',
      { query_text: text, provider: 'aws', confirm_kind: 'INSERT' },
      ADMIN,
    )
    t.match(wrongKind.body, /Run this DELETE statement\?/, 'a confirmation of another kind does not count')

    const confirmed = await session.htmx(
      'POST',
      '/run',
      { query_text: text, provider: 'aws', confirm_kind: 'DELETE' },
      ADMIN,
    )
    t.not(confirmed.statusCode, 403, 'the confirmed statement runs')
    const [row] =
      await sql`select outcome, details from stackql_app.audit where action = 'query.run' and user_email = 'admin@example.com'`
    t.ok(row, 'the run is audited')
    t.equal(row!.details.statement_kind, 'DELETE')
    t.same(row!.details.profiles, ['aws:default'])
    t.not(row!.outcome, 'started', 'the outcome is recorded when the run ends')
  },
)

t.test('audit rows: runs, saves, schedules and Tests are recorded, never with a secret value', async (t) => {
  const { app, url, session } = await buildTestApp(t, { env: env() })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  for (const [envVar, key] of [
    ['AWS_ACCESS_KEY_ID', 'aws-key-id'],
    ['AWS_SECRET_ACCESS_KEY', 'aws-secret'],
  ]) {
    const res = await session.htmx(
      'POST',
      '/providers',
      { provider: 'aws', env_var_name: envVar!, secret_scope: 'stackql-inventory', secret_key: key! },
      ADMIN,
    )
    t.equal(res.statusCode, 200, `mapping ${envVar} added`)
  }
  const run = await session.htmx(
    'POST',
    '/run',
    { query_text: "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", provider: 'aws' },
    VIEWER,
  )
  t.equal(run.statusCode, 200, 'a viewer runs a SELECT')
  const [m] = await app.db.getProviderConfigFor('aws')
  await session.htmx('POST', `/providers/${m!.id}/test`, {}, VIEWER)
  const save = await session.htmx(
    'POST',
    '/queries',
    { name: '=cmd|calc', query_text: 'SELECT 1', provider: 'aws' },
    EDITOR,
  )
  t.equal(save.statusCode, 201)

  const rows =
    await sql`select user_email, action, outcome, details, request_id from stackql_app.audit order by id`
  t.same(
    rows.map((r) => r.action),
    ['mapping.create', 'mapping.create', 'query.run', 'mapping.test', 'query.save'],
  )
  const runRow = rows.find((r) => r.action === 'query.run')!
  t.equal(runRow.outcome, 'ok')
  t.equal(runRow.details.statement_kind, 'SELECT')
  t.equal(typeof runRow.details.rows, 'number', 'the row count is recorded')
  t.equal(typeof runRow.details.elapsed_ms, 'number', 'the elapsed time is recorded')
  t.same(runRow.details.providers, ['aws'])
  t.ok(
    rows.every((r) => r.request_id),
    'every row has the request id',
  )
  const all = JSON.stringify(await sql`select * from stackql_app.audit`)
  t.notOk(all.includes(CANARY), 'no secret value in any audit row')
  t.match(all, /aws-key-id/, 'the secret key NAME is recorded')

  const page = await session.get('/audit?action=query.run', ADMIN)
  t.equal(page.statusCode, 200)
  t.match(page.body, /1 entry/)
  // The action filter offers each action in the log once, in order (a skip scan of its index).
  const select = /<select name="action"[\s\S]*?<\/select>/.exec(page.body)![0]
  t.same(
    [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]),
    ['', 'mapping.create', 'mapping.test', 'query.run', 'query.save'],
  )
  t.match(page.body, /viewer@example\.com/)
  const byOutcome = await session.get('/audit?outcome=denied', ADMIN)
  t.match(byOutcome.body, /No audit entries match these filters/)
  const csv = await session.get('/audit/audit.csv?user=editor', ADMIN)
  t.match(csv.headers['content-type'], /text\/csv/)
  const lines = csv.body.trim().split('\r\n')
  t.equal(lines[0], 'time,user,role,request_id,action,outcome,status,details')
  t.equal(lines.length, 2, "only the editor's row")
  t.match(lines[1], /"\{""name"":""=cmd\|calc""/, 'JSON details are quoted; the cell does not start with =')
  const bad = await session.get('/audit?from=yesterday', ADMIN)
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /not a date for &quot;from&quot;|not a date for "from"/)
})

t.test(
  'the audit table unavailable: the action is refused with a clear message, nothing changed',
  async (t) => {
    const { url, session } = await buildTestApp(t, { env: env() })
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => sql.end())
    await session.get('/', ADMIN)
    await sql`alter table stackql_app.audit rename to audit_gone`
    t.teardown(() => sql`alter table if exists stackql_app.audit_gone rename to audit`)
    const save = await session.htmx(
      'POST',
      '/queries',
      { name: 'x', query_text: 'SELECT 1', provider: 'aws' },
      ADMIN,
    )
    t.equal(save.statusCode, 503)
    t.match(save.body, /Nothing was done: every action is recorded in the audit log first/)
    t.equal((await sql`select count(*)::int as n from stackql_app.queries`)[0]!.n, 0, 'no query was saved')
    const run = await session.htmx('POST', '/run', { query_text: 'SELECT 1' }, ADMIN)
    t.equal(run.statusCode, 503)
    t.match(run.body, /id="results"[\s\S]*Nothing was done/)
  },
)
