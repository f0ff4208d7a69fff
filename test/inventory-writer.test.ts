import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import t from 'tap'
import { legacyColumnNames, nameNewKeys } from '../src/db/column-names.js'
import type { Sql } from '../src/db/connect.js'
import { kindOf } from '../src/db/inventory-types.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import { AppError } from '../src/errors.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'

async function columnTypes(sql: Sql, table: string, schema = S): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; type: string }[]>`
    select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${`${schema}.${table}`}::regclass and attnum > 0 and not attisdropped order by attnum`
  return Object.fromEntries(rows.map((r) => [r.name, r.type]))
}

const tableOid = async (sql: Sql, table: string) =>
  (await sql<{ oid: string }[]>`select ${`${S}.${table}`}::regclass::oid::int8::text as oid`)[0]!.oid

function numbered(n: number, prefix: string): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: String(i), name: `${prefix}-${i}` }))
}

t.test('column rules', async (t) => {
  t.test('names: valid identifiers are kept, others sanitised and cut to 60', async (t) => {
    const keys = ['instance_id', 'machineType', 'Private IP', '2fa', 'xmin', 'a-b', 'x'.repeat(70)]
    t.same(Object.fromEntries(nameNewKeys(keys, new Set())), {
      instance_id: 'instance_id',
      machineType: 'machine_type',
      'Private IP': 'private_ip',
      '2fa': '_2fa',
      xmin: 'xmin_',
      'a-b': 'a_b',
      ['x'.repeat(70)]: 'x'.repeat(60),
    })
    const dup = nameNewKeys(['a_b', 'a-b', 'X'.repeat(70), 'x'.repeat(70), ''], new Set())
    t.equal(dup.get('a_b'), 'a_b', 'a valid name keeps it')
    t.match(dup.get('a-b'), /^a_b_[0-9a-f]{6}$/, 'a colliding key gets a suffix from its own hash')
    t.equal(
      dup.get('X'.repeat(70)),
      'x'.repeat(60),
      'of two new keys with one name, the first in code-unit order gets it',
    )
    t.match(dup.get('x'.repeat(70)), new RegExp(`^${'x'.repeat(53)}_[0-9a-f]{6}$`))
    t.match(dup.get(''), /^column_[0-9a-f]{6}$/)
    t.same(
      legacyColumnNames(['a-b', 'a_b', '']),
      ['a_b', 'a_b_2', 'column_3'],
      "the previous version's naming",
    )
  })
  t.test(
    'value kinds: numbers as strings, booleans, ISO date-times, JSON, and what stays text',
    async (t) => {
      const cases: [unknown, string | null][] = [
        ['123', 'bigint'],
        [42, 'bigint'],
        ['-9223372036854775808', 'bigint'],
        ['9223372036854775808', 'numeric'],
        ['012345678901', 'text'],
        ['1.5', 'double'],
        ['1e3', 'text'],
        [1.5, 'double'],
        [true, 'boolean'],
        ['false', 'boolean'],
        ['True', 'text'],
        ['2024-05-01T10:20:30Z', 'timestamptz'],
        ['2024-05-01 10:20:30.123456+00:00', 'timestamptz'],
        ['2024-05-01 10:20:30.123456+02:00', 'text'],
        ['2024-02-30T00:00:00Z', 'text'],
        ['2024-05-01', 'text'],
        [{ a: 1 }, 'jsonb'],
        [[1, 2], 'jsonb'],
        ['{"a":1}', 'text'],
        ['i-0abc', 'text'],
        ['', null],
        [null, null],
        [undefined, null],
      ]
      for (const [value, kind] of cases) t.equal(kindOf(value), kind, JSON.stringify(value) ?? 'undefined')
    },
  )
})

