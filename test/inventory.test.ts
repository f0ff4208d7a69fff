// The Inventory page over a real PostgreSQL: metrics from the row counts the writer recorded,
// table list, preview, materialised-view refresh, empty state, and refusal of hostile names.
import t from 'tap'
import { rowsPerTableChart, runHistoryChart } from '../src/render/inventory-chart.js'
import { buildTestApp } from './helpers/app.js'

type Built = Awaited<ReturnType<typeof buildTestApp>>

/** Two inventory tables written by "runs": instances (no view) and buckets (with buckets_mv). */
async function seed(built: Built) {
  const { app } = built
  const sql = app.db.sql
  await app.db.ping()
  await sql`create table stackql_inventory.instances (id bigint, name text, tags jsonb, raw text)`
  await sql`insert into stackql_inventory.instances values
    (1, 'web-1', '{"env":"prod","team":"web"}', '{"nested":{"description":"long enough to be shown indented","a":1}}'),
    (2, '<script>alert("x")</script>', null, '<img src=x onerror=alert(1)>'),
    (3, 'db-1', '[1,2]', '[plain & simple')`
  await sql`create table stackql_inventory.buckets (name text)`
  await sql`insert into stackql_inventory.buckets values ('logs'), ('assets')`
  await sql`create materialized view stackql_inventory.buckets_mv as select name from stackql_inventory.buckets`
  // Recorded counts deliberately differ from the real ones: the page must show what the writer recorded.
  const ok = await app.db.startRun({
    query_id: null,
    target_schema: 'stackql_inventory',
    target_table: 'instances',
  })
  await app.db.finishRun(ok.id, { status: 'SUCCESS', row_count: 1234 })
  const failed = await app.db.startRun({
    query_id: null,
    target_schema: 'stackql_inventory',
    target_table: 'instances',
  })
  await app.db.finishRun(failed.id, { status: 'FAILED', error: 'provider said <b>no</b>' })
  const b = await app.db.startRun({
    query_id: null,
    target_schema: 'stackql_inventory',
    target_table: 'buckets',
  })
  await app.db.finishRun(b.id, { status: 'SUCCESS', row_count: 2 })
  return sql
}

t.test('with no inventory tables the page says how to get one, with a link to Schedules', async (t) => {
  const { session } = await buildTestApp(t)
  const res = await session.get('/inventory')
  t.equal(res.statusCode, 200)
  t.match(res.body, /No inventory tables yet\./)
  t.match(
    res.body,
    /Schedule a query on the <a href="\/schedules">Schedules page<\/a> and run it \(Run now\)/,
  )
  t.notMatch(res.body, /id="inventory-metrics"/, 'no metrics of nothing')
})

t.test('metrics and the table list use the row counts the writer recorded', async (t) => {
  const built = await buildTestApp(t)
  await seed(built)
  const res = await built.session.get('/inventory')
  t.equal(res.statusCode, 200)
  t.match(res.body, /data-metric="tables">2</)
  t.match(res.body, /data-metric="rows">1,236</, '1234 recorded + 2 recorded, not 3 + 2 counted')
  t.match(res.body, /data-metric="last-refresh">\d{4}-\d\d-\d\d \d\d:\d\d UTC</)
  const row = (name: string) =>
    res.body.match(new RegExp(`<tr id="inventory-row-${name}"[\\s\\S]*?</tr>`))?.[0] ?? ''
  t.match(row('instances'), /<td class="num">1,234<\/td>/)
  t.match(row('instances'), /<span class="badge off">no<\/span>/)
  t.match(
    row('instances'),
    /<button type="button" class="refresh-mv" disabled title="No materialised view instances_mv exists/,
  )
  t.match(row('buckets'), /<span class="badge on">yes<\/span>/)
  t.match(row('buckets'), /hx-post="\/inventory\/tables\/buckets\/refresh"/)
  t.notMatch(row('buckets'), /disabled/)
  t.notMatch(res.body, /inventory-row-buckets_mv/, 'materialised views are not listed as tables')
  t.match(res.body, /<svg class="chart chart-rows"[\s\S]*<title>instances: 1,234 rows<\/title>/)
  t.match(res.body, /Select a table above to preview/)
})

