// High churn: a keyed write that modified a large share of the rows in scope replaces them all
// (delete + insert) instead of updating each — the records, the table and the other slices must come
// out exactly as with the row-by-row path.
import t from 'tap'
import { REPLACE_MIN_ROWS, REPLACE_SHARE } from '../src/db/delta-replace.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const target = { schema: S, table: 'churned' }
const columns = ['_profile', 'id', 'size', 'tags']
const N = 2 * REPLACE_MIN_ROWS

const rowsOf = (profile: string, n: number, size: (i: number) => string): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    _profile: profile,
    id: `${profile}-${i}`,
    size: size(i),
    tags: { i },
  }))

t.test(
  'a high-churn slice is replaced whole; records, rows and the other slice come out exact',
  async (t) => {
    const { sql } = await testDb(t)
    const keys = ['_profile', 'id']
    const scoped = (p: string) => ({ column: '_profile', values: [p] })
    await writeInventory(
      sql,
      target,
      { columns, rows: rowsOf('a', N, () => 's') },
      { keys, scope: scoped('a') },
    )
    await writeInventory(
      sql,
      target,
      { columns, rows: rowsOf('b', 50, () => 's') },
      { keys, scope: scoped('b') },
    )
    const otherBefore =
      await sql`select ctid::text, id from ${sql(S)}.churned where _profile = 'b' order by id`
    const calm = `a-${N - 11}` // unchanged by the run below
    const [calmBefore] = await sql`select ctid::text from ${sql(S)}.churned where id = ${calm}`
    // 75% of slice a modified (above the share), 10 removed, 10 added.
    const modified = Math.ceil(0.75 * N)
    t.ok(modified >= REPLACE_SHARE * N && modified >= REPLACE_MIN_ROWS, 'the run is above the threshold')
    const next = rowsOf('a', N, (i) => (i < modified ? 'L' : 's')).filter((_, i) => i < N - 10)
    next.push(
      ...Array.from({ length: 10 }, (_, j) => ({ _profile: 'a', id: `a-new-${j}`, size: 's', tags: null })),
    )
    const w = await writeInventory(
      sql,
      target,
      { columns, rows: next },
      { keys, scope: scoped('a'), record: { runId: 41, scheduleId: null } },
    )
    t.same(w.changes, { added: 10, removed: 10, modified, baseline: false })
    const kinds = await sql<{ change_kind: string; n: number; cols: string | null }[]>`
    select change_kind, count(*)::int as n, string_agg(distinct array_to_string(changed_columns, ','), ';') as cols
    from stackql_inventory.inventory_changes where run_id = 41 group by 1 order by 1`
    t.same(
      kinds.map((k) => [k.change_kind, k.n, k.cols]),
      [
        ['added', 10, null],
        ['modified', modified, 'size'],
        ['removed', 10, null],
      ],
    )
    const [one] = await sql<
      { before: Row; after: Row }[]
    >`select before, after from stackql_inventory.inventory_changes
    where run_id = 41 and row_key->>'id' = 'a-3'`
    t.same(
      [one?.before.size, one?.after.size, one?.after.tags],
      ['s', 'L', { i: 3 }],
      'before and after in full',
    )
    const table = await sql<{ n: number; large: number; fresh: number }[]>`
    select count(*)::int as n, count(*) filter (where size = 'L')::int as large,
      count(*) filter (where id like 'a-new-%')::int as fresh from ${sql(S)}.churned where _profile = 'a'`
    t.same(table[0], { n: N, large: modified, fresh: 10 }, 'slice a holds exactly the run’s rows')
    const gone = await sql`select 1 from ${sql(S)}.churned where id = ${`a-${N - 1}`}`
    t.equal(gone.length, 0, 'a removed row is gone')
    const otherAfter =
      await sql`select ctid::text, id from ${sql(S)}.churned where _profile = 'b' order by id`
    t.same(otherAfter, otherBefore, 'the other slice is not touched (same row versions)')
    const [calmAfter] = await sql`select ctid::text from ${sql(S)}.churned where id = ${calm}`
    t.not(calmAfter?.ctid, calmBefore?.ctid, 'the slice was replaced whole (an unchanged row written again)')
    // The next run, unchanged, is narrowed by the digests again and changes nothing.
    const again = await writeInventory(
      sql,
      target,
      { columns, rows: next },
      { keys, scope: scoped('a'), record: { runId: 42, scheduleId: null } },
    )
    t.same(again.changes, { added: 0, removed: 0, modified: 0, baseline: false })
  },
)

t.test('the share decides above the minimum: 30% keeps unchanged rows, 45% replaces them', async (t) => {
  const { sql } = await testDb(t)
  const keys = ['id']
  const cols = ['id', 'size']
  const M = 5 * REPLACE_MIN_ROWS // 30% of it is above the minimum: only the share can keep it row by row
  const rows = (f: (i: number) => string) =>
    Array.from({ length: M }, (_, i) => ({ id: String(i), size: f(i) }))
  const table = { schema: S, table: 'calm' }
  await writeInventory(sql, table, { columns: cols, rows: rows(() => 's') }, { keys })
  const last = String(M - 1) // never modified
  const version = async () => (await sql`select ctid::text from ${sql(S)}.calm where id = ${last}`)[0]?.ctid
  let run = 43
  for (const [share, replaced] of [
    [0.3, false],
    [0.45, true],
  ] as const) {
    t.ok(share * M >= REPLACE_MIN_ROWS && share < REPLACE_SHARE === !replaced)
    const before = await version()
    const size = `L${run}`
    const w = await writeInventory(
      sql,
      table,
      { columns: cols, rows: rows((i) => (i < share * M ? size : 's')) },
      { keys, record: { runId: run++, scheduleId: null } },
    )
    t.same(w.changes, { added: 0, removed: 0, modified: share * M, baseline: false })
    if (replaced) t.not(await version(), before, `${share * 100}%: the scope was replaced whole`)
    else t.equal(await version(), before, `${share * 100}%: an unchanged row is not rewritten`)
  }
})

t.test(
  'a table with its own row trigger is never replaced whole: the trigger sees only real changes',
  async (t) => {
    const { sql } = await testDb(t)
    const keys = ['id']
    const cols = ['id', 'size']
    const rows = (f: (i: number) => string) =>
      Array.from({ length: N }, (_, i) => ({ id: String(i), size: f(i) }))
    const table = { schema: S, table: 'watched' }
    await writeInventory(sql, table, { columns: cols, rows: rows(() => 's') }, { keys })
    await sql`create table ${sql(S)}.watched_log (op text)`
    await sql`create function ${sql(S)}.watched_note() returns trigger language plpgsql as
    $$ begin insert into stackql_inventory.watched_log values (tg_op); return null; end $$`
    await sql`create trigger watched_note after insert or update or delete on ${sql(S)}.watched
    for each row execute function ${sql(S)}.watched_note()`
    const w = await writeInventory(
      sql,
      table,
      { columns: cols, rows: rows((i) => (i < 0.75 * N ? 'L' : 's')) },
      { keys, record: { runId: 51, scheduleId: null } },
    )
    t.same(w.changes, { added: 0, removed: 0, modified: 0.75 * N, baseline: false })
    const log = await sql<
      { op: string; n: number }[]
    >`select op, count(*)::int as n from ${sql(S)}.watched_log group by 1`
    t.same(log, [{ op: 'UPDATE', n: 0.75 * N }], 'updated row by row: no deletes of unchanged rows')
  },
)
