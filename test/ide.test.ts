import { readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { csvField, displayCell } from '../plugins/ide/result-format.js'
import { resultView } from '../plugins/ide/results.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir, waitUntil } from './helpers/stackql.js'
import { startAnthropicStandin } from './standins/anthropic.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const api = await startAnthropicStandin()
t.teardown(() => api.close())
// The Anthropic key comes from the workspace's secret scope (the app's own process.env stays untouched).
const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
t.teardown(() => workspace.close())
workspace.state.putSecret('stackql-inventory', 'anthropic-api-key', api.apiKey)
const env = (prefix: string) => ({
  STACKQL_BIN: STANDIN,
  STACKQL_DOWNLOAD_DIR: tempDir(t, prefix),
  STACKQL_LOCAL_DEV: 'false',
  DATABRICKS_HOST: workspace.url,
  DATABRICKS_TOKEN: 'dapi-test',
  ANTHROPIC_BASE_URL: api.url,
  ANTHROPIC_MODEL: 'claude-test-model',
})
const { app } = await buildTestApp(t, { env: env('ide-test-') })

/** A browser tab: the CSRF cookie and token from the page, sent like public/js/app.js and ide.js do. */
async function tab(target: FastifyInstance = app) {
  const page = await target.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })
  const set = page.headers['set-cookie']
  const cookie = `_csrf=${/_csrf=([^;]+)/.exec(Array.isArray(set) ? set[0]! : String(set))![1]}`
  const token = /<meta name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!
  const headers = { cookie, 'x-csrf-token': token }
  const partial = { accept: 'text/html', 'hx-request': 'true', 'hx-request-type': 'partial', ...headers }
  return {
    headers,
    page,
    form: (method: 'POST' | 'DELETE', url: string, form?: Record<string, string>) =>
      target.inject({
        method,
        url,
        headers: { ...partial, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        payload: form ? new URLSearchParams(form).toString() : undefined,
      }),
    get: (url: string) => target.inject({ method: 'GET', url, headers: partial }),
    chat: (body: unknown) =>
      target.inject({
        method: 'POST',
        url: '/chat',
        headers: { ...headers, accept: 'text/event-stream', 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      }),
  }
}

const run = async (query: string, provider = '') =>
  (await tab()).form('POST', '/run', { query_text: query, provider })

interface SseEvent {
  event: string
  data: string
}
function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      return { event, data: data.join('\n') }
    })
}

