// The runner's fault suite for issue 12 finding 1, end to end through the runner CLI: StackQL
// printing rows AND an error must not replace the inventory, with or without a shrink guard.
// (Its own file: test/faults.test.ts is near tap's per-file timeout.)
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import t from 'tap'
import { runInventory } from '../src/services/inventory-run.js'
import { buildTestApp } from './helpers/app.js'
import { runnerArgv } from './helpers/runner-process.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const stackqlEnv = (t: { teardown(fn: () => unknown): void }) => ({
  STACKQL_BIN: STANDIN,
  STACKQL_DOWNLOAD_DIR: tempDir(t, 'faults-snapshots-'),
})

t.test(
  'finding 1 (partial output): rows + an error on stderr + exit 1 leave the previous snapshot intact, the run FAILED with StackQL’s text',
  async (t) => {
    const { app, url, session } = await buildTestApp(t, { env: stackqlEnv(t) })
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    t.teardown(() => sql.end({ timeout: 1 }))
    const save = (name: string, query_text: string) =>
      app.db.saveQuery({ name, description: '', query_text, provider: 'stackql_test' }, 'dev@example.com')
    const full = await save('full', "SELECT id, name, region FROM stackql_test.util.rows WHERE count = '30'")
    const partial = await save('partial', "SELECT * FROM stackql_test.util.partial WHERE count = '30'")
    const fewer = await save(
      'fewer',
      "SELECT id, name, region FROM stackql_test.util.rows WHERE count = '20'",
    )
    const schedule = await app.db.saveSchedule({
      query_id: full.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'partial_rows',
    })
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: tempDir(t, 'faults-home-'),
      DATABASE_URL: url,
      STACKQL_BIN: STANDIN,
      STACKQL_DOWNLOAD_DIR: tempDir(t, 'faults-runner-'),
      LOG_LEVEL: 'warn',
    }
    const cli = (queryId: number) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            ...runnerArgv(),
            ...['--query-id', String(queryId), '--target-schema', 'stackql_inventory'],
            ...['--target-table', 'partial_rows'],
          ],
          { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
        )
        let stderr = ''
        child.stderr!.on('data', (d) => {
          stderr += d
        })
        child.on('exit', (code) => resolve({ code, stderr }))
      })
    const snapshot = async () =>
      (
        await sql`select count(*)::int as n, md5(string_agg(id || name || region, ',' order by id)) as digest
          from stackql_inventory.partial_rows`
      )[0]!
    const lastRun = async () =>
      (
        await sql<{ status: string; error: string | null; row_count: number | null }[]>`
        select status, error, row_count from stackql_app.runs order by id desc limit 1`
      )[0]!

    // The previous snapshot and the guard-only case run in this process (each CLI start costs seconds).
    const quiet = { info: () => {}, warn: () => {}, error: () => {} }
    const inProcess = (queryId: number) =>
      runInventory(
        { db: app.db, sql: app.sql, queries: app.queries, log: quiet },
        { queryId, targetSchema: 'stackql_inventory', targetTable: 'partial_rows' },
      )
    t.match(await inProcess(full.id), { status: 'SUCCESS', rowCount: 30 })
    const previous = await snapshot()
    t.equal(previous.n, 30)

    for (const guard of [null, 90]) {
      await app.db.updateSchedule(schedule.id, { shrink_guard_pct: guard })
      const r = await cli(partial.id)
      const label = guard ? 'under a 90% shrink guard' : 'without a shrink guard'
      t.equal(r.code, 1, `${label}: the runner exits 1`)
      t.match(r.stderr, /^Incomplete result: StackQL printed 10 rows but reported an error[^\n]*\n$/, label)
      t.match(r.stderr, /StackQL: error: http response status code: 403, response body: /)
      t.same(await snapshot(), previous, `${label}: the previous 30 rows are intact`)
      t.match(await lastRun(), { status: 'FAILED', row_count: null, error: r.stderr.trim() })
    }

    const shrunk = await inProcess(fewer.id)
    t.equal(shrunk.status, 'FAILED')
    t.match(
      shrunk.error,
      /^Shrink guard: the new snapshot has 20 rows, 66\.6% of the previous 30 rows, and this schedule refuses less than 90%/,
    )
    t.same(await snapshot(), previous, 'a complete but much smaller snapshot is refused too')

    const row = await session.htmx('GET', `/schedules/${schedule.id}`)
    t.match(row.body, /data-status="FAILED"/)
    t.match(row.body, /Shrink guard: the new snapshot has 20 rows/, 'the row says why it failed')
  },
)
