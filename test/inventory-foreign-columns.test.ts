// A column added to an inventory table by hand, of a type the writer never makes (json: no equality
// operator, no hash function), must not break the comparison: keyed rows compare it as JSON, rows
// without keys are matched by an md5 of their text form.
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const columns = ['id', 'size']
const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: `r-${i}`, size: 'small' }))

const records = async (sql: Sql, runId: number) =>
  (
    await sql<{ change_kind: string; row_key: { id: string } | null; changed_columns: string[] | null }[]>`
      select change_kind, row_key, changed_columns from stackql_inventory.inventory_changes
      where run_id = ${runId} order by change_kind, row_key::text, after::text`
  ).map((r) => `${r.change_kind} ${r.row_key?.id ?? ''} ${r.changed_columns?.join(',') ?? ''}`.trim())

t.test('keyed: a hand-added json column is compared as JSON', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'by_hand' }
  await writeInventory(sql, target, { columns, rows: rows(5) }, { keys: ['id'] })
  await sql`alter table ${sql(S)}.by_hand add column note json`
  await sql`update ${sql(S)}.by_hand set note = '{"b": 1, "a": 2}' where id = 'r-1'`
  const next = rows(5)
  next[3] = { ...next[3]!, size: 'large' }
  const w = await writeInventory(
    sql,
    target,
    { columns, rows: next },
    { keys: ['id'], record: { runId: 1, scheduleId: null } },
  )
  // The run does not carry the column: r-1's note goes (NULL), as for any column a run no longer has.
  t.same(w.changes, { added: 0, removed: 0, modified: 2, baseline: false })
  t.same(await records(sql, 1), ['modified r-1 note', 'modified r-3 size'])
  const again = await writeInventory(
    sql,
    target,
    { columns, rows: next },
    { keys: ['id'], record: { runId: 2, scheduleId: null } },
  )
  t.same(again.changes, { added: 0, removed: 0, modified: 0, baseline: false })
})

t.test('without keys: rows with a hand-added json column are matched by content', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'by_hand_keyless' }
  await writeInventory(sql, target, { columns, rows: rows(4) }, {})
  await sql`alter table ${sql(S)}.by_hand_keyless add column note json`
  await sql`update ${sql(S)}.by_hand_keyless set note = '[1]' where id = 'r-0'`
  const next = rows(4)
  next[2] = { ...next[2]!, size: 'large' }
  const w = await writeInventory(
    sql,
    target,
    { columns, rows: next },
    { record: { runId: 3, scheduleId: null } },
  )
  t.same(w.changes, { added: 2, removed: 2, modified: 0, baseline: false })
  const table = await sql<{ id: string; size: string; note: unknown }[]>`
    select id, size, note from ${sql(S)}.by_hand_keyless order by id`
  t.same(
    table.map((r) => `${r.id}:${r.size}:${JSON.stringify(r.note)}`),
    ['r-0:small:null', 'r-1:small:null', 'r-2:large:null', 'r-3:small:null'],
  )
})

t.test('without keys: values PostgreSQL row hashes cannot tell apart are still changes', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: S, table: 'lookalikes' }
  const cols = ['id', 'rule', 'size']
  // A numeric's sign, a bigint's high half, jsonb container ends: equal under hash_record_extended.
  const before: Row[] = [
    { id: 'a', rule: { from_port: -1 }, size: '1' },
    { id: 'b', rule: [], size: '2' },
    { id: 'c', rule: [[1, 2]], size: '3' },
  ]
  const after: Row[] = [
    { id: 'a', rule: { from_port: 1 }, size: '1' },
    { id: 'b', rule: {}, size: '2' },
    { id: 'c', rule: [[1, 2]], size: '4294967299' },
  ]
  await writeInventory(sql, target, { columns: cols, rows: before }, {})
  const w = await writeInventory(
    sql,
    target,
    { columns: cols, rows: after },
    { record: { runId: 9, scheduleId: null } },
  )
  t.same(w.changes, { added: 3, removed: 3, modified: 0, baseline: false })
  const table = await sql<{ id: string; rule: unknown; size: string }[]>`
    select id, rule, size::text from ${sql(S)}.lookalikes order by id`
  t.same(
    table.map((r) => [r.id, r.rule, r.size]),
    after.map((r) => [r.id, r.rule, r.size]),
    'the table holds the new values',
  )
})
