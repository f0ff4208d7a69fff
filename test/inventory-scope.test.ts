import t from 'tap'
import { writeInventory } from '../src/db/inventory-writer.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const target = { schema: S, table: 'scoped' }

t.test('a scoped write replaces only the rows of its slices and keeps the others', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, target, {
    columns: ['id', '_profile'],
    rows: [
      { id: '1', _profile: 'prod' },
      { id: '2', _profile: 'prod' },
      { id: '3', _profile: 'dev' },
    ],
  })
  await writeInventory(
    sql,
    target,
    { columns: ['id', '_profile'], rows: [{ id: '4', _profile: 'prod' }] },
    { scope: { column: '_profile', values: ['prod'] } },
  )
  const rows = await sql<
    { id: string; _profile: string }[]
  >`select id::text, _profile from ${sql(S)}.scoped order by id`
  t.same(
    rows.map((r) => `${r.id}:${r._profile}`),
    ['3:dev', '4:prod'],
  )
})

t.test(
  'a scoped write creates a missing scope column as text and keeps the rows written before it',
  async (t) => {
    const { sql } = await testDb(t)
    await writeInventory(sql, target, { columns: ['id'], rows: [{ id: '1' }] })
    await writeInventory(
      sql,
      target,
      { columns: ['id'], rows: [] },
      { scope: { column: '_profile', values: ['prod'] } },
    )
    const [col] = await sql<{ type: string }[]>`
    select format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${`${S}.scoped`}::regclass and attname = '_profile'`
    t.equal(col?.type, 'text')
    t.equal((await sql`select 1 from ${sql(S)}.scoped`).length, 1)
  },
)

t.test('a scoped write that widens a column keeps the values of the rows outside the scope', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, target, {
    columns: ['id', 'size', '_profile'],
    rows: [
      { id: '1', size: '10', _profile: 'dev' },
      { id: '2', size: '20', _profile: 'prod' },
    ],
  })
  await writeInventory(
    sql,
    target,
    { columns: ['id', 'size', '_profile'], rows: [{ id: '2', size: 'large', _profile: 'prod' }] },
    { scope: { column: '_profile', values: ['prod'] } },
  )
  const rows = await sql<{ size: string }[]>`select size from ${sql(S)}.scoped order by id`
  t.same(
    rows.map((r) => r.size),
    ['10', 'large'],
  )
})

t.test('a row outside the scope fails the write and leaves the table as it was', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, target, { columns: ['id', '_profile'], rows: [{ id: '1', _profile: 'dev' }] })
  await t.rejects(
    writeInventory(
      sql,
      target,
      { columns: ['id', '_profile'], rows: [{ id: '2', _profile: 'dev' }] },
      { scope: { column: '_profile', values: ['prod'] } },
    ),
    { message: /outside the slices being replaced/ },
  )
  t.equal((await sql`select id from ${sql(S)}.scoped where id = 1`).length, 1)
})
