import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const target = { schema: S, table: 'vms' }
const cols = ['instance_id', 'type', 'tags']

interface Change {
  change_kind: string
  row_key: unknown
  changed_columns: string[] | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}
const changesOf = (sql: Sql, runId: number) =>
  sql<
    Change[]
  >`select change_kind, row_key, changed_columns, before, after from stackql_inventory.inventory_changes
    where run_id = ${runId} order by change_kind, row_key::text`

const vms = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    instance_id: `i-${i}`,
    type: 'small',
    tags: { env: 'dev', team: 'a' },
  }))

t.test('keyed runs record exactly the added, removed and modified rows and apply only those', async (t) => {
  const { sql } = await testDb(t)
  const first = await writeInventory(
    sql,
    target,
    { columns: cols, rows: vms(4) },
    {
      keys: ['instance_id'],
      record: { runId: 1, scheduleId: null },
    },
  )
  t.same(first.changes, { added: 4, removed: 0, modified: 0, baseline: true }, 'the first run is a baseline')
  t.equal((await changesOf(sql, 1)).length, 0, 'a baseline records no rows')
  const untouched = await sql<
    { ctid: string }[]
  >`select ctid::text from ${sql(S)}.vms where instance_id = 'i-0'`
  const rows = vms(4).filter((r) => r.instance_id !== 'i-3')
  rows[1]!.type = 'large'
  // Same object, other key order: not a modification.
  rows[2]!.tags = { team: 'a', env: 'dev' }
  rows.push({ instance_id: 'i-9', type: 'small', tags: null })
  const second = await writeInventory(
    sql,
    target,
    { columns: cols, rows },
    {
      keys: ['instance_id'],
      record: { runId: 2, scheduleId: 7 },
    },
  )
  t.same(second.changes, { added: 1, removed: 1, modified: 1, baseline: false })
  const changes = await changesOf(sql, 2)
  t.same(
    changes.map((c) => [c.change_kind, c.row_key, c.changed_columns]),
    [
      ['added', { instance_id: 'i-9' }, null],
      ['modified', { instance_id: 'i-1' }, ['type']],
      ['removed', { instance_id: 'i-3' }, null],
    ],
  )
  t.equal(changes[1]!.before?.type, 'small')
  t.equal(changes[1]!.after?.type, 'large')
  t.equal(changes[2]!.after, null)
  t.same(changes[2]!.before?.tags, { env: 'dev', team: 'a' }, 'a removed row is recorded in full')
  const [again] = await sql<
    { ctid: string }[]
  >`select ctid::text from ${sql(S)}.vms where instance_id = 'i-0'`
  t.equal(again?.ctid, untouched[0]?.ctid, 'an unchanged row is not rewritten')
  const table = await sql<
    { instance_id: string; type: string }[]
  >`select instance_id, type from ${sql(S)}.vms order by 1`
  t.same(
    table.map((r) => `${r.instance_id}:${r.type}`),
    ['i-0:small', 'i-1:large', 'i-2:small', 'i-9:small'],
  )
  const [{ schedule_id } = { schedule_id: 0 }] = await sql<{ schedule_id: number }[]>`
    select distinct schedule_id::int from stackql_inventory.inventory_changes where run_id = 2`
  t.equal(schedule_id, 7)
})

t.test('without keys a changed row is recorded as removed + added', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, target, { columns: cols, rows: vms(2) })
  const rows = vms(2)
  rows[0]!.type = 'large'
  const w = await writeInventory(
    sql,
    target,
    { columns: cols, rows },
    { record: { runId: 3, scheduleId: null } },
  )
  t.same(w.changes, { added: 1, removed: 1, modified: 0, baseline: false })
  t.same(
    (await changesOf(sql, 3)).map((c) => [c.change_kind, c.row_key, c.before, c.after]),
    [
      ['added', null, null, { instance_id: 'i-0', type: 'large', tags: { env: 'dev', team: 'a' } }],
      ['removed', null, { instance_id: 'i-0', type: 'small', tags: { env: 'dev', team: 'a' } }, null],
    ],
    'the removed row in full before, the added one in full after',
  )
  const reordered: Row[] = vms(2).map((r) => ({ ...r, tags: { team: 'a', env: 'dev' } }))
  reordered[0]!.type = 'large'
  const same = await writeInventory(
    sql,
    target,
    { columns: cols, rows: reordered },
    { record: { runId: 4, scheduleId: null } },
  )
  t.same(
    same.changes,
    { added: 0, removed: 0, modified: 0, baseline: false },
    'jsonb keys in another order are the same content',
  )
})

