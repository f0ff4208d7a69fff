// The IDE's "Starter queries": browse by provider, preview, add one or all to the saved library.
import t from 'tap'
import { loadStarterLibrary } from '../src/starter/library.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN } from './helpers/stackql.js'

const library = loadStarterLibrary()
const aws = library.filter((q) => q.group === 'aws')

t.test('the Starter queries page lists a provider with previews and is in the navigation', async (t) => {
  const { session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const page = await session.get('/starter?group=github')
  t.equal(page.statusCode, 200)
  t.match(page.body, /<a href="\/starter"[^>]*>Starter queries<\/a>/, 'navigation links the page')
  for (const q of library.filter((q) => q.group === 'github')) t.match(page.body, q.name)
  t.notMatch(page.body, aws[0]!.name, 'other providers are on their own tab')
  t.match(page.body, /Preview the statement/)
  t.match(page.body, /FROM github\.repos\.repos/)
  const bad = await session.get('/starter?group=nope')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /nope(&quot;|&#34;)? is not a starter provider/)
})

t.test('adding all of a provider twice saves each query once', async (t) => {
  const { app, session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const first = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.equal(first.statusCode, 200)
  t.match(first.body, `Added ${aws.length} queries to your library.`)
  const second = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.match(second.body, `${aws.length} already there, unchanged.`)
  t.notMatch(second.body, /Added \d/)
  const saved = await app.db.getQueries()
  t.equal(saved.length, aws.length)
  const buckets = saved.find((q) => q.name === 'AWS S3 buckets')
  t.equal(buckets?.provider, 'aws')
  t.match(buckets?.query_text, /FROM aws\.s3\.buckets/)
})

t.test('adding never overwrites a query the user changed, and one query can be added alone', async (t) => {
  const { app, session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const one = await session.htmx('POST', '/starter/add', { id: 'aws/s3_buckets' })
  t.match(one.body, 'Added 1 query to your library.')
  const [mine] = await app.db.getQueries()
  const changed = "SELECT Name FROM aws.s3.buckets WHERE region = 'eu-west-1'"
  await app.db.updateQuery(mine!.id, { ...mine!, query_text: changed })
  const all = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.match(all.body, 'Kept your changed version of AWS S3 buckets.')
  t.match(all.body, /Changed in your library/)
  const after = await app.db.getQueries()
  t.equal(after.find((q) => q.id === mine!.id)?.query_text, changed, "the user's statement is untouched")
  t.equal(after.filter((q) => q.name === 'AWS S3 buckets').length, 1)
  const unknown = await session.htmx('POST', '/starter/add', { id: 'aws/nope' })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.body, /There is no starter query \S*aws\/nope/)
  t.equal((await app.db.getQueries()).length, after.length, 'nothing changed')
})

t.test(
  'the New Schedule dialog is pre-filled from a starter query; its keys ride along and are ignored for now',
  async (t) => {
    const { app, session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
    await session.htmx('POST', '/starter/add', { id: 'aws/s3_buckets' })
    const before = await session.get('/schedules?starter=aws/lambda_functions')
    t.match(before.body, /add it to your library on the <a href="\/starter">Starter queries<\/a> page first/)
    await session.htmx('POST', '/starter/add', { group: 'aws' })
    const page = await session.get('/schedules?starter=aws/lambda_functions')
    t.equal(page.statusCode, 200)
    const lambda = (await app.db.getQueries()).find((q) => q.name === 'AWS Lambda functions')!
    t.match(page.body, /<dialog id="new-schedule-dialog"[^>]* open>/, 'the dialog opens')
    t.match(page.body, new RegExp(`<option value="${lambda.id}" selected>`))
    t.match(page.body, /name="cron_expression"[^>]*value="0 6 \* \* \*"/)
    t.match(page.body, /name="target_table"[^>]*value="aws_lambda_functions"/)
    t.match(page.body, /name="key_columns"[^>]*value="FunctionArn"/, 'the key columns are pre-filled')
    const created = await session.htmx('POST', '/schedules', {
      query_id: String(lambda.id),
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'aws_lambda_functions',
      key_columns: 'FunctionArn',
    })
    t.equal(created.statusCode, 200, created.body.slice(0, 300))
    const [schedule] = await app.db.getSchedules()
    t.equal(schedule?.target_table, 'aws_lambda_functions', 'the schedule is created')
    t.same(schedule?.key_columns, ['FunctionArn'], "with the starter query's key columns")
    const unknown = await session.get('/schedules?starter=nope/x')
    t.equal(unknown.statusCode, 400)
    const plain = await session.get('/schedules')
    t.notMatch(
      plain.body,
      /<dialog id="new-schedule-dialog"[^>]* open>/,
      'without a starter the dialog stays closed',
    )
  },
)

t.test(
  'the Inventory page links the dashboard and Genie space only when their URLs are configured',
  async (t) => {
    const none = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
    const plain = await none.session.get('/inventory')
    t.match(plain.body, /<span id="inventory-insights" class="inventory-insights"><\/span>/)
    const dashboardUrl = 'https://dbc-1.cloud.databricks.com/dashboardsv3/01ef/published'
    const genieUrl = 'https://dbc-1.cloud.databricks.com/genie/rooms/01f0'
    const linked = await buildTestApp(t, {
      env: { STACKQL_BIN: STANDIN, DASHBOARD_URL: dashboardUrl, GENIE_SPACE_URL: genieUrl },
    })
    const page = await linked.session.get('/inventory')
    t.match(page.body, `<a href="${dashboardUrl}" target="_blank" rel="noopener">Open dashboard</a>`)
    t.match(page.body, `<a href="${genieUrl}" target="_blank" rel="noopener">Ask Genie</a>`)
  },
)
