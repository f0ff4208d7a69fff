// Issue 14 items 1 and 4 over HTTP: the key suggestions route of the schedule dialogs, and "What
// changed" — a run's change summary reaching the Anthropic stand-in in Interpret mode, with the
// Interpret system prompt's section for changes; links to it from the Changes view and Schedules.
import t from 'tap'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'
import { startAnthropicStandin } from './standins/anthropic.js'

const api = await startAnthropicStandin()
t.teardown(() => api.close())
// In local development the app reads the Anthropic key from its own environment (the stand-in's key,
// set for this test process only and restored after it).
const previousKey = process.env.ANTHROPIC_API_KEY
process.env.ANTHROPIC_API_KEY = api.apiKey
t.teardown(() => {
  if (previousKey === undefined) delete process.env.ANTHROPIC_API_KEY
  else process.env.ANTHROPIC_API_KEY = previousKey
})
const { app, session } = await buildTestApp(t, {
  env: {
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'changes-assistant-'),
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_MODEL: 'claude-test-model',
  },
})

const target = { schema: 'stackql_inventory', table: 'vms' }
const cols = ['instance_id', 'instance_type', 'public_ip', 'db_password']

async function run(rows: Row[], scheduleId: number | null, queryId: number) {
  const r = await app.db.startRun({
    schedule_id: scheduleId,
    query_id: queryId,
    target_schema: target.schema,
    target_table: target.table,
    trigger: 'local',
  })
  const w = await writeInventory(
    app.sql,
    target,
    { columns: cols, rows },
    { keys: ['instance_id'], record: { runId: r.id, scheduleId } },
  )
  await app.db.finishRun(r.id, { status: 'SUCCESS', row_count: w.rowCount, changes: w.changes })
  return r.id
}

async function chat(body: unknown) {
  await session.get('/')
  const page = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })
  const set = page.headers['set-cookie']
  const cookie = `_csrf=${/_csrf=([^;]+)/.exec(Array.isArray(set) ? set[0]! : String(set))![1]}`
  const token = /<meta name="csrf-token" content="([^"]+)"/.exec(page.body)![1]!
  return app.inject({
    method: 'POST',
    url: '/chat',
    headers: {
      cookie,
      'x-csrf-token': token,
      accept: 'text/event-stream',
      'content-type': 'application/json',
    },
    payload: JSON.stringify(body),
  })
}

const vm = (id: string, type = 'small', ip: string | null = null): Row => ({
  instance_id: id,
  instance_type: type,
  public_ip: ip,
  db_password: `pw-${id}-s3cret`,
})

const query = await app.db.saveQuery(
  {
    name: 'VMs',
    description: '',
    query_text:
      "SELECT instance_id, instance_type, public_ip, db_password FROM aws.ec2.instances WHERE region = 'us-east-1'",
    provider: 'aws',
  },
  'dev@example.com',
)
const schedule = await app.schedules.create({
  query_id: query.id,
  cron_expression: '0 6 * * *',
  target_schema: target.schema,
  target_table: target.table,
  key_columns: ['instance_id'],
})
const baseline = await run([vm('i-1'), vm('i-2'), vm('i-3')], schedule.id, query.id)
const second = await run([vm('i-1'), vm('i-2', 'small', '203.0.113.7'), vm('i-4')], schedule.id, query.id)