t.test('the first write creates the schema and a table with types inferred from the data', async (t) => {
  const { sql } = await testDb(t)
  const result = await writeInventory(
    sql,
    { schema: 'team_inventory', table: 'instances' },
    {
      columns: ['instanceId', 'cpu', 'ratio', 'active', 'launchTime', 'tags', 'owner', 'empty'],
      rows: [
        {
          instanceId: 'i-1',
          cpu: '2',
          ratio: '0.5',
          active: 'true',
          launchTime: '2024-05-01T10:00:00Z',
          tags: { env: 'prod' },
          owner: null,
          empty: '',
        },
        {
          instanceId: 'i-2',
          cpu: 4,
          ratio: 1,
          active: false,
          launchTime: '2024-05-02T11:00:00.5Z',
          tags: [],
          owner: 'ops',
          empty: null,
        },
      ],
    },
  )
  t.equal(result.rowCount, 2)
  t.same(result.renamed, { instanceId: 'instance_id', launchTime: 'launch_time' })
  t.same(await columnTypes(sql, 'instances', 'team_inventory'), {
    instance_id: 'text',
    cpu: 'bigint',
    ratio: 'double precision',
    active: 'boolean',
    launch_time: 'timestamp with time zone',
    tags: 'jsonb',
    owner: 'text',
    empty: 'text',
  })
  const rows = await sql`select * from team_inventory.instances order by instance_id`
  t.equal(rows[0]!.cpu, 2)
  t.equal(rows[1]!.ratio, 1)
  t.equal(rows[0]!.active, true)
  t.equal((rows[1]!.launch_time as Date).toISOString(), '2024-05-02T11:00:00.500Z')
  t.same(rows[0]!.tags, { env: 'prod' })
  t.equal(rows[0]!.empty, '', 'an empty string stays empty in a text column')
})

t.test(
  'the second write replaces the rows, adds new columns, widens types and keeps vanished columns as NULL',
  async (t) => {
    const { sql } = await testDb(t)
    const target = { schema: S, table: 'repos' }
    await writeInventory(sql, target, {
      columns: ['id', 'stars', 'size', 'language', 'created'],
      rows: [
        { id: '1', stars: '10', size: '5', language: 'go', created: '2024-01-01T00:00:00Z' },
        { id: '2', stars: '20', size: '6', language: 'ts', created: '2024-01-02T00:00:00Z' },
      ],
    })
    const oid = await tableOid(sql, 'repos')
    const second = await writeInventory(sql, target, {
      columns: ['id', 'stars', 'size', 'created', 'topics'],
      rows: [
        { id: '3', stars: '1.5', size: 'huge', created: 'yesterday', topics: ['a'] },
        { id: '4', stars: '7', size: '8', created: '2024-01-03T00:00:00Z', topics: null },
        { id: '5', stars: '9', size: '9', created: null, topics: { b: 1 } },
      ],
    })
    t.equal(second.rowCount, 3)
    t.equal(await tableOid(sql, 'repos'), oid, 'the table keeps its identity (dependents survive)')
    t.same(await columnTypes(sql, 'repos'), {
      id: 'bigint',
      stars: 'numeric',
      size: 'text',
      language: 'text',
      created: 'text',
      topics: 'jsonb',
    })
    const rows = await sql`select id, stars, size, language, created from stackql_inventory.repos order by id`
    t.same(
      rows.map((r) => [r.id, r.stars, r.size, r.language]),
      [
        [3, '1.5', 'huge', null],
        [4, '7', '8', null],
        [5, '9', '9', null],
      ],
    )

    await writeInventory(sql, target, { columns: ['id', 'stars'], rows: [{ id: '6', stars: '3' }] })
    const types = await columnTypes(sql, 'repos')
    t.equal(types.stars, 'numeric', 'integers do not narrow a numeric column back to bigint')
    t.equal(types.size, 'text', 'numbers do not narrow a text column')
  },
)

t.test('an empty result empties the table but keeps its columns', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, { schema: S, table: 'vms' }, { columns: ['id'], rows: [{ id: '1' }] })
  const r = await writeInventory(sql, { schema: S, table: 'vms' }, { columns: [], rows: [] })
  t.equal(r.rowCount, 0)
  t.same(r.columns, [{ name: 'id', type: 'bigint' }])
  t.equal((await sql`select count(*)::int as n from stackql_inventory.vms`)[0]!.n, 0)
})

