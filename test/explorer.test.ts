import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApp } from './helpers/app.js'
import { type Tap, tempDir } from './helpers/stackql.js'

async function explorerApp(t: Tap) {
  const downloadDir = tempDir(t, 'explorer-app-')
  const { app, session } = await buildTestApp(t, {
    env: {
      STACKQL_BIN: join(process.cwd(), 'test/standins/stackql/stackql.mjs'),
      STACKQL_DOWNLOAD_DIR: downloadDir,
      STACKQL_QUERY_TIMEOUT_S: '3',
    },
  })
  const faults = (f: object) => {
    mkdirSync(join(downloadDir, 'approot'), { recursive: true })
    writeFileSync(join(downloadDir, 'approot', 'standin-faults.json'), JSON.stringify(f))
  }
  return { app, session, faults }
}

t.test('the explorer lists providers and pulls one; the tree opens level by level', async (t) => {
  const { session } = await explorerApp(t)
  const root = await session.htmx('GET', '/explorer')
  t.equal(root.statusCode, 200)
  t.match(root.body, /No provider is installed yet/)
  t.match(root.body, /aria-label="Pull aws"/)
  const pulled = await session.htmx('POST', '/explorer/pull/aws')
  t.match(pulled.body, /role="tree"/)
  t.match(pulled.body, /role="treeitem" aria-level="1" aria-expanded="true"[^>]*data-provider="aws"/)
  const services = await session.htmx('GET', '/explorer/p/aws')
  t.match(services.body, /<ul role="group" id="explorer-g-aws"/)
  t.match(services.body, /hx-get="\/explorer\/p\/aws\/s\/ec2" hx-trigger="explorer-open once"/)
  const detail = await session.htmx('GET', '/explorer/p/aws/s/ec2/r/instances')
  t.match(
    detail.body,
    /<tr class="required-param"><td class="col-name"><code>region<\/code> <span class="tree-meta">string<\/span> <span class="badge">required/,
  )
  t.match(
    detail.body,
    /<td class="col-desc"><div title="The ID of the instance\.">The ID of the instance\.<\/div>/,
  )
  t.match(detail.body, /data-sql="SELECT\n {2}AmiLaunchIndex,[^"]*WHERE region = &#39;&lt;region&gt;&#39;/)
})

t.test('HTML in titles and descriptions is escaped', async (t) => {
  const { session } = await explorerApp(t)
  await session.htmx('POST', '/explorer/pull/stackql_bulk')
  const services = await session.htmx('GET', '/explorer/p/stackql_bulk')
  t.notMatch(services.body, /<b>texts<\/b>/)
  t.match(services.body, /Odd &lt;b&gt;texts&lt;\/b&gt;/)
  const odd = await session.htmx('GET', '/explorer/p/stackql_bulk/s/odd')
  t.notMatch(odd.body, /<img/)
  const detail = await session.htmx('GET', '/explorer/p/stackql_bulk/s/odd/r/html_descriptions')
  t.notMatch(detail.body, /<script>|<i>/)
  t.match(detail.body, /&lt;script&gt;alert/)
})

t.test(
  '5,000 resources are paged, and the filter searches names and titles across the provider',
  async (t) => {
    const { session } = await explorerApp(t)
    await session.htmx('POST', '/explorer/pull/stackql_bulk')
    const page = await session.htmx('GET', '/explorer/p/stackql_bulk/s/many')
    t.equal((page.body.match(/role="treeitem"/g) ?? []).length, 100, 'one page of 100')
    t.match(page.body, /Show more \(100 of 5000 shown\)/)
    const more = await session.htmx('GET', '/explorer/p/stackql_bulk/s/many?shown=200')
    t.equal((more.body.match(/role="treeitem"/g) ?? []).length, 200)
    const byName = await session.htmx('GET', '/explorer/p/stackql_bulk/search?q=queues_00')
    t.match(byName.body, /\d+ resources match &quot;queues_00&quot;/)
    t.match(byName.body, /many\.queues_0006/)
    const byTitle = await session.htmx('GET', '/explorer/p/stackql_bulk/search?q=number%204999')
    t.match(byTitle.body, /1 resource matches &quot;number 4999&quot;/)
    t.match(byTitle.body, /many\.topics_4999/)
    const none = await session.htmx('GET', '/explorer/p/stackql_bulk/search?q=zzz')
    t.match(none.body, /No resource of stackql_bulk matches &quot;zzz&quot;/)
  },
)

t.test('an unreachable registry: the explorer says so and offers Retry', async (t) => {
  const { session, faults } = await explorerApp(t)
  faults({ registry: 'unreachable' })
  const root = await session.htmx('GET', '/explorer')
  t.match(
    root.body,
    /id="explorer-registry-error"[^>]*>The registry's provider list could not be loaded: the provider registry could not be reached/,
  )
  t.match(
    root.body,
    /<button type="button" hx-get="\/explorer" hx-target="#explorer" hx-swap="outerHTML">Retry<\/button>/,
  )
  const pull = await session.htmx('POST', '/explorer/pull/aws')
  t.match(pull.body, /id="explorer-pull-error"[^>]*>Could not pull the provider &quot;aws&quot;/)
  t.match(pull.body, /hx-post="\/explorer\/pull\/aws"[^>]*>Retry/)
  faults({})
  const retried = await session.htmx('POST', '/explorer/pull/aws')
  t.match(retried.body, /data-provider="aws"/, 'Retry works once the registry is back')
})

t.test(
  'a failing or hanging level shows its error with Retry; the rest of the tree works',
  { timeout: 60_000 },
  async (t) => {
    const { app, session, faults } = await explorerApp(t)
    await session.htmx('POST', '/explorer/pull/aws')
    faults({ hang: ['SHOW EXTENDED RESOURCES IN aws.ec2'], fail: ['DESCRIBE EXTENDED aws.sts'] })
    const started = Date.now()
    const res = await app.inject({
      method: 'GET',
      url: '/explorer/p/aws/s/ec2',
      headers: { 'hx-request': 'true' },
    })
    t.ok(Date.now() - started < 20_000, 'bounded by the timeout')
    t.match(res.body, /class="tree-group tree-error".*did not answer `SHOW EXTENDED RESOURCES IN aws\.ec2`/s)
    t.match(res.body, /hx-get="\/explorer\/p\/aws\/s\/ec2"[^>]*>Retry/)
    const failed = await session.htmx('GET', '/explorer/p/aws/s/sts/r/caller_identity')
    t.match(failed.body, /injected failure/)
    const sts = await session.htmx('GET', '/explorer/p/aws/s/sts')
    t.match(sts.body, /caller_identity/, 'another level still opens')
  },
)

t.test('bad names are refused with a 400 before any statement', async (t) => {
  const { session } = await explorerApp(t)
  const res = await session.htmx('GET', '/explorer/p/aws/s/ec2%3BDROP')
  t.equal(res.statusCode, 400)
  t.match(res.body, /is not a service name/)
})
