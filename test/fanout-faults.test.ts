// Faults in a fan-out run: one slice whose StackQL prints text instead of JSON fails alone (PARTIAL,
// the other slice's rows replaced, the failing slice's previous rows intact), one slice hanging, the
// shrink guard per slice, and the runner killed with SIGKILL in the middle of a fan-out leaves the
// table exactly as before the run.
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import t from 'tap'
import type { DbService } from '../src/db/db-service.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { runInventory } from '../src/services/inventory-run.js'
import { QueryService } from '../src/services/query-service.js'
import { testDb } from './helpers/db.js'
import { exitOf, spawnRunner } from './helpers/runner-process.js'
import { makeRunner, STANDIN, type Tap, tempDir } from './helpers/stackql.js'

/** A query service over the stand-in whose profiles' variables come from the database. */
function profileQueries(t: Tap, db: DbService, opts?: Parameters<typeof makeRunner>[1]) {
  const { runner } = makeRunner(t, opts)
  return new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: () => undefined }),
    loadProviderConfig: (p) => db.getProviderConfigFor(p),
    loadProfileVariables: (p) => db.getProfileVariablesFor(p),
  })
}

async function setVars(db: DbService, profile: string, vars: Record<string, string>) {
  for (const [name, value] of Object.entries(vars)) {
    await db.setProfileVariable({ provider: 'stackql_test', profile, name, value }, 'me')
  }
}

t.test(
  'one slice printing non-JSON: PARTIAL, the other slice written, its own previous rows intact',
  async (t) => {
    const { db, sql } = await testDb(t)
    await setVars(db, 'good', { mode: 'json', tag: 'good-1' })
    await setVars(db, 'garbled', { mode: 'json', tag: 'garbled-1' })
    const queries = profileQueries(t, db)
    const query = await db.saveQuery(
      {
        name: 'garbled',
        description: '',
        query_text:
          'SELECT tag, mode FROM stackql_test.util.garbled WHERE mode = {{ mode }} AND tag = {{ tag }}',
        provider: 'stackql_test',
      },
      'me',
    )
    const d = { db, sql, queries, log: { info() {}, warn() {}, error() {} } }
    const args = {
      queryId: query.id,
      targetSchema: 'stackql_inventory',
      targetTable: 'garbled',
      profiles: 'stackql_test/good,stackql_test/garbled',
    }
    const rows = async () =>
      [
        ...(await sql<{ tag: string; _profile: string }[]>`
      select tag, _profile from stackql_inventory.garbled order by _profile`),
      ].map((r) => ({ ...r }))

    t.equal((await runInventory(d, args)).status, 'SUCCESS')
    t.same(await rows(), [
      { tag: 'garbled-1', _profile: 'garbled' },
      { tag: 'good-1', _profile: 'good' },
    ])

    await setVars(db, 'good', { tag: 'good-2' })
    await setVars(db, 'garbled', { mode: 'text', tag: 'garbled-2' })
    const out = await runInventory(d, args)
    t.equal(out.status, 'PARTIAL', out.error ?? '')
    t.match(out.error, /1 of 2 profile slices failed \(stackql_test\/garbled\); their previous rows are kept/)
    const failed = out.slices!.find((s) => s.slice.profile === 'garbled')!
    t.equal(failed.status, 'FAILED')
    t.notMatch(failed.error, /Unexpected error|at .*\.ts:\d+/, 'a readable reason, no stack trace')
    t.same(
      await rows(),
      [
        { tag: 'garbled-1', _profile: 'garbled' },
        { tag: 'good-2', _profile: 'good' },
      ],
      'good replaced, garbled’s last good row kept',
    )
    const recorded = (await db.getRunSlices([out.runId!])).get(out.runId!)!
    t.same(
      recorded.map((s) => `${s.profile}:${s.status}`),
      ['garbled:FAILED', 'good:SUCCESS'],
    )
  },
)

t.test('one slice hanging past the timeout: PARTIAL, the hanging slice’s previous rows intact', async (t) => {
  const { db, sql } = await testDb(t)
  await setVars(db, 'fast', { secs: '0' })
  await setVars(db, 'slow', { secs: '0' })
  const queries = profileQueries(t, db, { timeoutMs: 4000 })
  const query = await db.saveQuery(
    {
      name: 'sleepy',
      description: '',
      query_text: 'SELECT slept FROM stackql_test.util.sleep WHERE seconds = {{ secs }}',
      provider: 'stackql_test',
    },
    'me',
  )
  const d = { db, sql, queries, log: { info() {}, warn() {}, error() {} } }
  const args = {
    queryId: query.id,
    targetSchema: 'stackql_inventory',
    targetTable: 'sleepy',
    profiles: 'stackql_test/fast,stackql_test/slow',
  }
  t.equal((await runInventory(d, args)).status, 'SUCCESS')
  await setVars(db, 'fast', { secs: '1' })
  await setVars(db, 'slow', { secs: '60' })
  const out = await runInventory(d, args)
  t.equal(out.status, 'PARTIAL', out.error ?? '')
  t.match(
    out.slices!.find((s) => s.slice.profile === 'slow')!.error,
    /stackql_test\/slow: .*(timed out|took longer|timeout)/i,
  )
  const rows = await sql<{ slept: string; _profile: string }[]>`
    select slept::text, _profile from stackql_inventory.sleepy order by _profile`
  t.same(
    rows.map((r) => `${r._profile}:${r.slept}`),
    ['fast:1', 'slow:0'],
    'fast replaced; slow keeps the row of its last good run',
  )
})