t.test('<table>_mv survives every write and is refreshed with the new rows', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'buckets' }
  await writeInventory(sql, target, { columns: ['id', 'name'], rows: numbered(3, 'a') })
  await sql`create materialized view stackql_inventory.buckets_mv as
    select count(*)::int as n, min(name) as first from stackql_inventory.buckets`
  const r = await writeInventory(sql, target, {
    columns: ['id', 'name', 'region'],
    rows: [...numbered(5, 'b').map((x) => ({ ...x, region: 'eu' }))],
  })
  t.equal(r.refreshedView, 'buckets_mv')
  t.same([...(await sql`select n, first from stackql_inventory.buckets_mv`)], [{ n: 5, first: 'b-0' }])

  // A unique index makes the refresh CONCURRENTLY (MV readers are never blocked); it still refreshes.
  await sql`create unique index on stackql_inventory.buckets_mv (n)`
  await writeInventory(sql, target, { columns: ['id', 'name'], rows: numbered(7, 'c') })
  t.same([...(await sql`select n, first from stackql_inventory.buckets_mv`)], [{ n: 7, first: 'c-0' }])
})

t.test('a widening blocked by a dependent view fails clearly and keeps the previous data', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'disks' }
  await writeInventory(sql, target, { columns: ['id', 'size'], rows: [{ id: '1', size: '10' }] })
  await sql`create materialized view stackql_inventory.disks_mv as select sum(size) as total from stackql_inventory.disks`
  const err = await writeInventory(sql, target, {
    columns: ['id', 'size'],
    rows: [{ id: '2', size: 'big' }],
  }).catch((e) => e)
  t.ok(err instanceof AppError)
  t.equal(err.code, 'CONFLICT')
  t.match(err.message, /Column size of stackql_inventory\.disks must widen from bigint to text/)
  t.match(err.message, /previous data is kept/)
  t.same([...(await sql`select id, size from stackql_inventory.disks`)], [{ id: 1, size: 10 }])
})

t.test(
  'awkward values are stored, not crashed on: NUL bytes, escapes, lone surrogates, odd JSON keys',
  async (t) => {
    const { sql } = await testDb(t)
    await writeInventory(
      sql,
      { schema: S, table: 'odd' },
      {
        columns: ['id', 'text', 'doc'],
        rows: [
          { id: '1', text: 'a\0b\tc\nd\\e\r', doc: { 'k\0ey': 'v\0al', s: '\uD800x', back: '\\u0000' } },
          { id: '2', text: 'plain', doc: { n: 1 } },
        ],
      },
    )
    const rows = await sql`select text, doc from stackql_inventory.odd order by id`
    t.equal(rows[0]!.text, 'ab\tc\nd\\e\r')
    t.same(rows[0]!.doc, { key: 'val', s: '\uFFFDx', back: '\\u0000' })
  },
)

t.test('JSON documents each needing one repair are stored (the fast path hands them on)', async (t) => {
  const { sql } = await testDb(t)
  const docs: [string, unknown, unknown][] = [
    ['lone surrogate only', { s: 'a\uDC00b' }, { s: 'a\uFFFDb' }],
    ['NUL in a key only', { ['k\0']: 1 }, { k: 1 }],
    ['NUL in a value only', ['x\0y'], ['xy']],
    ['a BigInt', { big: 2n ** 70n }, { big: '1180591620717411303424' }],
    ['an escaped backslash before u0000 (kept)', { back: '\\u0000' }, { back: '\\u0000' }],
    ['emoji (a valid surrogate pair)', { e: '\u{1F680} launch' }, { e: '\u{1F680} launch' }],
    ['plain', { n: 1, tags: { env: 'prod' } }, { n: 1, tags: { env: 'prod' } }],
  ]
  await writeInventory(
    sql,
    { schema: S, table: 'docs' },
    { columns: ['id', 'doc'], rows: docs.map(([_, doc], i) => ({ id: String(i + 1), doc }) as Row) },
  )
  const rows = await sql<{ doc: unknown }[]>`select doc from stackql_inventory.docs order by id`
  docs.forEach(([what, _, stored], i) => {
    t.same(rows[i]!.doc, stored, what)
  })
})

t.test('invalid targets are refused before anything is written', async (t) => {
  const { sql } = await testDb(t)
  for (const target of [
    { schema: 'stackql_app', table: 'queries' },
    { schema: 'pg_catalog', table: 'x' },
    { schema: S, table: 'Bad-Name' },
    { schema: S, table: 'a; drop table x' },
  ]) {
    const err = await writeInventory(sql, target, { columns: ['a'], rows: [{ a: 1 }] }).catch((e) => e)
    t.equal(err.code, 'IDENTIFIER_INVALID', JSON.stringify(target))
  }
  await sql`create view stackql_inventory.a_view as select 1 as a`
  const err = await writeInventory(
    sql,
    { schema: S, table: 'a_view' },
    { columns: ['a'], rows: [{ a: 1 }] },
  ).catch((e) => e)
  t.equal(err.code, 'CONFLICT')
  t.match(err.message, /is not a table/)
})

