// Finding 8 of issue 12 (writer details): widening without a table rewrite (MVCC-safe for an older
// REPEATABLE READ snapshot, with its documented limit), a lock per target instead of per schema,
// lock and statement timeouts, and a cancelled run with an empty result that does not commit.
import postgres from 'postgres'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { writeInventory } from '../src/db/inventory-writer.js'
import { testDb } from './helpers/db.js'

const S = 'stackql_inventory'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves to 'timeout' when `p` takes longer than `ms` (today's code would wait forever). */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'timeout' as const)])

t.test(
  'finding 8: widening does not rewrite the table — an older REPEATABLE READ snapshot still sees its rows',
  async (t) => {
    const { sql, url } = await testDb(t)
    const target = { schema: S, table: 'disks' }
    await writeInventory(sql, target, {
      columns: ['id', 'size'],
      rows: [
        { id: '1', size: '10' },
        { id: '2', size: '20' },
      ],
    })
    const filenode = async () =>
      (await sql`select pg_relation_filenode('stackql_inventory.disks')::text as f`)[0]!.f
    const before = await filenode()
    const rr = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => rr.end())
    let release!: () => void
    const released = new Promise<void>((r) => {
      release = r
    })
    const reading = rr.begin('isolation level repeatable read', async (tx) => {
      await tx`select 1` // the snapshot is taken here, before the writer commits
      await released
      return [...(await tx`select id, size from stackql_inventory.disks order by id`)]
    })
    await sleep(100)
    const r = await writeInventory(sql, target, {
      columns: ['id', 'size'],
      rows: [{ id: '3', size: 'large' }],
    })
    t.same(r.widened, [{ column: 'size', from: 'bigint', to: 'text' }])
    t.equal(await filenode(), before, 'the table was not rewritten (same storage file)')
    release()
    const old = await reading
    t.same(
      old.map((x) => x.id),
      [1, 2],
      'the older snapshot sees its rows, not an empty table',
    )
    t.same(
      old.map((x) => x.size),
      [null, null],
      'the documented limit: in that older snapshot the widened column reads NULL',
    )
    t.same([...(await sql`select id, size from stackql_inventory.disks`)], [{ id: 3, size: 'large' }])
  },
)

t.test('finding 8: writers of different tables in one schema do not wait for each other', async (t) => {
  const { sql, url } = await testDb(t)
  await writeInventory(sql, { schema: S, table: 'slow' }, { columns: ['id'], rows: [{ id: '1' }] })
  const blocker = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => blocker.end())
  let release!: () => void
  const held = new Promise<void>((r) => {
    release = r
  })
  let locked!: () => void
  const isLocked = new Promise<void>((r) => {
    locked = r
  })
  // A long reader of `slow` holds up its writer (who then holds its own lock while it waits).
  const holding = blocker.begin(async (tx) => {
    await tx`lock table stackql_inventory.slow in access exclusive mode`
    locked()
    await held
  })
  await isLocked
  const slowWrite = writeInventory(
    sql,
    { schema: S, table: 'slow' },
    { columns: ['id'], rows: [{ id: '2' }] },
  )
  slowWrite.catch(() => {})
  await sleep(200)
  const other = await within(
    writeInventory(sql, { schema: S, table: 'other' }, { columns: ['id'], rows: [{ id: '9' }] }),
    5000,
  )
  t.not(other, 'timeout', 'the writer of another table of the schema finished while the first waited')
  release()
  await holding
  t.equal((await slowWrite).rowCount, 1)
})

t.test(
  'finding 8: a write that waits longer than the lock timeout fails clearly and keeps the data',
  async (t) => {
    const { sql, url } = await testDb(t)
    const target = { schema: S, table: 'locked' }
    await writeInventory(sql, target, { columns: ['id'], rows: [{ id: '1' }] })
    const blocker = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => blocker.end())
    await blocker`begin`
    await blocker`lock table stackql_inventory.locked in access share mode`
    // A schema change (a new column) needs ACCESS EXCLUSIVE, which the reader's lock holds up.
    const err = await within(
      writeInventory(
        sql,
        target,
        { columns: ['id', 'extra'], rows: [{ id: '2', extra: 'x' }] },
        { lockTimeoutMs: 300 },
      ).catch((e) => e),
      5000,
    )
    await blocker`rollback`
    t.not(err, 'timeout')
    t.equal(err.code, 'CONFLICT')
    t.match(err.message, /waited longer than 300 ms for a lock/)
    t.match(err.message, /INVENTORY_LOCK_TIMEOUT_MS/)
    t.same([...(await sql`select id from stackql_inventory.locked`)], [{ id: 1 }])
  },
)

t.test(
  'finding 8: a statement running past the statement timeout is stopped and the data kept',
  async (t) => {
    const { sql } = await testDb(t)
    const target = { schema: S, table: 'timed' }
    await writeInventory(sql, target, { columns: ['id'], rows: [{ id: '1' }] })
    await sql`create materialized view stackql_inventory.timed_mv as
    select id, pg_sleep(1)::text as slept from stackql_inventory.timed`
    const err = await writeInventory(
      sql,
      target,
      { columns: ['id'], rows: [{ id: '2' }] },
      { statementTimeoutMs: 200 },
    ).catch((e) => e)
    t.equal(err.code, 'DB_ERROR')
    t.match(err.message, /took longer than 200 ms for one statement/)
    t.match(err.message, /INVENTORY_STATEMENT_TIMEOUT_MS/)
    t.same([...(await sql`select id from stackql_inventory.timed`)], [{ id: 1 }])
  },
)

t.test('finding 8: a run cancelled with an empty result does not commit', async (t) => {
  const { sql, url } = await testDb(t)
  const target = { schema: S, table: 'keep' }
  await writeInventory(sql, target, { columns: ['id'], rows: [{ id: '1' }, { id: '2' }] })
  const blocker = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => blocker.end())
  await blocker`begin`
  await blocker`lock table stackql_inventory.keep in access exclusive mode`
  const ac = new AbortController()
  const writing = writeInventory(sql, target, { columns: [], rows: [] }, { signal: ac.signal }).catch(
    (e) => e,
  )
  await sleep(200) // the write is under way (waiting on the table) when the run is cancelled
  ac.abort()
  await blocker`commit`
  const err = await writing
  t.equal(err?.code, 'STACKQL_CANCELLED')
  t.same([...(await sql`select count(*)::int as n from stackql_inventory.keep`)], [{ n: 2 }])
})

t.test(
  'finding 8: INVENTORY_LOCK_TIMEOUT_MS and INVENTORY_STATEMENT_TIMEOUT_MS are read with defaults',
  async (t) => {
    t.same(loadConfig({}).inventoryWriter, { lockTimeoutMs: 30_000, statementTimeoutMs: 600_000 })
    t.same(
      loadConfig({ INVENTORY_LOCK_TIMEOUT_MS: '500', INVENTORY_STATEMENT_TIMEOUT_MS: '0' }).inventoryWriter,
      { lockTimeoutMs: 500, statementTimeoutMs: 0 },
    )
    t.throws(() => loadConfig({ INVENTORY_LOCK_TIMEOUT_MS: '5s' }), /INVENTORY_LOCK_TIMEOUT_MS is invalid/)
  },
)