t.test(
  'the shrink guard holds per slice: a slice that shrank too much fails alone, its rows kept',
  async (t) => {
    const { db, sql } = await testDb(t)
    await setVars(db, 'steady', { n: '10' })
    await setVars(db, 'shrinking', { n: '10' })
    const queries = profileQueries(t, db)
    const query = await db.saveQuery(
      {
        name: 'guarded',
        description: '',
        query_text: 'SELECT id, name FROM stackql_test.util.rows WHERE count = {{ n }}',
        provider: 'stackql_test',
      },
      'me',
    )
    const schedule = await db.saveSchedule({
      query_id: query.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'guarded',
      profiles: ['stackql_test/steady', 'stackql_test/shrinking'],
      shrink_guard_pct: 50,
    })
    const d = { db, sql, queries, log: { info() {}, warn() {}, error() {} } }
    const args = {
      queryId: query.id,
      scheduleId: schedule.id,
      targetSchema: 'stackql_inventory',
      targetTable: 'guarded',
    }
    const counts = async () =>
      Object.fromEntries(
        (
          await sql<{ p: string; n: number }[]>`
          select _profile as p, count(*)::int as n from stackql_inventory.guarded group by 1`
        ).map((r) => [r.p, r.n]),
      )
    t.equal((await runInventory(d, args)).status, 'SUCCESS', 'the first run creates the table')
    t.same(await counts(), { shrinking: 10, steady: 10 })

    await setVars(db, 'steady', { n: '12' })
    await setVars(db, 'shrinking', { n: '3' })
    const out = await runInventory(d, args)
    t.equal(out.status, 'PARTIAL', out.error ?? '')
    const refused = out.slices!.find((s) => s.slice.profile === 'shrinking')!
    t.equal(refused.status, 'FAILED')
    t.match(
      refused.error,
      /^stackql_test\/shrinking: Shrink guard: the new snapshot has 3 rows, 30% of the previous 10 rows, and this schedule refuses less than 50% \(stackql_inventory\.guarded \(stackql_test\/shrinking\) keeps its previous 10 rows\)/,
    )
    t.same(await counts(), { shrinking: 10, steady: 12 }, 'steady replaced, shrinking kept')
    const recorded = (await db.getRunSlices([out.runId!])).get(out.runId!)!
    t.same(
      recorded.map((r) => `${r.profile}:${r.status}`),
      ['shrinking:FAILED', 'steady:SUCCESS'],
    )

    await setVars(db, 'shrinking', { n: '6' })
    t.equal((await runInventory(d, args)).status, 'SUCCESS', '60% of the previous rows passes a 50% guard')
    t.same(await counts(), { shrinking: 6, steady: 12 })
    await setVars(db, 'steady', { n: '0' })
    await setVars(db, 'shrinking', { n: '0' })
    const none = await runInventory(d, args)
    t.equal(none.status, 'FAILED', 'every slice refused: the run fails and the table is untouched')
    t.same(await counts(), { shrinking: 6, steady: 12 })
    await db.updateSchedule(schedule.id, { shrink_guard_pct: null })
    await setVars(db, 'steady', { n: '1' })
    t.equal((await runInventory(d, args)).status, 'SUCCESS', 'with the guard off the drop is written')
    t.same(await counts(), { steady: 1 })
    t.same(
      readdirSync(tmpdir()).filter((f) => f.startsWith(`stackql-spool-${process.pid}-`)),
      [],
      'every slice was spooled to a file, and every file is gone after its run (refused ones too)',
    )
  },
)

t.test('SIGKILL of the runner mid-fan-out: the table is as before the run', async (t) => {
  const { db, sql, url } = await testDb(t)
  const profiles = ['east', 'west', 'south']
  for (const p of profiles) await setVars(db, p, { count: '2000' })
  const query = await db.saveQuery(
    {
      name: 'many',
      description: '',
      query_text: 'SELECT id, name, region FROM stackql_test.util.rows WHERE count = {{ count }}',
      provider: 'stackql_test',
    },
    'me',
  )
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tempDir(t, 'fanout-kill-home-'),
    DATABASE_URL: url,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'fanout-kill-runner-'),
    LOG_LEVEL: 'warn',
    SLICE_CONCURRENCY: '3',
  }
  const runner = () =>
    spawnRunner(
      [
        '--query-id',
        String(query.id),
        '--target-schema',
        'stackql_inventory',
        '--target-table',
        'fanned',
        '--profiles',
        profiles.map((p) => `stackql_test/${p}`).join(','),
      ],
      env,
    )

  const first = await exitOf(runner())
  t.equal(first.code, 0, first.output)
  const snapshot = async () =>
    (
      await sql`select count(*)::int as n, md5(string_agg(_profile || id || name, ',' order by _profile, id)) as digest
      from stackql_inventory.fanned`
    )[0]!
  const previous = await snapshot()
  t.equal(previous.n, 6000)

  for (const p of profiles) await setVars(db, p, { count: '120000' })
  const child = runner()
  const exited = exitOf(child)
  let copying = 0
  for (let i = 0; i < 3000 && copying === 0; i++) {
    const [p] = await sql<{ n: number }[]>`
      select coalesce(max(tuples_processed), 0)::int as n from pg_stat_progress_copy
      where datname = current_database()`
    copying = p!.n
    if (copying === 0) await new Promise((r) => setTimeout(r, 20))
  }
  t.ok(copying > 0, `the runner was writing the slices' rows (${copying} sent)`)
  child.kill('SIGKILL')
  const killed = await exited
  t.equal(killed.signal, 'SIGKILL')
  t.same(await snapshot(), previous, 'every profile’s previous rows, none of the new ones')
  const runs = await sql<{ status: string }[]>`
    select status from stackql_app.runs where query_id = ${query.id} order by id`
  t.same(
    runs.map((r) => r.status),
    ['SUCCESS', 'RUNNING'],
    'the killed run stays RUNNING until the abandoned-run sweep fails it',
  )
})
