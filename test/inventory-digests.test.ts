// The delta write's digest set: a keyed table's later runs stage only the rows whose digest changed,
// and every way the set can be out of date falls back to comparing every row.
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import { approxChars, RETAIN_CHARS } from '../src/db/digest-compare.js'
import { entriesTable } from '../src/db/digest-entries.js'
import { hasEditGuard } from '../src/db/edit-guard.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import { keyIndexColumns } from '../src/db/key-index.js'
import { applySchema } from '../src/db/migrate.js'
import type { Row } from '../src/models.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const target = { schema: S, table: 'fleet' }
const keys = ['id']

const fleet = (n: number, from = 0): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `r-${from + i}`,
    size: 'small',
    tags: { env: 'dev', n: from + i },
  }))

const write = (
  sql: Sql,
  rows: Row[],
  runId: number,
  opts: { keys?: string[]; scope?: { column: string; values: string[] } } = {},
) =>
  writeInventory(
    sql,
    target,
    { columns: Object.keys(rows[0] ?? { id: 1 }), rows },
    {
      keys,
      record: { runId, scheduleId: null },
      ...opts,
    },
  )

const records = async (sql: Sql, runId: number) =>
  (
    await sql<{ change_kind: string; row_key: { id: string } | null; changed_columns: string[] | null }[]>`
      select change_kind, row_key, changed_columns from stackql_app.inventory_changes
      where run_id = ${runId} order by change_kind, row_key::text`
  ).map(
    (r) =>
      `${r.change_kind} ${r.row_key?.id ?? '-'}${r.changed_columns ? ` [${r.changed_columns.join(',')}]` : ''}`,
  )

const xmins = async (sql: Sql) =>
  new Map(
    (await sql<{ id: string; x: string }[]>`select id, xmin::text as x from ${sql(S)}.fleet`).map((r) => [
      r.id,
      r.x,
    ]),
  )

/**
 * An edit the edit guard cannot see (triggers off, as for a replication apply or a restore): the
 * digests then stand for rows the table no longer has, which shows whether a run was narrowed.
 */
