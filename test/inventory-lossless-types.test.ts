// Finding 2 of issue 12 (type inference loses values): a value gets a number, boolean or timestamp
// type only if its text survives the round trip; integers never pass through double; JSON numbers
// reach the table unrounded; tables made by the previous version keep working.
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import { kindOf } from '../src/db/inventory-types.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import { parseRows } from '../src/stackql/output.js'
import { testDb } from './helpers/db.js'
import { pulledRunner } from './helpers/stackql.js'

const S = 'stackql_inventory'

async function columnTypes(sql: Sql, table: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; type: string }[]>`
    select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${`${S}.${table}`}::regclass and attnum > 0 and not attisdropped order by attnum`
  return Object.fromEntries(rows.map((r) => [r.name, r.type]))
}

t.test('finding 2: a value gets a number type only if its text survives the round trip', async (t) => {
  const cases: [unknown, string][] = [
    ['9223372036854775807', 'bigint'],
    ['9223372036854775808', 'numeric'],
    ['12345678901234567890', 'numeric'],
    ['18446744073709551615', 'numeric'],
    ['-9223372036854775809', 'numeric'],
    ['9007199254740993', 'bigint'],
    [2 ** 64, 'numeric'],
    [2n ** 70n, 'numeric'],
    ['1.10', 'text'],
    ['8.0', 'text'],
    ['0.10', 'text'],
    ['1.1', 'double'],
    ['0.25', 'double'],
    ['1234e56', 'text'],
    ['1e3', 'text'],
    ['-0', 'text'],
    ['00', 'text'],
    ['0.1000000000000000055511151231257827', 'text'],
    [-0, 'double'],
    [Number.NaN, 'text'],
    ['2024-05-01T10:20:30Z', 'timestamptz'],
    ['2024-05-01T10:20:30.123456Z', 'timestamptz'],
    ['2024-05-01T10:20:30.1234567Z', 'text'],
    ['2024-05-01T10:20:30+00:00', 'timestamptz'],
    ['2024-05-01T10:20:30+02:00', 'text'],
    ['2024-05-01T10:20:30-05:00', 'text'],
  ]
  for (const [value, kind] of cases)
    t.equal(kindOf(value), kind, typeof value === 'bigint' ? `${value}n` : JSON.stringify(value))
})

t.test(
  'finding 2: one big id does not turn an id column into double — 9007199254740993 survives',
  async (t) => {
    const { sql } = await testDb(t)
    await writeInventory(
      sql,
      { schema: S, table: 'ids' },
      {
        columns: ['id', 'account', 'huge', 'version', 'ratio'],
        rows: [
          { id: '1', account: 1, huge: '1', version: '1.10', ratio: '0.5' },
          {
            id: '9007199254740993',
            account: '9223372036854775807',
            huge: '18446744073709551615',
            version: '8.0',
            ratio: '2',
          },
          { id: '12345678901234567890', account: 3, huge: '1.5', version: '1.1', ratio: '0.25' },
        ],
      },
    )
    t.same(await columnTypes(sql, 'ids'), {
      id: 'numeric',
      account: 'bigint',
      huge: 'numeric',
      version: 'text',
      ratio: 'double precision',
    })
    const rows =
      await sql`select id::text, account::text, huge::text, version, ratio from stackql_inventory.ids t order by t.id`
    t.same(
      rows.map((r) => [r.id, r.account, r.huge, r.version, r.ratio]),
      [
        ['1', '1', '1', '1.10', 0.5],
        ['9007199254740993', '9223372036854775807', '18446744073709551615', '8.0', 2],
        ['12345678901234567890', '3', '1.5', '1.1', 0.25],
      ],
    )
  },
)