t.test('identical rows without keys pair up: one more copy is one addition', async (t) => {
  const { sql } = await testDb(t)
  const row = { instance_id: 'i-1', type: 'small', tags: null }
  await writeInventory(sql, target, { columns: cols, rows: [row, row] })
  const w = await writeInventory(sql, target, { columns: cols, rows: [row, row, row] })
  t.same(w.changes, { added: 1, removed: 0, modified: 0, baseline: false })
  t.equal((await sql`select 1 from ${sql(S)}.vms`).length, 3)
})

t.test('bad keys fail the run with a clear message and keep the previous snapshot and records', async (t) => {
  const { sql } = await testDb(t)
  const keys = ['instance_id']
  await writeInventory(sql, target, { columns: cols, rows: vms(3) }, { keys })
  const dup = [...vms(3), { instance_id: 'i-1', type: 'x', tags: null }]
  await t.rejects(
    writeInventory(
      sql,
      target,
      { columns: cols, rows: dup },
      { keys, record: { runId: 4, scheduleId: null } },
    ),
    {
      message: /not unique.*\{"instance_id": ?"i-1"\} \(2 rows\)/,
    },
  )
  const nulls = [...vms(3), { instance_id: null, type: 'x', tags: null }]
  await t.rejects(writeInventory(sql, target, { columns: cols, rows: nulls }, { keys }), {
    message: /1 row\(s\) .* have no value in the key column\(s\) instance_id/,
  })
  await t.rejects(writeInventory(sql, target, { columns: cols, rows: vms(3) }, { keys: ['arn'] }), {
    message: /key column\(s\) arn are not in this run's output/,
  })
  t.equal((await sql`select 1 from ${sql(S)}.vms`).length, 3, 'the previous snapshot stays')
  t.equal((await changesOf(sql, 4)).length, 0, 'no change records of a failed run')
})

t.test('a key column whose type widens between runs still matches the rows', async (t) => {
  const { sql } = await testDb(t)
  const keys = ['id']
  await writeInventory(
    sql,
    target,
    {
      columns: ['id', 'v'],
      rows: [
        { id: '1', v: 'a' },
        { id: '2', v: 'b' },
      ],
    },
    { keys },
  )
  const w = await writeInventory(
    sql,
    target,
    {
      columns: ['id', 'v'],
      rows: [
        { id: '1', v: 'a' },
        { id: '2', v: 'c' },
        { id: 'x-3', v: 'd' },
      ],
    },
    { keys, record: { runId: 5, scheduleId: null } },
  )
  t.same(
    w.widened.map((x) => x.column),
    ['id'],
  )
  t.same(w.changes, { added: 1, removed: 0, modified: 1, baseline: false })
})

t.test('rows with 300 columns: one changed column is one modification naming it', async (t) => {
  const { sql } = await testDb(t)
  const columns = ['id', ...Array.from({ length: 299 }, (_, i) => `c${i}`)]
  const wide = (n: number) =>
    Array.from({ length: n }, (_, r) =>
      Object.fromEntries(columns.map((c, i) => [c, i === 0 ? String(r) : `v${r}-${i}`])),
    )
  await writeInventory(sql, target, { columns, rows: wide(50) }, { keys: ['id'] })
  const rows = wide(50)
  rows[7]!.c298 = 'changed'
  const w = await writeInventory(
    sql,
    target,
    { columns, rows },
    { keys: ['id'], record: { runId: 6, scheduleId: null } },
  )
  t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false })
  t.same((await changesOf(sql, 6))[0]?.changed_columns, ['c298'])
})

