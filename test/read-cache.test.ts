// The cache of read-mostly lists (saved queries, mapped providers) that the IDE page reads on every
// view: shared loads, expiry, failures not kept, this process's writes seen at once, another
// process's within LIST_MAX_AGE_MS, and reads that go to the database while it is marked down.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { openDatabase } from '../src/db/connect.js'
import { DbService, LIST_MAX_AGE_MS } from '../src/db/db-service.js'
import { ReadCache } from '../src/db/read-cache.js'
import { buildTestApp } from './helpers/app.js'
import { testDb } from './helpers/db.js'

const query = { name: 'EC2 instances', description: '', query_text: 'SELECT 1', provider: 'aws' }
const mapping = { provider: 'github', env_var_name: 'GITHUB_TOKEN', secret_scope: 'team', secret_key: 'gh' }

t.test('ReadCache: one load for concurrent callers, kept for max age, then loaded again', async (t) => {
  let clock = 0
  const cache = new ReadCache(1000, () => clock)
  let loads = 0
  const load = async () => [`value ${++loads}`]
  const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)])
  t.equal(loads, 1, 'concurrent callers share one load')
  t.equal(a, b)
  clock = 999
  t.equal(await cache.get('k', load), a, 'kept until the max age')
  clock = 1000
  t.same(await cache.get('k', load), ['value 2'], 'loaded again at the max age')
  t.throws(() => (a as string[]).push('x'), TypeError, 'shared values are frozen')
})

t.test('ReadCache: a failed load is not kept; invalidation drops a load in flight', async (t) => {
  const cache = new ReadCache(60_000)
  await t.rejects(
    cache.get('k', async () => {
      throw new Error('database down')
    }),
    /database down/,
  )
  t.same(await cache.get('k', async () => ['after']), ['after'], 'the next caller loads again')

  let release!: (v: string[]) => void
  const inFlight = cache.get('k2', () => new Promise<string[]>((r) => (release = r)))
  cache.invalidate('k2')
  release(['before the write'])
  t.same(await inFlight, ['before the write'], 'the caller that started it still gets its answer')
  t.same(await cache.get('k2', async () => ['after the write']), ['after the write'])
})

t.test("DbService: this process's changes show at once", async (t) => {
  const { db } = await testDb(t)
  t.same(await db.getQueries(), [])
  t.same(await db.getProviders(), [])
  const saved = await db.saveQuery(query, 'a@example.com')
  t.same(
    (await db.getQueries()).map((q) => q.name),
    ['EC2 instances'],
  )
  await db.updateQuery(saved.id, { ...query, name: 'renamed' })
  t.same(
    (await db.getQueries()).map((q) => q.name),
    ['renamed'],
  )
  const m = await db.saveProviderConfig(mapping, 'a@example.com')
  t.same(await db.getProviders(), ['github'])
  await db.deleteProviderConfig(m.id)
  t.same(await db.getProviders(), [])
  await db.deleteQuery(saved.id)
  t.same(await db.getQueries(), [])
  await t.rejects(db.deleteQuery(saved.id), { code: 'NOT_FOUND' })
  t.same(await db.getQueries(), [], 'a refused write leaves the list right')
})

t.test("DbService: another process's change shows within LIST_MAX_AGE_MS", async (t) => {
  const { db, url } = await testDb(t)
  const other = await openDatabase({ mode: 'url', url }, { max: 1 })
  t.teardown(other.close)
  const otherProcess = new DbService(other.sql, other.target)
  const before = await db.getQueries()
  await otherProcess.saveQuery(query, 'b@example.com')
  t.equal(await db.getQueries(), before, 'served from the cache meanwhile')
  await sleep(LIST_MAX_AGE_MS + 50)
  t.same(
    (await db.getQueries()).map((q) => q.name),
    ['EC2 instances'],
  )
})

t.test('DbService: while the database is marked down, reads go to it', async (t) => {
  const { db, sql } = await testDb(t)
  await db.getProviders()
  await sql`insert into stackql_app.provider_config (provider, env_var_name, secret_scope, secret_key, created_by)
    values ('aws', 'AWS_ACCESS_KEY_ID', 'team', 'aws', 'psql')`
  db.health.markDown('simulated outage')
  t.same(await db.getProviders(), ['aws'], 'read from the database, not the cache')
  t.equal(db.health.status.up, true, 'and the answer clears the outage')
})

t.test('the IDE page follows changes to the saved queries and the mappings', async (t) => {
  const { app, session } = await buildTestApp(t, { env: { TRUST_FORWARDED_EMAIL: 'true' } })
  t.match((await session.get('/')).body, /No saved queries yet/)
  const q = await app.db.saveQuery({ ...query, name: 'Buckets <all>' }, 'a@example.com')
  const picker = () =>
    session.htmx('POST', '/profiles/picker', {
      query_text: "SELECT id FROM github.repos.repos WHERE org = 'x'",
    })
  t.notMatch((await picker()).body, /github\/prod/)
  await app.db.saveProviderConfig({ ...mapping, profile: 'prod' }, 'a@example.com')
  const second = await session.get('/')
  t.match(second.body, /Buckets &lt;all&gt;/)
  t.match(
    (await picker()).body,
    /<option value="github\/prod">prod<\/option>/,
    'the new profile is offered at once',
  )
  await app.db.deleteQuery(q.id)
  const third = await session.get('/')
  t.notMatch(third.body, /Buckets/)

  // The same lists, two people: the body is reused, the layout around it is each request's own.
  const as = (email: string) =>
    app.inject({ url: '/', headers: { accept: 'text/html', 'x-forwarded-email': email } })
  const [ana, bo] = await Promise.all([as('ana@example.com'), as('bo@example.com')])
  t.match(ana.body, /title="Signed in as">ana@example.com</)
  t.match(bo.body, /title="Signed in as">bo@example.com</)
  const main = (html: string) => /<main id="main">[\s\S]*<\/main>/.exec(html)?.[0]
  t.match(main(ana.body), /id="saved-queries"/)
  t.equal(main(ana.body), main(bo.body), 'the same page body')
})
