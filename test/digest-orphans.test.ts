// The digests of inventory tables dropped by hand (digest-orphans.ts): their set, packs, entries
// table and shared legacy rows go with the run's housekeeping — never those of a table that exists,
// nor of one a writer holds right now.
import t from 'tap'
import { entriesTable } from '../src/db/digest-entries.js'
import { dropOrphanDigests } from '../src/db/digest-orphans.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import { TARGET_LOCK_CLASS } from '../src/db/target-lock.js'
import { runInventory } from '../src/services/inventory-run.js'
import { buildTestApp } from './helpers/app.js'
import { testDb } from './helpers/db.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const S = 'stackql_inventory'
const columns = ['id', 'size']
const keys = ['id']
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r-${i}`, size: 's' }))

type Sql = Awaited<ReturnType<typeof testDb>>['sql']

/** What the writer keeps about a table: its set, packs, entries table and legacy shared rows. */
async function kept(sql: Sql, table: string) {
  const [r] = await sql<{ sets: number; packs: number; legacy: number; entries: boolean }[]>`
    select (select count(*)::int from stackql_app.inventory_digest_sets
            where target_schema = ${S} and target_table = ${table}) as sets,
           (select count(*)::int from stackql_app.inventory_digest_packs
            where target_schema = ${S} and target_table = ${table}) as packs,
           (select count(*)::int from stackql_app.inventory_digests
            where target_schema = ${S} and target_table = ${table}) as legacy,
           to_regclass(${`stackql_app.${entriesTable(S, table)}`}) is not null as entries`
  return r!
}

async function keyedTable(sql: Sql, table: string): Promise<void> {
  await writeInventory(sql, { schema: S, table }, { columns, rows: rows(20) }, { keys })
  // A row of the previous version's shared entries table, as a database it made may still hold.
  await sql`insert into stackql_app.inventory_digests (target_schema, target_table, key_hash, row_key, digest)
    values (${S}, ${table}, 1, 'r-legacy', 2)`
}

t.test('a dropped table loses its digests; a table that exists keeps them', async (t) => {
  const { sql } = await testDb(t)
  await keyedTable(sql, 'dropped')
  await keyedTable(sql, 'standing')
  t.same(await kept(sql, 'dropped'), { sets: 1, packs: 1, legacy: 1, entries: true }, 'kept while it exists')
  await sql`drop table ${sql(S)}.dropped`
  t.same(await dropOrphanDigests(sql), [{ schema: S, table: 'dropped' }])
  t.same(await kept(sql, 'dropped'), { sets: 0, packs: 0, legacy: 0, entries: false }, 'all of it went')
  t.same(await kept(sql, 'standing'), { sets: 1, packs: 1, legacy: 1, entries: true }, 'the other stays')
  t.same(await dropOrphanDigests(sql), [], 'nothing left to drop')
  // The standing table's next run still narrows by its digests: nothing changed, nothing written.
  const w = await writeInventory(
    sql,
    { schema: S, table: 'standing' },
    { columns, rows: rows(20) },
    { keys, record: { runId: 7, scheduleId: null } },
  )
  t.same(w.changes, { added: 0, removed: 0, modified: 0, baseline: false })
  // A table made again under the dropped name starts from a baseline, with a new set.
  const again = await writeInventory(
    sql,
    { schema: S, table: 'dropped' },
    { columns, rows: rows(3) },
    { keys },
  )
  t.same(again.changes, { added: 3, removed: 0, modified: 0, baseline: true })
  t.same(await kept(sql, 'dropped'), { sets: 1, packs: 1, legacy: 0, entries: true })
})

t.test('a table whose writer holds its lock is left for the next run', async (t) => {
  const { sql } = await testDb(t)
  await keyedTable(sql, 'busy')
  await sql`drop table ${sql(S)}.busy`
  const writer = await sql.reserve()
  t.teardown(() => writer.release())
  await writer`begin`
  await writer`select pg_advisory_xact_lock(${TARGET_LOCK_CLASS}, hashtext(${`${S}.busy`}))`
  t.same(await dropOrphanDigests(sql), [], 'skipped, without waiting')
  t.equal((await kept(sql, 'busy')).sets, 1)
  await writer`commit`
  t.same(await dropOrphanDigests(sql), [{ schema: S, table: 'busy' }], 'dropped once the lock is free')
})

t.test('a run drops the digests of a table dropped by hand, and says so in its log', async (t) => {
  const { app } = await buildTestApp(t, {
    env: { STACKQL_BIN: STANDIN, STACKQL_DOWNLOAD_DIR: tempDir(t, 'orphans-') },
  })
  await keyedTable(app.sql, 'old_vms')
  await app.sql`drop table ${app.sql(S)}.old_vms`
  const query = await app.db.saveQuery(
    {
      name: 'Rows',
      description: '',
      query_text: "SELECT id, name FROM stackql_test.util.rows WHERE count = '2'",
      provider: 'stackql_test',
    },
    'dev@example.com',
  )
  const infos: unknown[] = []
  const log = { info: (o: unknown) => infos.push(o), warn: () => {}, error: () => {} }
  const out = await runInventory(
    { db: app.db, sql: app.sql, queries: app.queries, log },
    { queryId: query.id, targetSchema: S, targetTable: 'new_rows' },
  )
  t.equal(out.status, 'SUCCESS')
  t.same(await kept(app.sql, 'old_vms'), { sets: 0, packs: 0, legacy: 0, entries: false })
  t.ok(
    infos.some((o) => JSON.stringify(o).includes(`"tables":["${S}.old_vms"]`)),
    'the run logs the table whose digests went',
  )
})
