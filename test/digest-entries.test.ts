// A keyed table's entries table (src/db/digest-entries.ts): named from a hash of schema.table, built
// anew by a whole-set write (indexes after the fill), changed in place otherwise.
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import {
  createEntries,
  dropEntries,
  entriesRef,
  entriesTable,
  finishEntries,
  retireEntries,
  upsertEntries,
} from '../src/db/digest-entries.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'

t.test('the name is a plain identifier, one per schema and table', async (t) => {
  const names = [entriesTable(S, 'vms'), entriesTable(S, 'VMs'), entriesTable('other', 'vms')]
  for (const n of names) t.match(n, /^stackql_digests_[0-9a-f]{16}$/)
  t.equal(new Set(names).size, 3)
  t.equal(entriesTable(S, 'vms'), names[0], 'the same every time')
})

const indexesOf = async (sql: Sql, name: string) =>
  (
    await sql<{ indexname: string }[]>`select indexname from pg_indexes
      where schemaname = 'stackql_app' and tablename = ${name} order by 1`
  ).map((r) => r.indexname)

t.test(
  'a whole set: a new table replaces the old, indexed once filled; a collision keeps one entry',
  async (t) => {
    const { sql } = await testDb(t)
    const name = entriesTable(S, 'vms')
    await sql.begin(async (tx) => {
      const x = tx as unknown as Sql
      await createEntries(x, S, 'vms')
      await x`insert into ${entriesRef(x, S, 'vms')} (key_hash, slice, row_key, digest) values (1, '', 'a', 10)`
      await finishEntries(x, S, 'vms', false)
    })
    t.same(await indexesOf(sql, name), [`${name}_overlay`, `${name}_pkey`])
    // The shared table of the previous version held this table's entries too: they go.
    await sql`insert into stackql_app.inventory_digests (target_schema, target_table, key_hash, row_key, digest)
    values (${S}, 'vms', 7, 'old', 70), (${S}, 'other', 7, 'old', 70)`
    await sql.begin(async (tx) => {
      const x = tx as unknown as Sql
      await createEntries(x, S, 'vms')
      // Two distinct keys with one hash (the typed key check found them distinct): one entry is kept.
      await x`insert into ${entriesRef(x, S, 'vms')} (key_hash, slice, row_key, digest)
      values (2, '', 'b', 20), (3, '', 'c', 30), (3, '', 'c2', 31)`
      await finishEntries(x, S, 'vms', true)
    })
    const rows = await sql<
      { key_hash: string }[]
    >`select key_hash::text from ${entriesRef(sql, S, 'vms')} order by 1`
    t.same(
      rows.map((r) => r.key_hash),
      ['2', '3'],
      'the old entries went with the old table; the collision kept one',
    )
    t.same(await indexesOf(sql, name), [`${name}_overlay`, `${name}_pkey`])
    const legacy = await sql`select target_table from stackql_app.inventory_digests order by 1`
    t.same(legacy, [{ target_table: 'other' }], "only this table's shared rows were deleted")
  },
)

t.test('in place: tombstones return the keys, upserts follow the version; drop removes it all', async (t) => {
  const { sql } = await testDb(t)
  await sql.begin(async (tx) => {
    const x = tx as unknown as Sql
    await createEntries(x, S, 'vms')
    await x`insert into ${entriesRef(x, S, 'vms')} (key_hash, slice, row_key, digest)
      values (1, '', 'a', 10), (2, '', 'b', 20)`
    await finishEntries(x, S, 'vms', false)
  })
  t.same(await retireEntries(sql, S, 'vms', [2, 99], 3), ['b'], 'an unknown hash returns nothing')
  await sql.begin(async (tx) => {
    const x = tx as unknown as Sql
    await x`create temp table staged (key_hash bigint, slice text, row_key text, digest bigint) on commit drop`
    await x`insert into staged values (1, '', 'a', 11), (5, '', 'e', 50)`
    await upsertEntries(x, S, 'vms', 'staged', 3)
  })
  const rows = await sql<{ k: string; d: string | null; v: string }[]>`
    select key_hash::text as k, digest::text as d, version::text as v from ${entriesRef(sql, S, 'vms')} order by 1`
  t.same(
    rows.map((r) => [r.k, r.d, r.v]),
    [
      ['1', '11', '3'],
      ['2', null, '3'],
      ['5', '50', '3'],
    ],
  )
  await dropEntries(sql, S, 'vms')
  const [gone] = await sql`select to_regclass(${`stackql_app.${entriesTable(S, 'vms')}`}) as r`
  t.equal(gone?.r, null)
})
