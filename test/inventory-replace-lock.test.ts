// High churn meets hand edits: the whole-scope replace (delta-replace.ts) deletes every row in scope,
// so it must not run while someone else writes the table — a row they insert after the comparison
// read the table would go without a change record. The write replaces only under its lock and when
// the edit guard counted nothing since it began; otherwise it applies the difference row by row.
import t from 'tap'
import { REPLACE_MIN_ROWS } from '../src/db/delta-replace.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const table = 'edited'
const target = { schema: S, table }
const columns = ['id', 'size']
const keys = ['id']
const N = 2 * REPLACE_MIN_ROWS
const calm = `x-${N - 1}` // never modified below
const rows = (size: (i: number) => string): Row[] =>
  Array.from({ length: N }, (_, i) => ({ id: `x-${i}`, size: size(i) }))
// 75% modified: well above the share, so only the hand edit can keep the write row by row.
const churned = (round: string) => rows((i) => (i < 0.75 * N ? round : 's'))

t.test(
  'a hand transaction holding the table: the write waits a bounded time, then goes row by row',
  async (t) => {
    const { sql } = await testDb(t)
    await writeInventory(sql, target, { columns, rows: rows(() => 's') }, { keys })
    const [calmBefore] = await sql`select ctid::text from ${sql(S)}.${sql(table)} where id = ${calm}`
    const hand = await sql.reserve()
    t.teardown(() => hand.release())
    await hand`begin`
    await hand`insert into ${sql(S)}.${sql(table)} (id, size) values ('by-hand', 'h')`
    const started = Date.now()
    const w = await writeInventory(
      sql,
      target,
      { columns, rows: churned('L') },
      { keys, record: { runId: 61, scheduleId: null } },
    )
    t.ok(Date.now() - started < 15_000, 'the write did not wait out the lock timeout')
    t.same(w.changes, { added: 0, removed: 0, modified: 0.75 * N, baseline: false })
    const [calmAfter] = await sql`select ctid::text from ${sql(S)}.${sql(table)} where id = ${calm}`
    t.equal(calmAfter?.ctid, calmBefore?.ctid, 'not replaced whole: an unchanged row keeps its version')
    await hand`commit`
    const [kept] = await sql`select size from ${sql(S)}.${sql(table)} where id = 'by-hand'`
    t.equal(kept?.size, 'h', 'the hand row is in the table')
    // The edit was counted: the next run compares every row and records the hand row as removed.
    const next = await writeInventory(
      sql,
      target,
      { columns, rows: churned('L') },
      { keys, record: { runId: 62, scheduleId: null } },
    )
    t.same(next.changes, { added: 0, removed: 1, modified: 0, baseline: false })
    const [gone] = await sql`select row_key->>'id' as id, before->>'size' as size
    from stackql_inventory.inventory_changes where run_id = 62`
    t.same(gone, { id: 'by-hand', size: 'h' }, 'recorded with its row')
  },
)

t.test('a hand insert committed while the write ran: no whole replace, the row is recorded', async (t) => {
  const { sql } = await testDb(t)
  await writeInventory(sql, target, { columns, rows: rows(() => 's') }, { keys })
  const [calmBefore] = await sql`select ctid::text from ${sql(S)}.${sql(table)} where id = ${calm}`
  const hand = await sql.reserve()
  t.teardown(() => hand.release())
  const data = churned('L')
  let inserted = false
  // The first pass over the rows (the digest comparison) runs after the write read the edit count
  // and before it compared the table: a hand insert committed then is one the write must not erase.
  const source = {
    async *batches() {
      if (!inserted) {
        inserted = true
        await hand`insert into ${sql(S)}.${sql(table)} (id, size) values ('by-hand', 'h')`
      }
      for (let i = 0; i < data.length; i += 500) yield data.slice(i, i + 500)
    },
  }
  const w = await writeInventory(
    sql,
    target,
    { columns, rows: source },
    { keys, record: { runId: 63, scheduleId: null } },
  )
  t.ok(inserted, 'the hand insert ran during the write')
  t.same(w.changes, { added: 0, removed: 1, modified: 0.75 * N, baseline: false })
  const [calmAfter] = await sql`select ctid::text from ${sql(S)}.${sql(table)} where id = ${calm}`
  t.equal(calmAfter?.ctid, calmBefore?.ctid, 'not replaced whole: an unchanged row keeps its version')
  const removed = await sql`select row_key->>'id' as id from stackql_inventory.inventory_changes
    where run_id = 63 and change_kind = 'removed'`
  t.same(removed, [{ id: 'by-hand' }], 'the hand row is recorded as removed')
  const [n] = await sql`select count(*)::int as n from ${sql(S)}.${sql(table)}`
  t.equal(n?.n, N, 'the table holds exactly the run’s rows')
  // With nobody else writing, the same churn again is replaced whole.
  const again = await writeInventory(
    sql,
    target,
    { columns, rows: churned('M') },
    { keys, record: { runId: 64, scheduleId: null } },
  )
  t.same(again.changes, { added: 0, removed: 0, modified: 0.75 * N, baseline: false })
  const [calmLast] = await sql`select ctid::text from ${sql(S)}.${sql(table)} where id = ${calm}`
  t.not(calmLast?.ctid, calmAfter?.ctid, 'replaced whole once nobody else wrote the table')
})