t.test('selecting a table previews its first rows with every cell escaped and JSON indented', async (t) => {
  const built = await buildTestApp(t)
  await seed(built)
  const res = await built.session.get('/inventory/tables/instances', {
    'hx-request': 'true',
    'hx-request-type': 'partial',
  })
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, /<!doctype html>/, 'a fragment for htmx')
  t.match(res.body, /^\s*<section id="inventory-detail"/)
  t.match(res.body, /<th scope="col">id<\/th><th scope="col">name<\/th><th scope="col">tags<\/th>/)
  t.match(res.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/)
  t.match(res.body, /&lt;img src=x onerror=alert\(1\)&gt;/)
  t.notMatch(res.body, /<script>alert|<img src=x/, 'no cell value reaches the page as markup')
  t.match(
    res.body,
    /<pre class="json">\{&quot;env&quot;:&quot;prod&quot;,&quot;team&quot;:&quot;web&quot;\}<\/pre>/,
    'short JSON on one line',
  )
  t.match(
    res.body,
    /<pre class="json">\{\n {2}&quot;nested&quot;: \{\n {4}&quot;description&quot;/,
    'long JSON text indented',
  )
  t.match(res.body, /<td class="null">null<\/td>/)
  t.match(res.body, /<td>\[plain &amp; simple<\/td>/, 'not JSON after all: plain text')
  t.match(res.body, /Showing 3 rows and 4 columns/)
  t.match(res.body, /<svg class="chart chart-runs"/, 'row count over recent runs')
  t.match(res.body, /FAILED - provider said &lt;b&gt;no&lt;\/b&gt;/, 'failure reason as an escaped tooltip')
  t.match(res.body, /last run FAILED/)

  const page = await built.session.get('/inventory/tables/buckets')
  t.equal(page.statusCode, 200)
  t.match(page.body, /<!doctype html>/, 'the same address without htmx is the whole page')
  t.match(page.body, /<tr id="inventory-row-buckets" class="clickable selected"/)
  t.match(page.body, /<section id="inventory-detail"[^>]*data-table="buckets"/)
})

t.test('a table with no rows and no runs says so', async (t) => {
  const built = await buildTestApp(t)
  await seed(built)
  await built.app.db.sql`create table stackql_inventory.empty_one (id bigint)`
  const res = await built.session.get('/inventory/tables/empty_one', { 'hx-request': 'true' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /This table has no rows\./)
  t.match(res.body, /No runs recorded for this table yet/)
})

t.test('Refresh refreshes <table>_mv and says when', async (t) => {
  const built = await buildTestApp(t)
  const sql = await seed(built)
  await sql`insert into stackql_inventory.buckets values ('new-bucket')`
  const before = await sql`select count(*)::int as n from stackql_inventory.buckets_mv`
  t.equal(before[0]!.n, 2)
  const res = await built.session.htmx('POST', '/inventory/tables/buckets/refresh')
  t.equal(res.statusCode, 200)
  t.match(
    res.body,
    /^<span id="mv-status-buckets" class="mv-status mv-ok" role="status"><time datetime="[^"]+">Refreshed at \d\d:\d\d:\d\d UTC<\/time><\/span>/,
  )
  const after = await sql`select count(*)::int as n from stackql_inventory.buckets_mv`
  t.equal(after[0]!.n, 3, 'the view now sees the new row')
})

t.test('Refresh of a table without a materialised view is refused with the reason', async (t) => {
  const built = await buildTestApp(t)
  await seed(built)
  const res = await built.session.htmx('POST', '/inventory/tables/instances/refresh')
  t.equal(res.statusCode, 404)
  t.match(res.body, /id="error-message"/)
  t.match(res.body, /Table instances has no materialised view instances_mv to refresh/)
})

t.test('hostile or unknown table names in routes get 400/404 and change nothing', async (t) => {
  const built = await buildTestApp(t)
  const sql = await seed(built)
  const snapshot = async () => ({
    tables: (
      await sql`select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('stackql_inventory', 'stackql_app') and c.relkind in ('r', 'm') order by 1`
    ).map((r) => r.relname),
    instances: (await sql`select count(*)::int as n from stackql_inventory.instances`)[0]!.n,
    runs: (await sql`select count(*)::int as n from stackql_app.runs`)[0]!.n,
  })
  const before = await snapshot()
  const cases: Array<[string, number, RegExp]> = [
    ['x; drop table stackql_inventory.instances', 400, /Invalid table name/],
    ['instances"; drop table stackql_inventory.instances; --', 400, /Invalid table name/],
    ["instances' or '1'='1", 400, /Invalid table name/],
    ['"instances"', 400, /Invalid table name/],
    ['INSTANCES', 400, /Invalid table name/],
    ['tàble', 400, /Invalid table name/],
    ['instances\u0000', 400, /./],
    ['stackql_app.queries', 400, /Invalid table name/],
    ['queries', 404, /Table stackql_inventory\.queries does not exist/],
    ['runs', 404, /Table stackql_inventory\.runs does not exist/],
    ['pg_class', 404, /does not exist/],
    ['buckets_mv', 404, /Table stackql_inventory\.buckets_mv does not exist/],
    ['no_such_table', 404, /does not exist/],
    ['a'.repeat(61), 400, /Invalid table name/],
  ]
  for (const [name, status, message] of cases) {
    const path = `/inventory/tables/${encodeURIComponent(name)}`
    const get = await built.session.get(path, { 'hx-request': 'true' })
    t.equal(get.statusCode, status, `GET ${JSON.stringify(name)}`)
    t.match(get.body, message, `GET ${JSON.stringify(name)} says why`)
    t.notMatch(get.body, /<script|"; drop/, 'the name is escaped in the message')
    const post = await built.session.htmx('POST', `${path}/refresh`)
    t.equal(post.statusCode, status, `POST refresh ${JSON.stringify(name)}`)
  }
  const traversal = await built.session.get('/inventory/tables/..%2F..%2Fstackql_app%2Fqueries')
  t.ok([400, 404].includes(traversal.statusCode), 'path tricks are refused')
  t.same(await snapshot(), before, 'no table dropped, no rows changed, no run recorded')
})

t.test('the inventory pictures escape every text and draw the largest tables first', async (t) => {
  const tables = Array.from({ length: 30 }, (_, i) => ({ name: `t_${i}`, rows: i * 10 }))
  tables.push({ name: '<script>x</script>', rows: 1_000_000 })
  const svg = rowsPerTableChart(tables, { limit: 25 })
  t.equal(svg.match(/<g class="chart-row">/g)?.length, 25, 'at most the limit')
  t.match(svg, /^<svg class="chart chart-rows"/)
  t.match(svg, /<title>&lt;script&gt;x&lt;\/script&gt;: 1,000,000 rows<\/title>/)
  t.notMatch(svg, /<script>/)
  t.ok(svg.indexOf('t_29') < svg.indexOf('t_28'), 'largest first')
  t.notMatch(svg, /t_4</, 'the smallest are left out')
  t.equal(rowsPerTableChart([]), '', 'nothing to draw')

  const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m))
  const run = (
    id: number,
    status: 'SUCCESS' | 'FAILED' | 'RUNNING',
    rows: number | null,
    error: string | null,
  ) => ({
    id,
    schedule_id: null,
    query_id: null,
    target_schema: 'stackql_inventory',
    target_table: 'x',
    started_at: at(id),
    finished_at: at(id),
    status,
    row_count: rows,
    error,
    trigger: 'local',
  })
  const runs = [
    run(3, 'RUNNING', null, null),
    run(2, 'FAILED', null, '"quota" <exceeded>'),
    run(1, 'SUCCESS', 40, null),
  ]
  const history = runHistoryChart(runs)
  t.match(
    history,
    /<rect [^>]*class="chart-bar run-success"><title>2026-01-01 00:01 UTC: SUCCESS, 40 rows<\/title>/,
  )
  t.match(history, /FAILED - &quot;quota&quot; &lt;exceeded&gt;/)
  t.match(history, /run-running/)
  t.ok(history.indexOf('00:01') < history.indexOf('00:03'), 'oldest on the left')
  t.equal(runHistoryChart([]), '')
})