t.test(
  "two runs of one target at once serialise: the second compares with the first one's result",
  async (t) => {
    const { sql } = await testDb(t)
    const keys = ['instance_id']
    await writeInventory(sql, target, { columns: cols, rows: vms(2) }, { keys })
    const a = vms(3)
    const b = vms(3)
    b[0]!.type = 'large'
    // Both runs start while the target's writer lock is held, so both wait for it at once; which one
    // gets it first is up to the server.
    const holder = await sql.reserve()
    await holder`select pg_advisory_lock(${0x5354_4b57}, hashtext(${`${S}.vms`}))`
    const runs = Promise.all([
      writeInventory(
        sql,
        target,
        { columns: cols, rows: a },
        { keys, record: { runId: 7, scheduleId: null } },
      ),
      writeInventory(
        sql,
        target,
        { columns: cols, rows: b },
        { keys, record: { runId: 8, scheduleId: null } },
      ),
    ])
    let waiting = 0
    for (let i = 0; i < 500 && waiting < 2; i++) {
      const [w] = await sql<{ n: number }[]>`select count(*)::int as n from pg_locks
        where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`
      waiting = w?.n ?? 0
      if (waiting < 2) await new Promise((r) => setTimeout(r, 10))
    }
    t.equal(waiting, 2, 'both runs wait for the lock at once')
    await holder`select pg_advisory_unlock(${0x5354_4b57}, hashtext(${`${S}.vms`}))`
    holder.release()
    const [ra, rb] = await runs
    // The first adds i-2; the second compares with the first one's result.
    const aFirst = ra.changes!.added === 1
    t.same(
      aFirst ? ra.changes : rb.changes,
      { added: 1, removed: 0, modified: aFirst ? 0 : 1, baseline: false },
      'the first adds i-2 (and, if it is b, modifies i-0)',
    )
    t.same(
      aFirst ? rb.changes : ra.changes,
      { added: 0, removed: 0, modified: 1, baseline: false },
      "the second sees the first one's row i-2 and changes i-0",
    )
  },
)

t.test(
  'a run killed after comparing, before COMMIT, leaves no change records and the previous snapshot',
  async (t) => {
    const { sql, url } = await testDb(t)
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: String(i), name: `old-${i}`, padding: 'x' }))
    await writeInventory(
      sql,
      { schema: S, table: 'killed2' },
      { columns: ['id', 'name', 'padding'], rows },
      { keys: ['id'] },
    )
    // The view refresh runs after the comparison and the change records, just before COMMIT: make it slow.
    await sql`create or replace function stackql_inventory.slow(n bigint) returns bigint language sql as 'select n from pg_sleep(5)'`
    await sql`create materialized view stackql_inventory.killed2_mv as
    select stackql_inventory.slow(count(*)) as n from stackql_inventory.killed2`
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/write-inventory-child.ts', import.meta.url)),
        url,
        S,
        'killed2',
        '20000',
        'record',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)))
    let refreshing = false
    for (let i = 0; i < 1500 && !refreshing; i++) {
      refreshing =
        (
          await sql`select 1 from pg_stat_activity where datname = current_database() and query ilike 'refresh materialized view%'`
        ).length > 0
      if (!refreshing) await new Promise((r) => setTimeout(r, 20))
    }
    t.ok(
      refreshing,
      `the write reached the view refresh (after the change records) — child output: ${output}`,
    )
    child.kill('SIGKILL')
    t.equal(await exited, 'SIGKILL')
    t.notMatch(output, /done/)
    // The server ends the killed session's transaction once it notices the socket closed.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'refresh materialized view%'`
    const [after] = await sql`select count(*)::int as n, min(name) as first from stackql_inventory.killed2`
    t.same(after, { n: 5000, first: 'old-0' })
    t.equal((await changesOf(sql, 99)).length, 0, 'no change records of the killed run')
  },
)
