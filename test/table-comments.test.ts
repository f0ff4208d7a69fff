// Day-one content: the runner describes every table it writes in the catalog — the table (query,
// description, statement, schedule, last run) and each column (the provider's field description from
// the explorer's metadata cache, else where it comes from) — and the Inventory page lists them.
import t from 'tap'
import { columnComments } from '../src/db/table-comments.js'
import { runInventory } from '../src/services/inventory-run.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

t.test('a successful run comments the table and its columns; the Inventory detail shows them', async (t) => {
  const { app, session } = await buildTestApp(t, {
    env: { STACKQL_BIN: STANDIN, STACKQL_DOWNLOAD_DIR: tempDir(t, 'comments-') },
  })
  const query = await app.db.saveQuery(
    {
      name: 'Test resources',
      description: 'Every generated resource',
      query_text: "SELECT id, name, region FROM stackql_test.util.rows WHERE count = '3'",
      provider: 'stackql_test',
    },
    'dev@example.com',
  )
  const schedule = await app.db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 6 * * *',
    target_schema: 'stackql_inventory',
    target_table: 'described',
  })
  // What the explorer cached for the resource (DESCRIBE EXTENDED): a description for one field.
  await app.sql`insert into stackql_app.metadata_cache (provider, version, statement, payload)
    values ('stackql_test', 'v1', 'DESCRIBE EXTENDED stackql_test.util.rows',
      ${app.sql.json([{ name: 'region', type: 'string', description: 'The region the resource lives in.' }] as never)})`
  const out = await runInventory(
    { db: app.db, sql: app.sql, queries: app.queries, log: quiet },
    {
      queryId: query.id,
      scheduleId: schedule.id,
      targetSchema: 'stackql_inventory',
      targetTable: 'described',
    },
  )
  t.equal(out.status, 'SUCCESS')
  const [table] = await app.sql<
    { c: string }[]
  >`select obj_description('stackql_inventory.described'::regclass) as c`
  t.match(table?.c, /saved query "Test resources" \(provider stackql_test\)/)
  t.match(table?.c, /Description: Every generated resource/)
  t.match(table?.c, /Statement: SELECT id, name, region FROM stackql_test\.util\.rows/)
  t.match(table?.c, new RegExp(`Schedule ${schedule.id}: cron 0 6 \\* \\* \\*`))
  t.match(table?.c, new RegExp(`Last run ${out.runId} at .*: 3 rows`))
  const columns = await app.db.use((sql) => columnComments(sql, 'stackql_inventory', 'described'))
  t.same(
    columns.map((c) => [c.name, c.comment]),
    [
      ['id', 'id, from stackql_test.util.rows'],
      ['name', 'name, from stackql_test.util.rows'],
      ['region', 'The region the resource lives in. (from stackql_test.util.rows, field region)'],
    ],
  )
  const page = await session.get('/inventory/tables/described')
  t.equal(page.statusCode, 200)
  t.match(page.body, /<table class="data columns" id="table-columns"/)
  t.match(page.body, /<td><code>region<\/code><\/td><td>text<\/td><td>The region the resource lives in\./)
})

t.test('a quote and a backslash in a name or description are stored as written, never as SQL', async (t) => {
  const { app } = await buildTestApp(t, {
    env: { STACKQL_BIN: STANDIN, STACKQL_DOWNLOAD_DIR: tempDir(t, 'comments-') },
  })
  const query = await app.db.saveQuery(
    {
      name: "it's; drop table x --",
      description: "a \\ backslash and a 'quote'",
      query_text: "SELECT id FROM stackql_test.util.rows WHERE count = '1'",
      provider: 'stackql_test',
    },
    'dev@example.com',
  )
  const out = await runInventory(
    { db: app.db, sql: app.sql, queries: app.queries, log: quiet },
    { queryId: query.id, targetSchema: 'stackql_inventory', targetTable: 'odd_text' },
  )
  t.equal(out.status, 'SUCCESS')
  const [table] = await app.sql<
    { c: string }[]
  >`select obj_description('stackql_inventory.odd_text'::regclass) as c`
  t.match(table?.c, /saved query "it's; drop table x --"/)
  t.match(table?.c, /Description: a \\ backslash and a 'quote'/)
  t.match(table?.c, /Written without a schedule\./)
})