t.test('finding 2: JSON numbers beyond 2^53 are parsed without loss and stored exactly', async (t) => {
  const { sql } = await testDb(t)
  const parsed = parseRows(
    '[{"id": 9007199254740993, "big": 18446744073709551615, "f": 1.5, "exp": 1e400, "doc": {"n": 12345678901234567890}},' +
      ' {"id": 2, "big": 1, "f": 0.1, "exp": 2, "doc": {"n": 1}}]',
  )
  t.equal(parsed.rows[0]!.id, '9007199254740993', 'kept as the token text')
  t.equal(parsed.rows[1]!.id, 2, 'a safe integer stays a number')
  await writeInventory(sql, { schema: S, table: 'json_numbers' }, parsed)
  const types = await columnTypes(sql, 'json_numbers')
  t.equal(types.id, 'bigint')
  t.equal(types.big, 'numeric')
  t.equal(types.f, 'double precision')
  const rows =
    await sql`select id::text, big::text, exp::text, doc from stackql_inventory.json_numbers t order by t.id`
  t.same(rows[1], {
    id: '9007199254740993',
    big: '18446744073709551615',
    exp: '1e400',
    doc: { n: '12345678901234567890' },
  })
})

t.test(
  'finding 2: an existing double column is widened to numeric, never handed values it would round',
  async (t) => {
    const { sql } = await testDb(t)
    // A table as the previous version made it: ids and versions that once looked like doubles.
    await sql`create table stackql_inventory.legacy (id double precision, engine_version double precision, n bigint)`
    await sql`insert into stackql_inventory.legacy values (1, 8, 5)`
    const r = await writeInventory(
      sql,
      { schema: S, table: 'legacy' },
      {
        columns: ['id', 'engine_version', 'n'],
        rows: [
          { id: '9007199254740993', engine_version: '8.0', n: '0.5' },
          { id: '2', engine_version: '1.10', n: '7' },
        ],
      },
    )
    t.same(
      r.widened.map((w) => [w.column, w.from, w.to]),
      [
        ['id', 'double precision', 'numeric'],
        ['engine_version', 'double precision', 'text'],
        ['n', 'bigint', 'numeric'],
      ],
    )
    const rows =
      await sql`select id::text, engine_version, n::text from stackql_inventory.legacy t order by t.id`
    t.same(
      rows.map((x) => [x.id, x.engine_version, x.n]),
      [
        ['2', '1.10', '7'],
        ['9007199254740993', '8.0', '0.5'],
      ],
    )
    // The next run with small integers keeps the wider types (types only widen).
    await writeInventory(
      sql,
      { schema: S, table: 'legacy' },
      { columns: ['id', 'n'], rows: [{ id: '3', n: '4' }] },
    )
    const types = await columnTypes(sql, 'legacy')
    t.equal(types.id, 'numeric')
    t.equal(types.n, 'numeric')
  },
)

t.test('finding 2: a double column keeps taking integers within 2^53 (no needless widening)', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'sizes' }
  await writeInventory(sql, target, { columns: ['gib'], rows: [{ gib: '0.5' }, { gib: '2' }] })
  t.same(await columnTypes(sql, 'sizes'), { gib: 'double precision' })
  const r = await writeInventory(sql, target, { columns: ['gib'], rows: [{ gib: '9007199254740992' }] })
  t.same(r.widened, [])
  const big = await writeInventory(sql, target, { columns: ['gib'], rows: [{ gib: '9007199254740993' }] })
  t.same(big.widened, [{ column: 'gib', from: 'double precision', to: 'numeric' }])
  t.same([...(await sql`select gib::text from stackql_inventory.sizes`)], [{ gib: '9007199254740993' }])
})

t.test('finding 2: big JSON numbers printed by StackQL reach the inventory table unrounded', async (t) => {
  const { sql } = await testDb(t)
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const result = await runner.run('SELECT * FROM stackql_test.util.numbers')
  t.same(result.rows[0], { id: '9007199254740993', size: '18446744073709551615', ratio: 0.5 })
  await writeInventory(sql, { schema: S, table: 'numbers' }, result)
  t.same(await columnTypes(sql, 'numbers'), { id: 'bigint', size: 'numeric', ratio: 'double precision' })
  const rows = await sql`select id::text, size::text, ratio from stackql_inventory.numbers t order by t.id`
  t.same(
    rows.map((r) => [r.id, r.size, r.ratio]),
    [
      ['2', '1', 1e-7],
      ['9007199254740993', '18446744073709551615', 0.5],
    ],
  )
})
