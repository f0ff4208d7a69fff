// The keyless comparison (delta-keyless.ts): joined on the rows themselves when the run's rows are
// distinct and every pair is one to one, else numbered md5s — both give the exact multiset
// difference, for duplicates, NULLs, jsonb key order, dropped columns and hand-added json columns.
import t, { type Test } from 'tap'
import type { Sql } from '../src/db/connect.js'
import { keylessDiff } from '../src/db/delta-keyless.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

type Case = { old: string; run: string; distinct: boolean }

/**
 * Compares `run` (VALUES rows) with the table's `old` rows inside a transaction that is rolled back;
 * returns the way taken and the removed and added rows as text, sorted.
 */
async function compare(t: Test, sql: Sql, c: Case, columns = 'a text, b jsonb, n bigint') {
  let out: { way: string; removed: string[]; added: string[] } | undefined
  await sql
    .begin(async (tx) => {
      const q = tx as unknown as Sql
      await q.unsafe(`create table kl (${columns}); insert into kl values ${c.old}`)
      await q.unsafe(
        `create temp table kl_stage (like kl) on commit drop; insert into kl_stage values ${c.run}`,
      )
      const { way, counts } = await keylessDiff(q, {
        target: q`kl`,
        stage: q`kl_stage`,
        diff: 'kl_diff',
        where: q``,
        distinctStage: c.distinct,
        foreign: columns.includes(' json,') || columns.endsWith(' json'),
      })
      const side = async (kind: string, table: string, col: string) =>
        (
          await q.unsafe(
            `select x::text as r from kl_diff d join ${table} x on x.ctid = d.${col} where d.kind = '${kind}' order by 1`,
          )
        ).map((r) => r.r as string)
      out = { way, removed: await side('removed', 'kl', 'oc'), added: await side('added', 'kl_stage', 'nc') }
      // The joined way counts as it goes: the same as the rows it left in the diff table.
      if (counts) t.same(counts, { removed: out.removed.length, added: out.added.length }, 'counted')
      throw new Error('rollback')
    })
    .catch((e: Error) => {
      if (e.message !== 'rollback') throw e
    })
  return out!
}

t.test('distinct rows are joined: the difference, NULLs and jsonb key order as equal', async (t) => {
  const { sql } = await testDb(t)
  const r = await compare(t, sql, {
    old: `('x', null, null), ('y', '{"a":1,"b":[]}', 1), ('gone', '{}', 2)`,
    run: `('x', null, null), ('y', '{"b":[],"a":1.0}', 1), ('new', '[]', 2)`,
    distinct: true,
  })
  t.same(r, { way: 'joined', removed: ['(gone,{},2)'], added: ['(new,[],2)'] })
})

t.test('values the row hashes confuse are told apart', async (t) => {
  const { sql } = await testDb(t)
  // A number's sign, a bigint's high half, [] against {}: equal under hash_record_extended's parts.
  const r = await compare(t, sql, {
    old: `('p', '[]', -1), ('q', '{}', 4294967296)`,
    run: `('p', '{}', 1), ('q', '[]', 0)`,
    distinct: true,
  })
  t.same(r.removed, ['(p,[],-1)', '(q,{},4294967296)'])
  t.same(r.added, ['(p,{},1)', '(q,[],0)'])
})

t.test('duplicates: never multiplied, always paired one to one', async (t) => {
  const { sql } = await testDb(t)
  // The table holds a row twice, the run once: one copy goes. The join sees two pairs, not one.
  const twice = await compare(t, sql, {
    old: `('x', null, 1), ('x', null, 1)`,
    run: `('x', null, 1)`,
    distinct: true,
  })
  t.same(twice, { way: 'numbered', removed: ['(x,,1)'], added: [] })
  // Balanced counts that only the pairs reveal: x 2 -> 1, y 1 -> 2 (as if the run's lines had
  // looked distinct: equal values written differently, e.g. jsonb keys in another order).
  const balanced = await compare(t, sql, {
    old: `('x', '{"a":1,"b":2}', 1), ('x', '{"b":2,"a":1}', 1), ('y', null, 2)`,
    run: `('x', '{"a":1,"b":2}', 1), ('y', null, 2), ('y', null, 2)`,
    distinct: true,
  })
  t.same(balanced, { way: 'numbered', removed: ['(x,"{""a"": 1, ""b"": 2}",1)'], added: ['(y,,2)'] })
  // The run's lines repeat: straight to the numbered comparison.
  const repeated = await compare(t, sql, {
    old: `('x', null, 1)`,
    run: `('x', null, 1), ('x', null, 1)`,
    distinct: false,
  })
  t.same(repeated, { way: 'numbered', removed: [], added: ['(x,,1)'] })
})

t.test('a column added by hand with a type without equality: numbered', async (t) => {
  const { sql } = await testDb(t)
  const r = await compare(
    t,
    sql,
    { old: `('x', '{"k":1}')`, run: `('x', '{"k":2}')`, distinct: true },
    'a text, j json',
  )
  t.same(r, { way: 'numbered', removed: ['(x,"{""k"":1}")'], added: ['(x,"{""k"":2}")'] })
})

t.test('keyless writes: repeated rows, a widened column, a run that changed nothing', async (t) => {
  const { sql } = await testDb(t)
  const target = { schema: 'stackql_inventory', table: 'regions' }
  const columns = ['region', 'count']
  const rows = (list: [string, string][]): Row[] => list.map(([region, count]) => ({ region, count }))
  await writeInventory(sql, target, {
    columns,
    rows: rows([
      ['eu', '1'],
      ['eu', '1'],
      ['us', '2'],
    ]),
  })
  // The table holds eu twice; the run has it once and us twice.
  const w = await writeInventory(
    sql,
    target,
    {
      columns,
      rows: rows([
        ['eu', '1'],
        ['us', '2'],
        ['us', '2'],
      ]),
    },
    { record: { runId: 71, scheduleId: null } },
  )
  t.same(w.changes, { added: 1, removed: 1, modified: 0, baseline: false })
  // count widens from bigint to text (a column swapped in: the table has a dropped column now).
  const widened = rows([
    ['eu', '1'],
    ['us', 'two'],
  ])
  const w2 = await writeInventory(
    sql,
    target,
    { columns, rows: widened },
    { record: { runId: 72, scheduleId: null } },
  )
  t.same(
    w2.widened.map((c) => c.column),
    ['count'],
  )
  t.same(w2.changes, { added: 1, removed: 2, modified: 0, baseline: false })
  const again = await writeInventory(
    sql,
    target,
    { columns, rows: widened },
    { record: { runId: 73, scheduleId: null } },
  )
  t.same(
    again.changes,
    { added: 0, removed: 0, modified: 0, baseline: false },
    'unchanged after the widening',
  )
  const table = await sql`select region, count from stackql_inventory.regions order by 1, 2`
  t.same(
    table.map((r) => [r.region, r.count]),
    [
      ['eu', '1'],
      ['us', 'two'],
    ],
  )
})
