// The IDE's side of issue 12: an incomplete result is shown with a warning (finding 1), and the
// memory one browser can make the server hold is bounded (finding 7): exact cache sizes, limits on
// concurrent runs, and an output limit of the IDE's own.
import t from 'tap'
import { ResultCache, resultBytes } from '../plugins/ide/result-cache.js'
import { loadConfig } from '../src/config.js'
import type { Row } from '../src/models.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const env = (t: { teardown(fn: () => unknown): void }, extra: Record<string, string> = {}) => ({
  STACKQL_BIN: STANDIN,
  STACKQL_DOWNLOAD_DIR: tempDir(t, 'ide-integrity-'),
  ...extra,
})
const as = (user: string) => ({ 'x-forwarded-email': user })

t.test(
  'finding 1 (partial output): the IDE shows the rows it got under an "incomplete result" alert',
  async (t) => {
    const { session } = await buildTestApp(t, { env: env(t) })
    const res = await session.htmx('POST', '/run', {
      query_text: "SELECT * FROM stackql_test.util.partial WHERE count = '9'",
      provider: 'stackql_test',
    })
    t.equal(res.statusCode, 200, 'the rows are a result, not an error page')
    t.match(res.body, /<strong id="row-count">3 rows<\/strong>/)
    t.match(
      res.body,
      /<div id="incomplete-result" class="alert alert-warning incomplete-result" role="alert">\s*<strong>Incomplete result: StackQL reported an error, so these rows are not the whole result\.<\/strong>\s*<pre class="incomplete-text">error: http response status code: 403, response body: &lt;Response&gt;/,
    )
    t.ok(
      res.body.indexOf('id="incomplete-result"') < res.body.indexOf('<table class="data">'),
      'the warning is above the rows',
    )
    t.notMatch(res.body, /class="alert alert-info results-message"/, 'StackQL’s text is not shown twice')
    const id = /href="\/results\/([0-9a-f-]{36})\.csv"/.exec(res.body)?.[1]
    t.ok(id, 'the rows can be downloaded')
    const again = await session.htmx('GET', `/results/${id}?page=1`)
    t.match(again.body, /id="incomplete-result"/, 'paging keeps the warning')

    const whole = await session.htmx('POST', '/run', {
      query_text: "SELECT id FROM stackql_test.util.rows WHERE count = '3'",
      provider: 'stackql_test',
    })
    t.notMatch(whole.body, /incomplete-result/, 'a complete result has no warning')
  },
)

t.test('finding 7 (IDE memory): the result cache accounts exact sizes, not a sample', async (t) => {
  // 5,000 rows: every 50th is tiny (what the old sampling read), the others carry 2 KB each.
  const rows: Row[] = Array.from({ length: 5000 }, (_, i) => ({
    id: i,
    blob: i % 50 === 0 ? '' : 'x'.repeat(2048),
  }))
  const exact = Buffer.byteLength(JSON.stringify(rows))
  t.equal(resultBytes({ rows }), exact, 'measured exactly without stdout')
  t.equal(resultBytes({ rows, outputBytes: 12345 }), 12345, 'the bytes StackQL printed, when known')
  const cache = new ResultCache({ maxBytes: 5 * 1024 * 1024 })
  t.ok(exact > 5 * 1024 * 1024)
  t.equal(cache.add('me', { columns: ['id', 'blob'], rows, elapsedMs: 1 }), undefined, 'too large to keep')
  const small = cache.add('me', { columns: ['id'], rows: [{ id: 1 }], elapsedMs: 1 })
  t.equal(small?.bytes, Buffer.byteLength('[{"id":1}]'))
  t.equal(cache.bytes, small?.bytes)
})

t.test('finding 7 (IDE memory): the IDE has an output limit of its own, below the job’s', async (t) => {
  t.equal(loadConfig({}).ide.maxOutputBytes, 64 * 1024 * 1024, 'IDE_MAX_OUTPUT_MB defaults to 64')
  t.throws(() => loadConfig({ IDE_MAX_OUTPUT_MB: 'lots' }), /IDE_MAX_OUTPUT_MB is invalid/)
  const { session } = await buildTestApp(t, { env: env(t, { IDE_MAX_OUTPUT_MB: '0.05' }) })
  const res = await session.htmx('POST', '/run', {
    query_text: "SELECT * FROM stackql_test.util.rows WHERE count = '2000'",
    provider: 'stackql_test',
  })
  t.equal(res.statusCode, 413)
  t.match(res.body, /STACKQL_OUTPUT_TOO_LARGE/)
  t.match(res.body, /more than 52429 bytes of data and was stopped\..*raise IDE_MAX_OUTPUT_MB/)
  const fits = await session.htmx('POST', '/run', {
    query_text: "SELECT id FROM stackql_test.util.rows WHERE count = '20'",
    provider: 'stackql_test',
  })
  t.equal(fits.statusCode, 200)
})

t.test(
  'finding 7 (IDE memory): concurrent runs are limited per user and per server, with a 429',
  async (t) => {
    const { session } = await buildTestApp(t, {
      env: env(t, { IDE_MAX_CONCURRENT_RUNS_PER_USER: '2', IDE_MAX_CONCURRENT_RUNS: '3' }),
    })
    const sleep = {
      query_text: "SELECT * FROM stackql_test.util.sleep WHERE seconds = '2'",
      provider: 'stackql_test',
    }
    await session.htmx('POST', '/run', { query_text: 'REGISTRY PULL stackql_test' })
    const first = [
      session.htmx('POST', '/run', sleep, as('ann@example.com')),
      session.htmx('POST', '/run', sleep, as('ann@example.com')),
    ]
    await new Promise((r) => setTimeout(r, 400))
    const third = await session.htmx('POST', '/run', sleep, as('ann@example.com'))
    t.equal(third.statusCode, 429)
    t.equal(third.headers['retry-after'], '5')
    t.match(third.body, /TOO_MANY_RUNS/)
    t.match(
      third.body,
      /You already have 2 queries running, the most one user may run at once \(IDE_MAX_CONCURRENT_RUNS_PER_USER = 2\)\. Wait for one to finish, or cancel it, then run again\./,
    )
    const bob = session.htmx('POST', '/run', sleep, as('bob@example.com'))
    await new Promise((r) => setTimeout(r, 400))
    const carol = await session.htmx('POST', '/run', sleep, as('carol@example.com'))
    t.equal(carol.statusCode, 429)
    t.match(
      carol.body,
      /3 queries are running on this server, the most it runs at once \(IDE_MAX_CONCURRENT_RUNS = 3\)/,
    )
    for (const r of await Promise.all([...first, bob])) t.equal(r.statusCode, 200, 'the admitted runs finish')
    const after = await session.htmx('POST', '/run', { query_text: 'SHOW PROVIDERS' }, as('ann@example.com'))
    t.equal(after.statusCode, 200, 'finished runs free their places')
    const failing = await session.htmx(
      'POST',
      '/run',
      { query_text: 'SELECT FROM nowhere' },
      as('ann@example.com'),
    )
    t.equal(failing.statusCode, 422)
    const stillFree = await Promise.all([
      session.htmx('POST', '/run', { query_text: 'SHOW PROVIDERS' }, as('ann@example.com')),
      session.htmx('POST', '/run', { query_text: 'SHOW PROVIDERS' }, as('ann@example.com')),
    ])
    t.same(
      stillFree.map((r) => r.statusCode),
      [200, 200],
      'a failed run frees its place too',
    )
  },
)