const unseenEdit = (sql: Sql, edit: (tx: Sql) => Promise<unknown>) =>
  sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`
    await edit(tx as unknown as Sql)
  })

const edits = async (sql: Sql) =>
  Number(
    (
      await sql<{ n: string }[]>`select coalesce(sum(edits), 0)::text as n from stackql_app.inventory_edits
        where target_schema = ${S} and target_table = 'fleet'`
    )[0]!.n,
  )

/** The fleet table's entries table (digest-entries.ts). */
const entries = (sql: Sql) => sql`stackql_app.${sql(entriesTable(S, 'fleet'))}`
const hasEntries = async (sql: Sql) =>
  (await sql`select to_regclass(${`stackql_app.${entriesTable(S, 'fleet')}`}) is not null as e`)[0]!.e ===
  true

const digestCount = async (sql: Sql) =>
  (await hasEntries(sql))
    ? Number(
        (
          await sql<{ n: string }[]>`select count(*)::text as n from ${entries(sql)} where digest is not null`
        )[0]!.n,
      )
    : 0

/** Back to the previous version's storage: the entries in the shared table, no entries table. */
async function toSharedEntries(sql: Sql, version: number): Promise<void> {
  await sql`insert into stackql_app.inventory_digests (target_schema, target_table, key_hash, slice, row_key, digest, version)
    select ${S}, 'fleet', key_hash, slice, row_key, digest, ${version} from ${entries(sql)}`
  await sql`drop table ${entries(sql)}`
}

t.test(
  'a keyed run with little churn records and applies exactly the difference; unchanged rows keep their version',
  async (t) => {
    const { sql } = await testDb(t)
    await write(sql, fleet(200), 1)
    t.equal(await digestCount(sql), 200, 'the first keyed run stores a digest per row')
    const before = await xmins(sql)
    const rows = fleet(200).filter((r) => r.id !== 'r-7')
    rows[3] = { ...rows[3]!, size: 'large' }
    rows[50] = { ...rows[50]!, tags: { n: 51, env: 'dev' } } // same object, other key order
    rows.push(...fleet(1, 900))
    const w = await write(sql, rows, 2)
    t.same(w.changes, { added: 1, removed: 1, modified: 1, baseline: false })
    t.same(await records(sql, 2), ['added r-900', 'modified r-3 [size]', 'removed r-7'])
    const after = await xmins(sql)
    const rewritten = [...after].filter(([id, x]) => before.get(id) !== x).map(([id]) => id)
    t.same(rewritten.sort(), ['r-3', 'r-900'], 'only the modified and the added row were written')
    t.equal(await digestCount(sql), 200, 'the digests follow the table')
    const again = await write(sql, rows, 3)
    t.same(
      again.changes,
      { added: 0, removed: 0, modified: 0, baseline: false },
      'an identical run changes nothing',
    )
  },
)

t.test('a hand edit, even one that keeps the row count, makes the next run compare every row', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(100), 1)
  t.ok(await hasEditGuard(sql, S, 'fleet'), 'a keyed table carries the edit guard')
  await write(sql, fleet(100), 2)
  t.equal(await edits(sql), 0, "the writer's own statements are not edits")
  await sql`update ${sql(S)}.fleet set size = 'tampered' where id = 'r-5'`
  t.equal(await edits(sql), 1, 'a hand UPDATE is counted')
  const w = await write(sql, fleet(100), 3)
  t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false }, 'compared in full')
  t.same(await records(sql, 3), ['modified r-5 [size]'])
  const [row] = await sql<{ size: string }[]>`select size from ${sql(S)}.fleet where id = 'r-5'`
  t.equal(row?.size, 'small', 'the row is what the run read')
  // Narrowed again: an edit nobody counted stays until the daily full comparison.
  await unseenEdit(sql, (tx) => tx`update ${tx(S)}.fleet set size = 'unseen' where id = 'r-6'`)
  const quick = await write(sql, fleet(100), 4)
  t.same(quick.changes?.modified, 0, 'the run after the full one was narrowed by the digests')
  await sql`truncate ${sql(S)}.fleet`
  const refilled = await write(sql, fleet(100), 5)
  t.same(
    refilled.changes,
    { added: 100, removed: 0, modified: 0, baseline: false },
    'TRUNCATE is an edit too',
  )
})

t.test('an edit that commits while a run writes is noticed by the run after it', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(100), 1)
  let commit = () => {}
  const held = new Promise<void>((r) => {
    commit = r
  })
  let editing = () => {}
  const edited = new Promise<void>((r) => {
    editing = r
  })
  // The edit's transaction stays open across the whole run, so the run reads the edits before it.
  const hand = sql.begin(async (tx) => {
    await tx`update ${tx(S)}.fleet set size = 'tampered' where id = 'r-5'`
    editing()
    await held
  })
  await edited
  const rows = fleet(100).map((r) => (r.id === 'r-7' ? { ...r, size: 'large' } : r))
  const during = await write(sql, rows, 2)
  t.same(
    during.changes,
    { added: 0, removed: 0, modified: 1, baseline: false },
    'the run wrote its own change',
  )
  t.same(await records(sql, 2), ['modified r-7 [size]'], 'and did not see the uncommitted edit')
  commit()
  await hand
  const after = await write(sql, rows, 3)
  t.same(
    after.changes,
    { added: 0, removed: 0, modified: 1, baseline: false },
    'the next run compares in full',
  )
  t.same(await records(sql, 3), ['modified r-5 [size]'])
})

t.test('a table without the edit guard is checked by its row count, and gets the guard', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(100), 1)
  // As a previous version left it: no trigger, no checked edits.
  await sql`drop trigger stackql_edit_guard on ${sql(S)}.fleet`
  await sql`update stackql_app.inventory_digest_sets set checked_edits = null`
  const same = await write(sql, fleet(100), 9)
  t.same(same.changes, { added: 0, removed: 0, modified: 0, baseline: false })
  const [set] = await sql<{ checked: string | null }[]>`
    select checked_edits::text as checked from stackql_app.inventory_digest_sets where target_table = 'fleet'`
  t.not(set?.checked, null, 'a run that changed nothing records the edits it began with')
  await sql`update ${sql(S)}.fleet set size = 'tampered' where id = 'r-3'`
  const noticed = await write(sql, fleet(100), 10)
  t.same(noticed.changes?.modified, 1, 'so the guard, put back by that run, noticed the next edit')
  await sql`drop trigger stackql_edit_guard on ${sql(S)}.fleet`
  await sql`update stackql_app.inventory_digest_sets set checked_edits = null`
  await sql`delete from ${sql(S)}.fleet where id = 'r-1'`
  const w = await write(sql, fleet(100), 2)
  t.same(
    w.changes,
    { added: 1, removed: 0, modified: 0, baseline: false },
    'the row count gave the edit away',
  )
  t.ok(await hasEditGuard(sql, S, 'fleet'), 'the guard is back')
  // A disabled trigger counts nothing: the row count decides, and the writer enables it again.
  await sql`alter table ${sql(S)}.fleet disable trigger stackql_edit_guard`
  await sql`delete from ${sql(S)}.fleet where id = 'r-2'`
  t.notOk(await hasEditGuard(sql, S, 'fleet'))
  const again = await write(sql, fleet(100), 3)
  t.same(again.changes, { added: 1, removed: 0, modified: 0, baseline: false })
  t.ok(await hasEditGuard(sql, S, 'fleet'), 'enabled again')
  await sql`update ${sql(S)}.fleet set size = 'tampered' where id = 'r-5'`
  const guarded = await write(sql, fleet(100), 4)
  t.same(guarded.changes?.modified, 1, 'from then on an edit that keeps the row count is noticed')
})

t.test('an edit the guard cannot see is repaired by the daily full comparison', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(100), 1)
  await unseenEdit(sql, (tx) => tx`delete from ${tx(S)}.fleet where id = 'r-9'`)
  const quick = await write(sql, fleet(100), 2)
  t.same(
    quick.changes?.added,
    0,
    'within the day the digests stand for the rows the writer wrote (the rows are not counted)',
  )
  await sql`update stackql_app.inventory_digest_sets set verified_at = now() - interval '25 hours'`
  const full = await write(sql, fleet(100), 3)
  t.same(full.changes, { added: 1, removed: 0, modified: 0, baseline: false })
  t.same(await records(sql, 3), ['added r-9'])
})

t.test('a table whose row count no longer matches its digests is compared in full', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(100), 1)
  await sql`delete from ${sql(S)}.fleet where id in ('r-1', 'r-2')`
  const w = await write(sql, fleet(100), 2)
  t.same(w.changes, { added: 2, removed: 0, modified: 0, baseline: false })
  t.same(await records(sql, 2), ['added r-1', 'added r-2'])
})

t.test(
  'a large table that lost a row behind the writer is compared in full; after a failed run the next one narrows',
  async (t) => {
    const { sql } = await testDb(t)
    const n = 70_000 // more than one pack (65,536 entries) of stored digests
    await write(sql, fleet(n), 1)
    await sql`delete from ${sql(S)}.fleet where id = 'r-69999'`
    const w = await write(sql, fleet(n), 2)
    t.same(w.changes, { added: 1, removed: 0, modified: 0, baseline: false }, 'the lost row is found')
    const rows = fleet(n).map((r, i) => (i === 69_000 ? { ...r, size: 'large' } : r))
    rows.push({ id: null, size: 'x', tags: null })
    await t.rejects(write(sql, rows, 3), /1 row\(s\) .* have no value in the key column\(s\) id/)
    // An edit the digests cannot see: it stays only if the next run is narrowed by them.
    await unseenEdit(sql, (tx) => tx`update ${tx(S)}.fleet set size = 'tampered' where id = 'r-5'`)
    const ok = await write(sql, rows.slice(0, n), 4)
    t.same(ok.changes, { added: 0, removed: 0, modified: 1, baseline: false })
    t.same(await records(sql, 4), ['modified r-69000 [size]'])
    const [r5] = await sql<{ size: string }[]>`select size from ${sql(S)}.fleet where id = 'r-5'`
    t.equal(r5?.size, 'tampered', 'the run after the failed one was narrowed by the digests')
  },
)

t.test('changed key columns rebuild the digest set under the new keys', async (t) => {
  const { sql } = await testDb(t)
  const rows = fleet(100).map((r, i) => ({ ...r, serial: `s-${i}` }))
  await write(sql, rows, 1)
  const moved = rows.map((r, i) => (i === 4 ? { ...r, size: 'large' } : r))
  const w = await write(sql, moved, 2, { keys: ['serial'] })
  t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false })
  const [set] = await sql<
    { key_columns: string[] }[]
  >`select key_columns from stackql_app.inventory_digest_sets`
  t.same(set?.key_columns, ['serial'])
  const next = await write(
    sql,
    moved.filter((r) => r.serial !== 's-9'),
    3,
    { keys: ['serial'] },
  )
  t.same(next.changes, { added: 0, removed: 1, modified: 0, baseline: false })
})

t.test(
  'duplicated and NULL keys fail on the digest path too, naming the keys, and keep the snapshot',
  async (t) => {
    const { sql } = await testDb(t)
    await write(sql, fleet(100), 1)
    const dup = [...fleet(100), { id: 'r-3', size: 'huge', tags: null }]
    await t.rejects(write(sql, dup, 2), /not unique in this run's rows .*"id": ?"r-3".*\(2 rows\)/)
    const nulls = [...fleet(99), { id: null, size: 'x', tags: null }]
    await t.rejects(write(sql, nulls, 3), /1 row\(s\) .* have no value in the key column\(s\) id/)
    t.equal(Number((await sql`select count(*) as n from ${sql(S)}.fleet`)[0]!.n), 100)
    t.same(await records(sql, 2), [])
    t.equal(await digestCount(sql), 100, 'the digests are those of the kept snapshot')
    const ok = await write(sql, fleet(100), 4)
    t.same(ok.changes, { added: 0, removed: 0, modified: 0, baseline: false })
  },
)

t.test(
  'fan-out slices: a partial run narrows within its slice and leaves the other slice and its digests alone',
  async (t) => {
    const { sql } = await testDb(t)
    const tagged = (profile: string, n: number): Row[] =>
      fleet(n).map((r) => ({ ...r, id: `${profile}-${r.id}`, _profile: profile }))
    await write(sql, [...tagged('prod', 60), ...tagged('dev', 60)], 1)
    const prod = tagged('prod', 60)
    prod[0] = { ...prod[0]!, size: 'large' }
    const w = await write(sql, prod.slice(0, 59), 2, { scope: { column: '_profile', values: ['prod'] } })
    t.same(w.changes, { added: 0, removed: 1, modified: 1, baseline: false })
    t.same(await records(sql, 2), ['modified prod-r-0 [size]', 'removed prod-r-59'])
    const counts = await sql<{ slice: string; n: string }[]>`
    select slice, count(*)::text as n from ${entries(sql)} where digest is not null
    group by slice order by slice`
    t.same(
      counts.map((c) => [c.slice, Number(c.n)]),
      [
        ['dev', 60],
        ['prod', 59],
      ],
    )
    const full = await write(sql, [...prod.slice(0, 59), ...tagged('dev', 60)], 3)
    t.same(full.changes, { added: 0, removed: 0, modified: 0, baseline: false })
  },
)

t.test('a write without keys drops the digest set; keys later start a new one', async (t) => {
  const { sql } = await testDb(t)
  await write(sql, fleet(50), 1)
  await write(sql, fleet(50), 2, { keys: [] })
  t.equal(await digestCount(sql), 0)
  t.equal((await sql`select 1 from stackql_app.inventory_digest_sets`).length, 0)
  const w = await write(sql, fleet(51), 3)
  t.same(w.changes, { added: 1, removed: 0, modified: 0, baseline: false })
  t.equal(await digestCount(sql), 51)
})

t.test(
  'a narrowed run whose changed rows widen a column compares every row; one that adds a column does not need to',
  async (t) => {
    const { sql } = await testDb(t)
    const rows = fleet(100).map((r, i) => ({ ...r, cores: String(i % 4) }))
    await write(sql, rows, 1)
    const widened = rows.map((r, i) => (i === 2 ? { ...r, cores: 'many' } : r))
    const w = await write(sql, widened, 2)
    t.same(w.widened, [{ column: 'cores', from: 'bigint', to: 'text' }])
    t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false })
    t.same(await records(sql, 2), ['modified r-2 [cores]'])
    const extra = widened.map((r, i) => (i === 5 ? { ...r, zone: 'a' } : r))
    const x = await write(sql, extra, 3)
    t.same(x.changes, { added: 0, removed: 0, modified: 1, baseline: false })
    t.same(await records(sql, 3), ['modified r-5 [zone]'])
    const [row] = await sql<{ zone: string | null; cores: string }[]>`
      select zone, cores from ${sql(S)}.fleet where id = 'r-5'`
    t.same(row, { zone: 'a', cores: '1' })
    t.equal(await digestCount(sql), 100)
  },
)

t.test(
  'a streamed run whose changed rows are wide is read again for them instead of holding them all',
  async (t) => {
    const { sql } = await testDb(t)
    const n = 200
    await write(sql, fleet(n), 1)
    // 40 changed rows of ~500k characters each: past the kept rows' character budget (16M).
    const wide = 'w'.repeat(500_000)
    t.ok(approxChars({ id: 'r-1', size: wide, tags: { env: 'dev' } }) > 500_000)
    t.ok(40 * 500_000 > RETAIN_CHARS)
    const changed = (i: number) => i % 5 === 0
    const run = async (runId: number, size: (i: number) => string) => {
      let passes = 0
      const source = {
        async *batches() {
          passes++
          yield fleet(n).map((r, i) => (changed(i) ? { ...r, size: size(i) } : r))
        },
      }
      const w = await writeInventory(
        sql,
        target,
        { columns: ['id', 'size', 'tags'], rows: source },
        { keys, record: { runId, scheduleId: null } },
      )
      return { changes: w.changes, passes }
    }
    const big = await run(2, (i) => `${wide}${i}`)
    t.same(big.changes, { added: 0, removed: 0, modified: 40, baseline: false })
    t.equal(big.passes, 3, 'compared, then read again for the changed rows: surveyed and staged')
    const [r] = await sql<{ n: string }[]>`
      select count(*)::text as n from ${sql(S)}.fleet where length(size) > 500000`
    t.equal(Number(r?.n), 40, 'the wide values were written')
    const small = await run(3, (i) => `medium-${i}`)
    t.same(small.changes, { added: 0, removed: 0, modified: 40, baseline: false })
    t.equal(small.passes, 1, 'small changed rows are kept from the comparison pass: the source is read once')
  },
)

t.test(
  'a streamed run with more changed rows than are kept in memory reads its source again for them',
  async (t) => {
    const { sql } = await testDb(t)
    const n = 90_000
    await write(sql, fleet(n), 1)
    // An edit the digests cannot see: it stays only if the run was narrowed by them.
    await unseenEdit(sql, (tx) => tx`update ${tx(S)}.fleet set size = 'tampered' where id = 'r-0'`)
    const changed = (i: number) => i % 4 === 1 && i < 88_000 // 22,000 rows: beyond the 20,000 kept
    let passes = 0
    const source = {
      async *batches() {
        passes++
        const all = fleet(n)
        for (let i = 0; i < n; i += 5000) {
          yield all.slice(i, i + 5000).map((r, j) => (changed(i + j) ? { ...r, size: 'large' } : r))
        }
      },
    }
    const w = await writeInventory(
      sql,
      target,
      { columns: ['id', 'size', 'tags'], rows: source },
      { keys, record: { runId: 2, scheduleId: null } },
    )
    t.same(w.changes, { added: 0, removed: 0, modified: 22_000, baseline: false })
    t.equal(passes, 3, 'compared, then read again for the changed rows: surveyed and staged')
    const sizes = await sql<{ size: string; n: string }[]>`
      select size, count(*)::text as n from ${sql(S)}.fleet group by size order by size`
    t.same(
      sizes.map((r) => [r.size, Number(r.n)]),
      [
        ['large', 22_000],
        ['small', n - 22_001],
        ['tampered', 1],
      ],
      'narrowed by the digests: only the changed rows were compared',
    )
    const again = await writeInventory(
      sql,
      target,
      { columns: ['id', 'size', 'tags'], rows: source },
      { keys, record: { runId: 3, scheduleId: null } },
    )
    t.same(again.changes, { added: 0, removed: 0, modified: 0, baseline: false }, 'the digests follow')
  },
)

t.test("the writer's key index follows the key: other keys, a widened key column, no keys", async (t) => {
  const { sql } = await testDb(t)
  const indexed = () => keyIndexColumns(sql, S, 'fleet')
  const rows = fleet(50).map((r, i) => ({ ...r, serial: String(i), _profile: 'prod' }))
  await write(sql, rows, 1)
  t.same(await indexed(), ['id'])
  await write(sql, rows, 2, { keys: ['_profile', 'serial'] })
  t.same(await indexed(), ['serial'], 'the first key column that is not the profile')
  const plan = await sql.begin(async (tx) => {
    await tx`set local enable_seqscan = off` // 50 rows: a scan would win otherwise
    return tx<{ 'QUERY PLAN': string }[]>`explain select * from ${tx(S)}.fleet where serial = 7`
  })
  t.match(plan[0]!['QUERY PLAN'], /Index Scan using stackql_key_|Bitmap Heap Scan/, 'lookups by key use it')
  const widened = rows.map((r, i) => (i === 3 ? { ...r, serial: 's-3' } : r))
  const w = await write(sql, widened, 3, { keys: ['_profile', 'serial'] })
  t.same(w.widened, [{ column: 'serial', from: 'bigint', to: 'text' }])
  t.same(w.changes, { added: 1, removed: 1, modified: 0, baseline: false }, 'another key: another row')
  t.same(await indexed(), ['serial'], 'a widened key column gets its index back in the same write')
  await write(sql, widened, 4, { keys: [] })
  t.equal(await indexed(), null, 'no keys, no index')
})

t.test(
  'digest packs: narrowed runs add to the overlay until it passes a quarter of the table, then the packs are rebuilt; a set without packs is compared in full',
  async (t) => {
    const { sql } = await testDb(t)
    const set = async () =>
      (
        await sql<{ write_version: string; packed_version: string | null; overlay: string }[]>`
          select write_version::text, entries_packed_version::text as packed_version, overlay::text from stackql_app.inventory_digest_sets`
      )[0]!
    const packed = async () =>
      Number(
        (
          await sql<
            { n: string }[]
          >`select coalesce(sum(entries), 0)::text as n from stackql_app.inventory_digest_packs`
        )[0]!.n,
      )
    await write(sql, fleet(100), 1)
    t.same(await set(), { write_version: '1', packed_version: '1', overlay: '0' })
    t.equal(await packed(), 100, 'the first run packs every entry')
    let rows = fleet(100)
    for (let run = 2; run <= 5; run++) {
      // each run: one row gone, one new, five modified = 7 overlay entries
      rows = rows.slice(1).concat(fleet(1, 100 + run))
      rows = rows.map((r, i) => (i < 5 ? { ...r, size: `s${run}` } : r))
      const w = await write(sql, rows, run)
      t.same(w.changes, { added: 1, removed: 1, modified: 5, baseline: false }, `run ${run}`)
    }
    t.same(
      await set(),
      { write_version: '5', packed_version: '5', overlay: '0' },
      'run 5 took the overlay past 25 entries (7 a run) and rebuilt the packs',
    )
    t.equal(await packed(), 100, 'tombstones are gone from the packs')
    t.equal(
      Number((await sql`select count(*) as n from ${entries(sql)} where digest is null`)[0]!.n),
      0,
      'and from the entries',
    )
    const same = await write(sql, rows, 7)
    t.same(same.changes, { added: 0, removed: 0, modified: 0, baseline: false })
    // A set as the previous version left it: entries, no packs.
    await sql`delete from stackql_app.inventory_digest_packs`
    await sql`update stackql_app.inventory_digest_sets set entries_packed_version = null`
    await sql`update ${sql(S)}.fleet set size = 'tampered' where id = ${rows[50]!.id as string}`
    const full = await write(sql, rows, 8)
    t.same(full.changes, { added: 0, removed: 0, modified: 1, baseline: false }, 'compared in full')
    t.equal(await packed(), 100, 'and packed again')
  },
)

t.test(
  'a digest set made by the previous version is migrated, compared in full once, then packed',
  async (t) => {
    const { sql } = await testDb(t)
    await write(sql, fleet(80), 1)
    // Back to the previous version's shape: entries in the shared table, no packs, no versions.
    await toSharedEntries(sql, 0)
    await sql`drop table stackql_app.inventory_digest_packs`
    await sql`drop index stackql_app.inventory_digests_overlay_idx`
    await sql`alter table stackql_app.inventory_digests drop column version`
    await sql`alter table stackql_app.inventory_digests alter column digest set not null`
    await sql`alter table stackql_app.inventory_digest_sets drop column write_version,
    drop column packed_version, drop column overlay`
    await applySchema(sql)
    await applySchema(sql)
    const rows = fleet(80).map((r, i) => (i === 9 ? { ...r, size: 'large' } : r))
    const w = await write(sql, rows, 2)
    t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false })
    const [set] = await sql<{ packed_version: string | null }[]>`
    select entries_packed_version::text as packed_version from stackql_app.inventory_digest_sets`
    t.ok(set?.packed_version, 'packed by that write')
    t.equal(await digestCount(sql), 80, 'into an entries table of its own')
    const shared = await sql`select 1 from stackql_app.inventory_digests where target_table = 'fleet'`
    t.equal(shared.length, 0, 'the shared rows are gone')
    const again = await write(sql, rows.slice(1), 3)
    t.same(again.changes, { added: 0, removed: 1, modified: 0, baseline: false }, 'and narrowed from then on')
  },
)

t.test(
  'a database of the previous version (entries and packs over the shared table) compares in full once, then narrows',
  async (t) => {
    const { sql } = await testDb(t)
    await write(sql, fleet(120), 1)
    // As a previous version left it: the full write's entries at its version in the shared table, a
    // version index over every entry; its packs and set as they were.
    await toSharedEntries(sql, 1)
    await sql`drop index stackql_app.inventory_digests_overlay_idx`
    await sql`create index inventory_digests_version_idx
      on stackql_app.inventory_digests (target_schema, target_table, version)`
    await applySchema(sql)
    await applySchema(sql)
    const indexes = await sql<{ indexname: string; indexdef: string }[]>`
      select indexname, indexdef from pg_indexes where tablename = 'inventory_digests' order by 1`
    t.same(
      indexes.map((i) => i.indexname),
      ['inventory_digests_overlay_idx', 'inventory_digests_pkey'],
    )
    t.match(indexes[0]!.indexdef, /WHERE \(version > 0\)/)
    // An edit the digests cannot see: a full comparison finds it, a narrowed one would not.
    await unseenEdit(sql, (tx) => tx`update ${tx(S)}.fleet set size = 'tampered' where id = 'r-7'`)
    const rows = fleet(120).map((r, i) => (i === 4 ? { ...r, size: 'large' } : r))
    const w = await write(sql, rows.slice(0, 119), 2)
    t.same(w.changes, { added: 0, removed: 1, modified: 2, baseline: false }, 'compared in full')
    t.same(await records(sql, 2), ['modified r-4 [size]', 'modified r-7 [size]', 'removed r-119'])
    t.equal(await digestCount(sql), 119, 'the set moved to an entries table of its own')
    const again = await write(sql, rows.slice(0, 118), 3)
    t.same(again.changes, { added: 0, removed: 1, modified: 0, baseline: false }, 'narrowed from then on')
    // A full write (the daily comparison) stores its entries outside the overlay index.
    await sql`update stackql_app.inventory_digest_sets set verified_at = now() - interval '25 hours'`
    await write(sql, rows.slice(0, 118), 4)
    const [v] = await sql<{ n: string }[]>`select count(*)::text as n from ${entries(sql)} where version > 0`
    t.equal(Number(v!.n), 0, 'a full write leaves nothing in the overlay')
    const last = await write(sql, rows.slice(1, 118), 5)
    t.same(last.changes, { added: 0, removed: 1, modified: 0, baseline: false })
  },
)

t.test(
  'an empty scoped write (a for_each finish retiring profiles) keeps the other slices: their digest set, the key index, narrowing',
  async (t) => {
    const { sql } = await testDb(t)
    const tagged = (profile: string | null, n: number): Row[] =>
      fleet(n).map((r) => ({ ...r, id: `${profile ?? 'none'}-${r.id}`, _profile: profile }))
    await write(sql, [...tagged('prod', 60), ...tagged('dev', 60), ...tagged(null, 10)], 1)
    const index = await keyIndexColumns(sql, S, 'fleet')
    t.ok(index, 'the key index is there')
    const retire = (runId: number, values: string[], orNull: boolean) =>
      writeInventory(
        sql,
        target,
        { columns: ['_profile', 'id'], rows: [] },
        {
          keys,
          record: { runId, scheduleId: null },
          scope: { column: '_profile', values, orNull },
        },
      )
    const r = await retire(2, ['dev'], true)
    t.same(r.changes, { added: 0, removed: 70, modified: 0, baseline: false })
    const slices = await sql<{ slice: string; n: string }[]>`
      select slice, count(*)::text as n from ${entries(sql)} where digest is not null
      group by slice order by slice`
    t.same(
      slices.map((c) => [c.slice, Number(c.n)]),
      [['prod', 60]],
      "the retired slices' entries went, the other slice's stayed",
    )
    const [set] = await sql<{ row_count: string }[]>`
      select row_count::text from stackql_app.inventory_digest_sets where target_table = 'fleet'`
    t.equal(Number(set?.row_count), 60, 'the set counts the rows left')
    t.same(await keyIndexColumns(sql, S, 'fleet'), index, 'the key index stayed')
    // An edit the digests cannot see: it stays only if the next run is narrowed by them.
    await unseenEdit(sql, (tx) => tx`update ${tx(S)}.fleet set size = 'tampered' where id = 'prod-r-5'`)
    const prod = tagged('prod', 60)
    prod[0] = { ...prod[0]!, size: 'large' }
    const w = await write(sql, prod, 3, { scope: { column: '_profile', values: ['prod'] } })
    t.same(w.changes, { added: 0, removed: 0, modified: 1, baseline: false })
    const [edited] = await sql<{ size: string }[]>`select size from ${sql(S)}.fleet where id = 'prod-r-5'`
    t.equal(edited?.size, 'tampered', "the slice's next run was narrowed by the kept digests")

    // A set that no longer matches the table (a row deleted behind the writer) is dropped instead.
    await sql`delete from ${sql(S)}.fleet where id = 'prod-r-7'`
    await retire(4, ['staging'], false)
    t.equal(await digestCount(sql), 0, 'a set out of date is dropped by the retiring write')
  },
)

t.test(
  'versions side by side: a previous version writing in between makes the next write compare in full; it cannot use this version’s sets',
  async (t) => {
    const { sql } = await testDb(t)
    await write(sql, fleet(60), 1)
    const [saved] = await sql<
      { packed: string | null; mine: string | null; entries: string; writes: string }[]
    >`
      select packed_version::text as packed, entries_packed_version::text as mine,
        entries_version::text as entries, write_version::text as writes from stackql_app.inventory_digest_sets`
    t.equal(saved?.packed, null, 'packed_version stays NULL: a previous version compares in full')
    t.equal(saved?.mine, '1')
    t.equal(saved?.entries, saved?.writes, 'the set records the write that kept its entries')
    // A previous version's write (as the writer: the edit guard does not count it) changed r-5, added
    // r-new and updated the set — but not this version's entries table.
    await unseenEdit(sql, async (tx) => {
      await tx`update ${tx(S)}.fleet set size = 'large' where id = 'r-5'`
      await tx`insert into ${tx(S)}.fleet (id, size) values ('r-new', 'small')`
      await tx`update stackql_app.inventory_digest_sets set write_version = write_version + 1,
        packed_version = write_version + 1, row_count = row_count + 1`
    })
    const w = await write(sql, fleet(60), 2)
    t.same(w.changes, { added: 0, removed: 1, modified: 1, baseline: false }, 'compared in full')
    t.same(await records(sql, 2), ['modified r-5 [size]', 'removed r-new'])
    const again = await write(sql, fleet(59), 3)
    t.same(again.changes, { added: 0, removed: 1, modified: 0, baseline: false }, 'and narrowed again after')
  },
)