t.test('a cancelled write rolls back: the previous snapshot stays', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'cancelled' }
  await writeInventory(sql, target, { columns: ['id', 'name'], rows: numbered(10, 'old') })
  const ac = new AbortController()
  const rows = numbered(100_000, 'new')
  const writing = writeInventory(
    sql,
    target,
    { columns: ['id', 'name'], rows },
    { signal: ac.signal, batchRows: 50 },
  )
  setTimeout(() => ac.abort(), 30)
  const err = await writing.catch((e) => e)
  t.equal(err.code, 'STACKQL_CANCELLED')
  const [n] = await sql`select count(*)::int as n, min(name) as name from stackql_inventory.cancelled`
  t.same(n, { n: 10, name: 'old-0' })
})

t.test(
  'a writer killed with SIGKILL in the middle of a 200k-row COPY leaves the previous snapshot complete',
  async (t) => {
    const { sql, url } = await testDb(t)
    const target = { schema: S, table: 'killed' }
    await writeInventory(sql, target, { columns: ['id', 'name', 'padding'], rows: numbered(5000, 'old') })
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/write-inventory-child.ts', import.meta.url)),
        url,
        S,
        'killed',
        '200000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)))
    // Wait until the child's COPY (into the delta write's stage table) is under way, then kill it without warning.
    let copied = 0
    for (let i = 0; i < 600 && copied === 0; i++) {
      const [p] = await sql<{ n: number }[]>`
      select coalesce(max(tuples_processed), 0)::int as n from pg_stat_progress_copy p
      where p.datname = current_database()`
      copied = p!.n
      if (copied === 0) await new Promise((r) => setTimeout(r, 20))
    }
    t.ok(copied > 0, `the COPY was in progress (${copied} rows sent) — child output: ${output}`)
    child.kill('SIGKILL')
    t.equal(await exited, 'SIGKILL')
    t.notMatch(output, /done/, 'the child did not finish')
    const [after] = await sql`select count(*)::int as n, min(name) as first, max(id)::int as last
    from stackql_inventory.killed`
    t.same(after, { n: 5000, first: 'old-0', last: 4999 })
  },
)

t.test('concurrent readers never see zero rows (or a half-written table) during replaces', async (t) => {
  const { sql, url } = await testDb(t)
  const target = { schema: S, table: 'busy' }
  const sizes = [20_000, 25_000]
  await writeInventory(sql, target, { columns: ['id', 'name'], rows: numbered(sizes[0]!, 'a') })
  const reader = postgres(url, { max: 1, onnotice: () => {} })
  const rr = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => Promise.all([reader.end(), rr.end()]))
  const seen = new Set<number>()
  let reads = 0
  let writing = true
  const readLoop = (async () => {
    while (writing) {
      const [r] = await reader`select count(*)::int as n from stackql_inventory.busy`
      seen.add(r!.n)
      reads++
    }
  })()
  // A REPEATABLE READ reader whose snapshot predates a replace keeps seeing the old rows.
  const rrReader = rr.begin('isolation level repeatable read', async (tx) => {
    const [before] = await tx`select count(*)::int as n from stackql_inventory.busy`
    await new Promise((r) => setTimeout(r, 400))
    const [later] = await tx`select count(*)::int as n from stackql_inventory.busy`
    return [before!.n, later!.n]
  })
  for (let i = 1; i <= 6; i++) {
    const n = sizes[i % 2]!
    await writeInventory(sql, target, { columns: ['id', 'name'], rows: numbered(n, `r${i}`) })
  }
  writing = false
  await readLoop
  const [before, later] = await rrReader
  t.ok(reads > 5, `the reader ran during the writes (${reads} reads)`)
  t.same([...seen].sort(), sizes, 'every read saw a complete snapshot: old or new, never empty or partial')
  t.equal(later, before, 'the repeatable-read reader kept its snapshot')
})