/** Minimal RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  return rows
}

t.test('the IDE page lists the mapped providers and the saved queries, escaped', async (t) => {
  const mapping = await app.db.saveProviderConfig(
    { provider: 'cloudflare', env_var_name: 'CLOUDFLARE_API_TOKEN', secret_scope: 'team', secret_key: 'cf' },
    'me@example.com',
  )
  t.teardown(() => app.db.deleteProviderConfig(mapping.id))
  const q = await app.db.saveQuery(
    {
      name: '<img src=x onerror=alert(1)>',
      description: 'repos of the org',
      query_text: "SELECT name FROM github.repos.repos WHERE org = 'stackql'",
      provider: 'github',
    },
    'me@example.com',
  )
  t.teardown(() => app.db.deleteQuery(q.id))
  const { page } = await tab()
  t.equal(page.statusCode, 200)
  t.match(
    page.body,
    /<div id="profile-picker"[^>]*hx-post="\/profiles\/picker" hx-trigger="querytext" hx-sync="replace"/,
  )
  t.match(page.body, /Credentials follow the query: no provider referenced yet/)
  t.notMatch(page.body, /<img src=x/)
  t.match(page.body, /&lt;img src=x onerror=alert\(1\)&gt;/)
  t.match(page.body, /data-query-text="SELECT name FROM github.repos.repos WHERE org = &#39;stackql&#39;"/)
  t.match(page.body, /data-provider="github"/)
  t.match(page.body, /The SQL editor could not load: reload the page/)
  t.match(page.body, /<noscript>/)
  t.match(page.body, /<textarea id="query-text" name="query_text" hidden>/)
  for (const label of [
    'Run',
    'Clear',
    'Cancel',
    'Save Query',
    'Explain Query',
    'Write Query',
    'Interpret Results',
  ]) {
    t.match(page.body, new RegExp(`>\\s*${label}\\b`), `shows "${label}"`)
  }
})

t.test('without credential mappings the page points to the Providers page', async (t) => {
  const { app: bare } = await buildTestApp(t)
  const { page } = await tab(bare)
  t.match(page.body, /No provider credentials yet: <a href="\/providers">/)
  t.match(page.body, /No saved queries yet/)
})

t.test('running a query shows the rows with their count and the execution time', async (t) => {
  const res = await run(
    "SELECT id, name, description FROM github.repos.repos WHERE org = 'stackql'",
    'github',
  )
  t.equal(res.statusCode, 200)
  t.match(res.body, /^<section id="results"/)
  t.match(res.body, /<strong id="row-count">3 rows<\/strong>/)
  t.match(res.body, /<span class="muted" id="elapsed">in \d+(\.\d+)? m?s<\/span>/)
  t.match(res.body, /<th>description<\/th>/)
  t.match(res.body, /<td class="cell-text">pystackql<\/td>/)
  t.match(res.body, /<td class="cell-null">NULL<\/td>/, 'NULL shown as NULL, not an empty string')
  t.match(res.body, /Interpret Results/)
  t.notMatch(res.body, /showing/, 'a one-page result has no pager')
})

t.test('an empty result says so and is not an error', async (t) => {
  const res = await run("SELECT id FROM github.repos.repos WHERE org = 'nobody'", 'github')
  t.equal(res.statusCode, 200)
  t.match(res.body, /<div class="alert alert-info" id="no-rows">Query returned no rows.<\/div>/)
  t.match(res.body, /0 rows/)
  t.notMatch(res.body, /Interpret Results/)
})

t.test('a StackQL error shows the raw StackQL message, escaped, in the results area', async (t) => {
  const res = await run("SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'", 'aws')
  t.equal(res.statusCode, 422)
  t.match(res.body, /^<section id="results"/)
  t.match(res.body, /<pre id="query-error" class="alert alert-error" role="alert">/)
  t.match(res.body, /AWS was not able to validate the provided access credentials/)
  t.match(res.body, /&lt;\?xml version=&quot;1.0&quot;/, 'the XML body is escaped, not parsed as HTML')
  t.notMatch(res.body, /<Response>/)

  const syntax = await run("SELECT FROM '<script>alert(1)</script>'")
  t.equal(syntax.statusCode, 422)
  t.match(syntax.body, /syntax error at position/)
  t.match(syntax.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  t.notMatch(syntax.body, /<script>/)

  // An unterminated string is refused by the tokenizer before StackQL runs; the text it quotes is escaped too.
  const refused = await run("SELECT '<script>alert(1)</script>")
  t.equal(refused.statusCode, 400)
  t.match(refused.body, /&lt;script&gt;/)
  t.notMatch(refused.body, /<script>/)
})

t.test('an empty editor and several statements are refused with a message', async (t) => {
  const empty = await run('   ')
  t.equal(empty.statusCode, 400)
  t.match(empty.body, /The editor is empty: write a query first./)
  const two = await run('SHOW PROVIDERS; SHOW PROVIDERS')
  t.equal(two.statusCode, 400)
  t.match(two.body, /^<section id="results"/)
  const badProvider = await run('SHOW PROVIDERS', 'No Such')
  t.equal(badProvider.statusCode, 400)
  t.match(badProvider.body, /is not a provider name/)
  const badProfile = await (await tab()).form('POST', '/run', {
    query_text: 'SHOW PROVIDERS',
    profile: 'aws/Not Valid',
  })
  t.equal(badProfile.statusCode, 400)
  t.match(badProfile.body, /is not a profile name/)
})

t.test('statements without rows show their message', async (t) => {
  const res = await run('REGISTRY PULL github')
  t.equal(res.statusCode, 200)
  t.match(res.body, /class="alert alert-info results-message">[^<]*successfully installed/)
  t.notMatch(res.body, /Query returned no rows/)
})

t.test('result cells are escaped and JSON values are readable', async (t) => {
  const view = resultView(
    {
      columns: ['x', 'tags', 'n'],
      rows: [{ x: '<script>alert(1)</script>', tags: { a: '<b>', list: [1, 'two'] }, n: 5 }],
      elapsedMs: 3,
    },
    1,
  )
  const html = (await app.view('ide/_results', { results: view })) as unknown as string
  t.notMatch(html, /<script>|<b>/)
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  t.match(
    html,
    /<td class="cell-json">\{&quot;a&quot;: &quot;&lt;b&gt;&quot;, &quot;list&quot;: \[1, &quot;two&quot;\]\}<\/td>/,
  )
  t.same(
    displayCell({ s: 'a,"b' }),
    { kind: 'json', text: '{"s": "a,\\"b"}' },
    'string content is not reformatted',
  )
})

t.test('a 50,000-row result is paged and downloads whole as CSV and JSON', async (t) => {
  const res = await run("SELECT * FROM stackql_test.util.rows WHERE count = '50000'", 'stackql_test')
  t.equal(res.statusCode, 200)
  t.match(res.body, /50,000 rows/)
  t.match(res.body, /showing 1–1,000 of 50,000/)
  t.match(res.body, /Page 1 of 50/)
  t.equal((res.body.match(/<tr><td class="rownum">/g) ?? []).length, 1000, 'first page: 1,000 rows')
  const id = /href="\/results\/([0-9a-f-]{36})\.csv"/.exec(res.body)?.[1]
  t.ok(id, 'links to the CSV download')

  const { get } = await tab()
  const last = await get(`/results/${id}?page=50`)
  t.equal(last.statusCode, 200)
  t.match(last.body, /showing 49,001–50,000 of 50,000/)
  t.match(
    last.body,
    /<td class="rownum">50000<\/td><td class="cell-text">50000<\/td><td class="cell-text">resource-50000<\/td>/,
  )

  const csv = await get(`/results/${id}.csv`)
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv/)
  t.match(csv.headers['content-disposition'], /^attachment; filename="stackql-result-.*\.csv"$/)
  const rows = parseCsv(csv.body)
  t.same(rows[0], ['id', 'name', 'region', 'active', 'cpu', 'owner', 'tags'])
  t.equal(rows.length, 50_001, 'header + every row')
  t.same(rows[1], [
    '1',
    'resource-1',
    'us-east-1',
    'true',
    '0.5',
    '',
    '{"env":"dev","cost_center":"1000","labels":["a","b"]}',
  ])
  t.same(rows[50_000], [
    '50000',
    'resource-50000',
    'eu-west-1',
    'false',
    '15.5',
    'team-5',
    '{"env":"prod","cost_center":"1009","labels":["a","b"]}',
  ])

  const json = await get(`/results/${id}.json`)
  t.equal(json.statusCode, 200)
  t.match(json.headers['content-disposition'], /attachment; filename=".*\.json"/)
  const parsed = JSON.parse(json.body) as Record<string, unknown>[]
  t.equal(parsed.length, 50_000)
  t.same(parsed[49_999], {
    id: '50000',
    name: 'resource-50000',
    region: 'eu-west-1',
    active: false,
    cpu: 15.5,
    owner: 'team-5',
    tags: { env: 'prod', cost_center: '1009', labels: ['a', 'b'] },
  })
})

t.test('results belong to the user who ran them and expire with a message', async (t) => {
  const res = await run("SELECT id FROM github.repos.repos WHERE org = 'stackql'", 'github')
  const id = /data-result-id="([0-9a-f-]{36})"/.exec(res.body)![1]
  const other = await app.inject({
    method: 'GET',
    url: `/results/${id}.csv`,
    headers: { 'x-forwarded-email': 'eve@example.com' },
  })
  t.equal(other.statusCode, 404)
  const gone = await (await tab()).get('/results/00000000-0000-4000-8000-000000000000?page=2')
  t.equal(gone.statusCode, 404)
  t.match(gone.body, /^<section id="results"/)
  t.match(gone.body, /no longer available/)
})

t.test('CSV fields follow RFC 4180 and cannot start a spreadsheet formula', async (t) => {
  t.equal(csvField('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`)
  t.equal(csvField('+1+2'), "'+1+2")
  t.equal(csvField('@SUM(A1)'), "'@SUM(A1)")
  t.equal(csvField('-2+3'), "'-2+3")
  t.equal(csvField('\tcmd'), "'\tcmd")
  t.equal(csvField('-5'), '-5', 'a negative number stays a number')
  t.equal(csvField('+1.5e3'), '+1.5e3')
  t.equal(csvField(-7), '-7')
  t.equal(csvField('a,b'), '"a,b"')
  t.equal(csvField('line\nbreak'), '"line\nbreak"')
  t.equal(csvField(null), '')
  t.equal(csvField({ k: '=x' }), '"{""k"":""=x""}"')
})

t.test('saving a query validates in the dialog, then refreshes the library', async (t) => {
  const { form } = await tab()
  const noName = await form('POST', '/queries', {
    name: ' ',
    description: '',
    query_text: 'SELECT 1',
    provider: 'github',
  })
  t.equal(noName.statusCode, 400)
  t.match(noName.body, /id="error-message"[^>]*>\s*Give the query a name./)
  const noProvider = await form('POST', '/queries', { name: 'no provider', query_text: 'SHOW PROVIDERS' })
  t.equal(noProvider.statusCode, 201, 'a query that names no provider is saved with provider ""')
  const noProviderRow = (await app.db.getQueries()).find((q) => q.name === 'no provider')
  t.equal(noProviderRow?.provider, '')
  await app.db.deleteQuery(noProviderRow!.id)
  const noText = await form('POST', '/queries', { name: 'x', query_text: '  ', provider: 'github' })
  t.match(noText.body, /The editor is empty/)

  const saved = await form('POST', '/queries', {
    name: 'GitHub repos',
    description: 'all repos',
    query_text: "SELECT name FROM github.repos.repos WHERE org = 'stackql'",
    provider: 'aws',
  })
  t.equal(saved.statusCode, 201)
  t.match(saved.body, /^<aside id="saved-queries"/)
  t.match(saved.body, /class="library-item just-saved"[\s\S]*GitHub repos/)
  const stored = (await app.db.getQueries()).find((q) => q.name === 'GitHub repos')
  t.equal(stored?.provider, 'github', 'derived from the text, whatever the form said')
  t.equal(stored?.created_by, app.config.localUserEmail, 'created by the signed-in user')

  const page = await tab()
  t.match(page.page.body, /GitHub repos/)
  const deleted = await form('DELETE', `/queries/${stored!.id}`)
  t.equal(deleted.statusCode, 200)
  t.match(deleted.body, /^<aside id="saved-queries"/)
  t.notMatch(deleted.body, /GitHub repos/)
  t.equal(await app.db.getQuery(stored!.id), null)
})

t.test('a query used by a schedule cannot be deleted, and the library says why', async (t) => {
  const q = await app.db.saveQuery(
    { name: 'scheduled', description: '', query_text: 'SHOW PROVIDERS', provider: 'github' },
    'me@example.com',
  )
  const s = await app.db.saveSchedule({
    query_id: q.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'ide_conflict',
  })
  const res = await (await tab()).form('DELETE', `/queries/${q.id}`)
  t.equal(res.statusCode, 409)
  t.match(res.body, /id="error-message"/)
  t.match(res.body, /used by 1 schedule\(s\) \(stackql_inventory.ide_conflict\)/)
  t.ok(await app.db.getQuery(q.id), 'still there')
  await app.db.deleteSchedule(s.id)
  await app.db.deleteQuery(q.id)
})

t.test('the chat streams the answer as SSE: start, growing renders, done with the raw text', async (t) => {
  api.script({
    kind: 'text',
    text: "Try this:\n\n```sql\nSELECT name FROM github.repos.repos WHERE org = 'stackql'\n```\n",
    tokenDelayMs: 15,
  })
  const res = await (await tab()).chat({ mode: 'query', messages: [{ role: 'user', content: 'list repos' }] })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/event-stream/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['x-accel-buffering'], 'no')
  const events = parseSse(res.body)
  t.equal(events[0]?.event, 'start')
  t.same(JSON.parse(events[0]!.data), { prompt: null })
  const renders = events.filter((e) => e.event === 'render')
  t.ok(renders.length >= 2, `several renders (${renders.length})`)
  for (let i = 1; i < renders.length; i++) {
    t.ok(
      renders[i]!.data.length >= renders[i - 1]!.data.length,
      'each render holds at least the previous text',
    )
  }
  const done = events[events.length - 1]!
  t.equal(done.event, 'done')
  const final = JSON.parse(done.data)
  t.equal(
    final.content,
    "Try this:\n\n```sql\nSELECT name FROM github.repos.repos WHERE org = 'stackql'\n```\n",
  )
  t.equal(final.error, null)
  t.match(final.html, /<pre><code class="language-sql">SELECT name/)
  t.match(
    final.html,
    /data-sql="SELECT name FROM github.repos.repos WHERE org = &#39;stackql&#39;">Insert into editor/,
  )
  const sent = api.messageRequests().at(-1)!
  t.equal(sent.body?.stream, true)
  t.match(String(sent.body?.system), /StackQL expert/)
})

t.test('model output is rendered safely, as markdown only', async (t) => {
  api.script({ kind: 'text', text: 'Hi <script>alert(1)</script> [x](javascript:alert(1)) **bold**' })
  const res = await (await tab()).chat({ mode: 'query', messages: [{ role: 'user', content: 'hi' }] })
  const final = JSON.parse(parseSse(res.body).at(-1)!.data)
  t.notMatch(final.html, /<script>|href="javascript/)
  t.match(final.html, /&lt;script&gt;/)
  t.match(final.html, /<strong>bold<\/strong>/)
  t.notMatch(final.html, /Insert into editor/, 'no SQL, no insert button')
})

t.test('a rate limit from the API becomes a readable error event in the chat', async (t) => {
  // The app retries twice, visibly (`wait` events); the third 429 is the error.
  api.script(
    { kind: 'error', status: 429, retryAfterS: 1 },
    { kind: 'error', status: 429, retryAfterS: 1 },
    { kind: 'error', status: 429, retryAfterS: 1 },
  )
  const res = await (await tab()).chat({ mode: 'query', messages: [{ role: 'user', content: 'hi' }] })
  t.equal(res.statusCode, 200)
  const events = parseSse(res.body)
  const error = events.find((e) => e.event === 'error')
  t.match(
    error?.data,
    /^<div class="alert alert-error chat-error" role="alert">The AI assistant is rate limited \(try again in 1 s\)\.<\/div>$/,
  )
  const final = JSON.parse(events.at(-1)!.data)
  t.equal(final.content, '')
  t.match(final.error, /rate limited/)
})

t.test('a malformed conversation is refused with 400 before streaming', async (t) => {
  const chat = (await tab()).chat
  const empty = await chat({ mode: 'query', messages: [] })
  t.equal(empty.statusCode, 400)
  t.match(empty.json().message, /The chat is empty/)
  const mode = await chat({ mode: 'poetry', messages: [{ role: 'user', content: 'x' }] })
  t.equal(mode.statusCode, 400)
  t.match(mode.json().message, /chat mode/)
  const lastAssistant = await chat({ mode: 'query', messages: [{ role: 'assistant', content: 'x' }] })
  t.equal(lastAssistant.statusCode, 400)
  const explainNothing = await chat({ mode: 'query', messages: [], prompt: { kind: 'explain', query: ' ' } })
  t.equal(explainNothing.statusCode, 400)
  t.match(explainNothing.json().message, /There is no query to explain/)
  const noCsrf = await app.inject({
    method: 'POST',
    url: '/chat',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ mode: 'query', messages: [{ role: 'user', content: 'x' }] }),
  })
  t.equal(noCsrf.statusCode, 403)
})

t.test('Explain and Interpret send prompts the server writes, as user turns', async (t) => {
  const { chat, form } = await tab()
  const firstOfExplain = api.messageRequests().length
  const explain = await chat({
    mode: 'query',
    messages: [],
    prompt: { kind: 'explain', query: 'SHOW PROVIDERS' },
  })
  const start = JSON.parse(parseSse(explain.body)[0]!.data)
  t.match(start.prompt, /^Explain this StackQL query/)
  t.match(start.prompt, /```sql\nSHOW PROVIDERS\n```/)
  // The first request of the answer (Write Query may go on with lookups in further requests).
  const sentExplain = api.messageRequests()[firstOfExplain]!.body as { messages: { content: string }[] }
  t.equal(sentExplain.messages.at(-1)?.content, start.prompt)

  const ran = await form('POST', '/run', {
    query_text: "SELECT id, name FROM stackql_test.util.rows WHERE count = '30'",
    provider: 'stackql_test',
  })
  const id = /data-result-id="([0-9a-f-]{36})"/.exec(ran.body)![1]
  const history = [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'hi' },
  ]
  const interpret = await chat({
    mode: 'results',
    messages: history,
    prompt: { kind: 'interpret', result_id: id },
  })
  const prompt = JSON.parse(parseSse(interpret.body)[0]!.data).prompt as string
  t.match(prompt, /^Interpret these StackQL query results \(30 rows in total\):/)
  t.match(prompt, /\| id \| name \|/)
  t.match(prompt, /\| 20 \| resource-20 \|/)
  t.notMatch(prompt, /resource-21/, 'only the first 20 rows')
  const sent = api.messageRequests().at(-1)!.body as { messages: { role: string }[]; system: string }
  t.equal(sent.messages.length, 3)
  t.match(sent.system, /cloud infrastructure analyst/)

  const expired = await chat({
    mode: 'results',
    messages: [],
    prompt: { kind: 'interpret', result_id: 'nope' },
  })
  t.equal(expired.statusCode, 404)
  t.match(expired.json().message, /no longer available/)
})

t.test('the stored conversation is rendered again by the server', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/chat/render',
    headers: {
      ...(await tab()).headers,
      'content-type': 'application/json',
      'hx-request': 'true',
      'hx-request-type': 'partial',
    },
    payload: JSON.stringify({
      messages: [
        { role: 'user', content: '<b>mine</b>' },
        { role: 'assistant', content: 'Here:\n```sql\nSHOW PROVIDERS\n```\n<img src=x>' },
        { role: 'assistant', content: '', error: 'The AI assistant is rate limited <now>.' },
      ],
    }),
  })
  t.equal(res.statusCode, 200)
  t.match(res.body, /^<div id="chat-log"/)
  t.match(res.body, /<div class="chat-body chat-text">&lt;b&gt;mine&lt;\/b&gt;<\/div>/)
  t.match(res.body, /data-sql="SHOW PROVIDERS">Insert into editor/)
  t.notMatch(res.body, /<img|<b>|<now>/)
  t.match(res.body, /chat-error" role="alert">The AI assistant is rate limited &lt;now&gt;./)
})

t.test('over real sockets: a disconnect aborts the upstream request and the StackQL run', async (t) => {
  const { app: live } = await buildTestApp(t, { env: env('ide-live-') })
  await live.listen({ host: '127.0.0.1', port: 0 })
  const port = (live.server.address() as { port: number }).port
  const { headers } = await tab(live)

  const open = (path: string, body: string, type: string) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { ...headers, 'content-type': type, accept: 'text/event-stream', 'hx-request': 'true' },
    })
    req.end(body)
    return req
  }

  t.test('the chat', async (t) => {
    api.script({ kind: 'text', text: 'word '.repeat(200), tokenDelayMs: 20 })
    const before = api.messageRequests().length
    const req = open(
      '/chat',
      JSON.stringify({ mode: 'query', messages: [{ role: 'user', content: 'long answer please' }] }),
      'application/json',
    )
    const firstRender = await new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = ''
        res.on('data', (c: Buffer) => {
          text += c
          if (text.includes('event: render')) resolve(text)
        })
      })
      req.on('error', reject)
    })
    t.match(firstRender, /^event: start\n/)
    req.destroy()
    const upstream = api.messageRequests()[before]!
    await upstream.closed
    t.equal(upstream.clientClosed, true, 'the API connection was closed by the app')
    t.ok(upstream.deltasSent < 200, `stopped after ${upstream.deltasSent} of 200 tokens`)
  })

  t.test('a running query', async (t) => {
    const sleeping = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .some((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes("seconds = '41'")
          } catch {
            return false
          }
        })
    const req = open(
      '/run',
      new URLSearchParams({
        query_text: "SELECT slept FROM stackql_test.util.sleep WHERE seconds = '41'",
        provider: 'stackql_test',
      }).toString(),
      'application/x-www-form-urlencoded',
    )
    req.on('error', () => {})
    t.ok(await waitUntil(sleeping, 10_000), 'the StackQL process runs')
    req.destroy()
    t.ok(await waitUntil(() => !sleeping(), 5_000), 'the StackQL process is gone after the disconnect')
  })
})

t.test('the IDE page ships under 200 KB of gzipped JavaScript, all from this origin', async (t) => {
  const { page } = await tab()
  const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!)
  t.ok(scripts.includes('/vendor/ace/ace.js') && scripts.includes('/static/js/ide.js'))
  let total = 0
  for (const src of scripts) {
    t.match(src, /^\/(vendor|static)\//, `${src} is served by the app`)
    const res = await app.inject({ method: 'GET', url: src })
    t.equal(res.statusCode, 200, `${src} is served`)
    total += gzipSync(res.rawPayload).length
  }
  t.ok(total < 200 * 1024, `gzipped JavaScript: ${(total / 1024).toFixed(1)} KB`)
  const ide = await app.inject({ method: 'GET', url: '/static/js/ide.js' })
  t.ok(gzipSync(ide.rawPayload).length < 8 * 1024, 'the island stays small')
})

t.test(
  'the profile picker lists, per provider the text references, its profiles; a run uses the pick',
  async (t) => {
    const made = await Promise.all([
      app.db.saveProviderConfig(
        {
          provider: 'stackql_test',
          profile: 'prod',
          env_var_name: 'PICKED_CANARY_NAME',
          secret_scope: 'team',
          secret_key: 'x',
        },
        'me@example.com',
      ),
      app.db.setProfileVariable(
        { provider: 'stackql_test', profile: 'prod', name: 'n', value: '2' },
        'me@example.com',
      ),
    ])
    t.teardown(async () => {
      await app.db.deleteProviderConfig(made[0].id)
      await app.db.deleteProfileVariable(made[1].id)
    })
    const { form } = await tab()
    const text =
      "SELECT r.name FROM github.repos.repos r JOIN stackql_test.util.rows x ON x.count = {{ n }} WHERE r.org = 'stackql'"
    const picker = await form('POST', '/profiles/picker', { query_text: text, profile: 'stackql_test/prod' })
    t.equal(picker.statusCode, 200)
    t.match(picker.body, /^<div id="profile-picker"/)
    t.match(
      picker.body,
      /<select id="profile-github" name="profile" aria-label="Profile for github">\s*<option value="github\/default" selected>default<\/option>\s*<\/select>/,
    )
    t.match(picker.body, /<option value="stackql_test\/prod" selected>prod<\/option>/)
    t.match(picker.body, /<option value="stackql_test\/default">default<\/option>/)
    const none = await form('POST', '/profiles/picker', { query_text: 'SHOW PROVIDERS' })
    t.match(none.body, /no provider referenced yet/)
    const missing = await form('POST', '/run', { query_text: text })
    t.equal(missing.statusCode, 400, 'the default profile of stackql_test has no variable n')
    t.match(
      missing.body,
      /uses \{\{ n \}\}, but that variable is not defined for github\/default, stackql_test\/default/,
    )
  },
)