t.test('What changed sends the run summary to the assistant in Interpret mode', async (t) => {
  const before = api.messageRequests().length
  const res = await chat({ mode: 'results', messages: [], prompt: { kind: 'changes', run_id: second } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/event-stream/)
  const sent = api.messageRequests().slice(before)
  t.equal(sent.length, 1, 'one request reached the stand-in')
  const body = sent[0]!.body as { system: string; messages: { role: string; content: string }[] }
  const prompt = body.messages.at(-1)!.content
  t.match(
    prompt,
    /What changed in the inventory table `stackql_inventory\.vms` in run \d+ of the query "VMs"/,
  )
  t.match(prompt, /Counts: 1 added, 1 removed, 1 modified \(key columns instance_id\)/)
  t.match(prompt, /"kind":"removed","key":\{"instance_id":"i-3"\}/)
  t.match(
    prompt,
    /"kind":"modified","key":\{"instance_id":"i-2"\},"changed":\{"public_ip":\{"before":null,"after":"203\.0\.113\.7"\}\}/,
  )
  t.match(prompt, /"kind":"added","key":\{"instance_id":"i-4"\}/)
  t.notMatch(prompt, /s3cret/, 'a secret-named column is redacted')
  t.match(body.system, /cloud infrastructure analyst/, 'the Interpret system prompt')
  t.match(body.system, /What changed/, 'with its section for changes')
  t.match(body.system, /deletions/)
  t.match(body.system, /0\.0\.0\.0\/0/)
})

t.test('What changed refuses a baseline run, an unknown run and a missing id with a clear 4xx', async (t) => {
  const before = api.messageRequests().length
  const first = await chat({ mode: 'results', messages: [], prompt: { kind: 'changes', run_id: baseline } })
  t.equal(first.statusCode, 400)
  t.match(first.json().message, /baseline/)
  const unknown = await chat({ mode: 'results', messages: [], prompt: { kind: 'changes', run_id: 999999 } })
  t.equal(unknown.statusCode, 404)
  const missing = await chat({ mode: 'results', messages: [], prompt: { kind: 'changes' } })
  t.equal(missing.statusCode, 400)
  t.equal(api.messageRequests().length, before, 'nothing was sent to the assistant')
})

t.test('the Changes view and the Schedules row link to What changed for the run', async (t) => {
  const view = await session.get(`/inventory/tables/vms/changes?run=${second}`, { 'hx-request': 'true' })
  t.match(view.body, new RegExp(`<a class="button what-changed" href="/\\?what_changed=${second}"`))
  const old = await session.get(`/inventory/tables/vms/changes?run=${baseline}`, { 'hx-request': 'true' })
  t.notMatch(old.body, /what-changed/, 'a baseline run has nothing to explain')
  const rows = await session.get('/schedules')
  t.match(rows.body, new RegExp(`class="what-changed hint" href="/\\?what_changed=${second}"`))
})

t.test('key suggestions follow the picked query, its profiles, and SELECT * metadata', async (t) => {
  const picked = await session.get(`/schedules/key-suggestions?for=new&query_id=${query.id}`, {
    'hx-request': 'true',
  })
  t.equal(picked.statusCode, 200)
  const keys = (body: string) => [...body.matchAll(/data-key="([^"]+)"/g)].map((m) => m[1])
  t.same(keys(picked.body), ['instance_id'])
  t.match(picked.body, /^<div id="key-suggestions-new"/)
  t.notMatch(picked.body, /revealed/, 'a loaded fragment does not load itself again')
  t.match(picked.body, /aria-label="Key column instance_id"/)

  const fanned = await session.get(
    `/schedules/key-suggestions?for=new&query_id=${query.id}&profiles=aws/prod&profiles=aws/staging`,
    { 'hx-request': 'true' },
  )
  t.same(keys(fanned.body), ['instance_id', '_profile'])
  t.match(fanned.body, /<option value="instance_id, _profile">/)

  const star = await app.db.saveQuery(
    {
      name: 'All VMs',
      description: '',
      query_text: "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'",
      provider: 'aws',
    },
    'dev@example.com',
  )
  const fromMetadata = await session.get(`/schedules/key-suggestions?for=new&query_id=${star.id}`, {
    'hx-request': 'true',
  })
  t.ok(keys(fromMetadata.body).includes('instance_id'), 'SELECT * suggests from DESCRIBE of the resource')

  const noKeys = await app.db.saveQuery(
    {
      name: 'Types',
      description: '',
      query_text: "SELECT instance_type FROM aws.ec2.instances WHERE region = 'us-east-1'",
      provider: 'aws',
    },
    'dev@example.com',
  )
  const none = await session.get(`/schedules/key-suggestions?for=new&query_id=${noKeys.id}`, {
    'hx-request': 'true',
  })
  t.same(keys(none.body), [])
  t.match(none.body, /No column of this query looks like a key/)

  const edit = await session.get(`/schedules/key-suggestions?for=edit&schedule_id=${schedule.id}`, {
    'hx-request': 'true',
  })
  t.match(
    edit.body,
    /^<div id="key-suggestions-edit" class="key-suggestions" data-keys-field="edit-schedule-keys"/,
  )
  t.notMatch(edit.body, /hx-get/, 'the edit fragment does not poll')
  t.same(keys(edit.body), ['instance_id'])

  const bad = await session.get('/schedules/key-suggestions?for=new&query_id=abc', { 'hx-request': 'true' })
  t.equal(bad.statusCode, 400)
  const dialog = await session.get(`/schedules/${schedule.id}/edit`, { 'hx-request': 'true' })
  t.match(dialog.body, /list="key-suggestions-edit-list"/)
  t.match(
    dialog.body,
    /hx-get="\/schedules\/key-suggestions\?for=edit&amp;schedule_id=\d+"|hx-get="\/schedules\/key-suggestions\?for=edit&schedule_id=\d+"/,
  )
})
