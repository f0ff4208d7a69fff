// Finding 3 of issue 12 (columns swap between runs): each table's source-key -> column mapping is
// stored and reused, new collisions get a suffix that depends only on the key, tables made by the
// previous version are adopted, and the Inventory page shows the mapping.
import t from 'tap'
import { readColumnMap } from '../src/db/column-map.js'
import type { Sql } from '../src/db/connect.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { buildTestApp } from './helpers/app.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'

const contents = async (sql: Sql, table: string) =>
  [...(await sql`select * from ${sql(S)}.${sql(table)} order by 1`)].map((r) => ({ ...r }))

t.test(
  'finding 3: [instanceId, instance_id] and [instance_id, instanceId] map to the same columns',
  async (t) => {
    const { sql } = await testDb(t)
    const a = await writeInventory(
      sql,
      { schema: S, table: 'order_a' },
      { columns: ['instanceId', 'instance_id'], rows: [{ instanceId: 'camel', instance_id: 'snake' }] },
    )
    const b = await writeInventory(
      sql,
      { schema: S, table: 'order_b' },
      { columns: ['instance_id', 'instanceId'], rows: [{ instance_id: 'snake', instanceId: 'camel' }] },
    )
    t.same(a.renamed, b.renamed)
    t.match(a.renamed, { instanceId: /^instance_id_[0-9a-f]{6}$/ })
    t.notOk('instance_id' in a.renamed, 'a key that is already a valid name keeps it')
    const camel = a.renamed.instanceId!
    t.same(await contents(sql, 'order_a'), [{ instance_id: 'snake', [camel]: 'camel' }])
    t.same(await contents(sql, 'order_b'), [{ instance_id: 'snake', [camel]: 'camel' }])
  },
)

t.test('finding 3: a key keeps its column run after run, whatever order keys arrive in', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'machines' }
  // Run 1: `Machine-Type` appears only in a later row; run 2 sees the keys in the opposite order
  // and a new colliding key; run 3 drops a key.
  const runs: { columns: string[]; rows: Row[] }[] = [
    {
      columns: ['id', 'machineType'],
      rows: [
        { id: '1', machineType: 'camel' },
        { id: '2', 'Machine-Type': 'dash' },
      ],
    },
    {
      columns: ['Machine-Type', 'machine_type', 'machineType', 'id'],
      rows: [{ 'Machine-Type': 'dash', machine_type: 'snake', machineType: 'camel', id: '1' }],
    },
    {
      columns: ['machine_type', 'Machine-Type', 'id'],
      rows: [{ machine_type: 'snake', 'Machine-Type': 'dash', id: '1' }],
    },
  ]
  const seen: Record<string, string>[] = []
  for (const run of runs) {
    await writeInventory(sql, target, run)
    const map = await readColumnMap(sql, S, 'machines')
    seen.push(Object.fromEntries(map.map((e) => [e.source_key, e.column_name])))
  }
  t.equal(
    seen[0]!['Machine-Type'],
    'machine_type',
    'of two new keys wanting one name, the first in code-unit order gets it',
  )
  t.match(seen[0]!.machineType, /^machine_type_[0-9a-f]{6}$/, 'the other a suffix from its own hash')
  t.same(seen[1], { ...seen[0], machine_type: seen[1]!.machine_type }, 'earlier keys keep their columns')
  t.match(
    seen[1]!.machine_type,
    /^machine_type_[0-9a-f]{6}$/,
    'a valid name taken by an earlier key gets a suffix',
  )
  t.same(seen[2], seen[1])
  const [row] = await contents(sql, 'machines')
  t.equal(row!.machine_type, 'dash')
  t.equal(row![seen[1]!.machine_type!], 'snake')
  t.equal(row![seen[0]!.machineType!], null, "machineType's column is kept, NULL in a run without that key")
})

t.test(
  'finding 3: a table made by the previous version gets its mapping from its existing columns',
  async (t) => {
    const { sql } = await testDb(t)
    // The previous version named ['instanceId', 'instance_id'] by position: instance_id, instance_id_2.
    await sql`create table stackql_inventory.old_vms (instance_id text, instance_id_2 text, legacy_only text)`
    await sql`insert into stackql_inventory.old_vms values ('camel', 'snake', 'x')`
    const r = await writeInventory(
      sql,
      { schema: S, table: 'old_vms' },
      { columns: ['instanceId', 'instance_id'], rows: [{ instanceId: 'camel2', instance_id: 'snake2' }] },
    )
    t.same(
      r.mappedColumns.map((e) => [e.source_key, e.column_name]),
      [
        ['instanceId', 'instance_id'],
        ['instance_id', 'instance_id_2'],
        ['legacy_only', 'legacy_only'],
      ],
    )
    t.same(
      r.columns.map((c) => c.name),
      ['instance_id', 'instance_id_2', 'legacy_only'],
      'no column added',
    )
    t.same(await contents(sql, 'old_vms'), [
      { instance_id: 'camel2', instance_id_2: 'snake2', legacy_only: null },
    ])
    // From now on the stored mapping decides, also when the keys come in another order.
    await writeInventory(
      sql,
      { schema: S, table: 'old_vms' },
      { columns: ['instance_id', 'instanceId'], rows: [{ instance_id: 'snake3', instanceId: 'camel3' }] },
    )
    t.same(await contents(sql, 'old_vms'), [
      { instance_id: 'camel3', instance_id_2: 'snake3', legacy_only: null },
    ])
  },
)

t.test('finding 3: the Inventory page shows which keys are stored under another column name', async (t) => {
  const { app, session } = await buildTestApp(t)
  await app.db.ping()
  await writeInventory(
    app.db.sql,
    { schema: S, table: 'instances' },
    {
      columns: ['instanceId', 'instance_id', 'region', '<b>Tag</b>'],
      rows: [{ instanceId: 'i-1', instance_id: 'x', region: 'eu', '<b>Tag</b>': 'y' }],
    },
  )
  const res = await session.get('/inventory/tables/instances')
  t.equal(res.statusCode, 200)
  const section = res.body.match(/<table class="data column-map"[\s\S]*?<\/table>/)?.[0] ?? ''
  t.match(section, /<td><code>instanceId<\/code><\/td><td><code>instance_id_[0-9a-f]{6}<\/code><\/td>/)
  t.match(section, /<td><code>&lt;b&gt;Tag&lt;\/b&gt;<\/code><\/td><td><code>b_tag_b<\/code><\/td>/)
  t.notMatch(section, /region/, 'keys stored under their own name are not listed')
  t.match(res.body, /the other 2 keep theirs/)
  await writeInventory(app.db.sql, { schema: S, table: 'plain' }, { columns: ['id'], rows: [{ id: '1' }] })
  const plain = await session.get('/inventory/tables/plain')
  t.match(plain.body, /All 1 StackQL keys are stored under their own names\./)
})
