import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import type { DbService } from '../src/db/db-service.js'
import type { Run, Schedule } from '../src/models.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { runInventory } from '../src/services/inventory-run.js'
import { createLocalRunLauncher } from '../src/services/local-runner.js'
import { QueryService } from '../src/services/query-service.js'
import { testDb } from './helpers/db.js'
import { awsAccountFor, makeRunner, processGone, STANDIN, type Tap, waitUntil } from './helpers/stackql.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

function captureLog() {
  const lines: string[] = []
  const write = (level: string) => (obj: Record<string, unknown>, msg: string) =>
    lines.push(`${level} ${msg} ${JSON.stringify(obj)}`)
  return { lines, info: write('info'), warn: write('warn'), error: write('error') }
}

function deps(t: Tap, db: DbService, sql: import('../src/db/connect.js').Sql) {
  const { runner } = makeRunner(t)
  const queries = new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: () => undefined }),
    loadProviderConfig: (p) => db.getProviderConfigFor(p),
  })
  return { db, sql, queries, log: captureLog() }
}

const rowsQuery = (count: number, cols = '*') =>
  `SELECT ${cols} FROM stackql_test.util.rows WHERE count = '${count}'`

async function runsOf(db: DbService): Promise<Run[]> {
  return db.use((sql) => sql<Run[]>`select * from stackql_app.runs order by id`)
}

t.test('runInventory', async (t) => {
  const { db, sql } = await testDb(t)
  const d = deps(t, db, sql)
  const query = await db.saveQuery(
    { name: 'rows', description: '', query_text: rowsQuery(5, 'id, name'), provider: 'stackql_test' },
    'me@example.com',
  )
  const schedule = await db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'resources',
  })
  const args = { queryId: query.id, targetSchema: 'stackql_inventory', targetTable: 'resources' }

  t.test('the first run creates the table and records SUCCESS on the run and the schedule', async (t) => {
    const outcome = await runInventory(d, args)
    t.match(outcome, { status: 'SUCCESS', rowCount: 5 })
    t.same([...(await sql`select count(*)::int as n from stackql_inventory.resources`)], [{ n: 5 }])
    const [r] = (await runsOf(db)).filter((x) => x.id === outcome.runId)
    t.match(r, { status: 'SUCCESS', row_count: 5, schedule_id: schedule.id, query_id: query.id, error: null })
    t.ok(r!.finished_at)
    const s = await db.getSchedule(schedule.id)
    t.equal(s!.last_run_status, 'SUCCESS')
    t.ok(s!.last_run_at)
  })

  t.test('the second run replaces the rows, adds the new column and refreshes <table>_mv', async (t) => {
    await sql`create materialized view stackql_inventory.resources_mv as
      select count(*)::int as n from stackql_inventory.resources`
    await db.updateQuery(query.id, {
      name: 'rows',
      description: '',
      query_text: rowsQuery(8, 'id, name, region'),
      provider: 'stackql_test',
    })
    const outcome = await runInventory(d, { ...args, scheduleId: schedule.id })
    t.match(outcome, { status: 'SUCCESS', rowCount: 8 })
    t.same([...(await sql`select n from stackql_inventory.resources_mv`)], [{ n: 8 }])
    const [row] = await sql`select id, name, region from stackql_inventory.resources order by id limit 1`
    t.same(row, { id: 1, name: 'resource-1', region: 'us-east-1' })
  })

  t.test(
    'a failing query records FAILED with the raw StackQL message and leaves the table untouched',
    async (t) => {
      await db.updateQuery(query.id, {
        name: 'rows',
        description: '',
        query_text: 'SELECT id FROM stackql_test.util.rows',
        provider: 'stackql_test',
      })
      const outcome = await runInventory(d, args)
      t.equal(outcome.status, 'FAILED')
      t.match(
        outcome.error,
        /^cannot find matching operation, possible causes include missing required parameters/,
      )
      t.notMatch(outcome.error, /\n/)
      const [r] = (await runsOf(db)).filter((x) => x.id === outcome.runId)
      t.match(r, { status: 'FAILED', error: outcome.error })
      t.equal((await db.getSchedule(schedule.id))!.last_run_status, 'FAILED')
      t.equal((await db.getSchedule(schedule.id))!.last_error, outcome.error)
      t.same([...(await sql`select count(*)::int as n from stackql_inventory.resources`)], [{ n: 8 }])
    },
  )

  t.test('non-SELECT statements are refused before they run', async (t) => {
    await db.updateQuery(query.id, {
      name: 'rows',
      description: '',
      query_text: "DELETE FROM aws.ec2.instances WHERE region = 'us-east-1'",
      provider: 'stackql_test',
    })
    const outcome = await runInventory(d, args)
    t.match(outcome, {
      status: 'FAILED',
      error: /starts with "DELETE".*Only SELECT queries|Only SELECT queries.*"DELETE"/,
    })
  })

  t.test(
    'what a schedule accepts, the runner runs: WITH ... SELECT and a parenthesised SELECT',
    async (t) => {
      for (const query_text of [
        "WITH x AS (SELECT 1) SELECT * FROM stackql_test.util.rows WHERE count = '3'",
        "(SELECT * FROM stackql_test.util.rows WHERE count = '3')",
      ]) {
        await db.updateQuery(query.id, {
          name: 'rows',
          description: '',
          query_text,
          provider: 'stackql_test',
        })
        const outcome = await runInventory(d, args)
        t.notMatch(String(outcome.error ?? ''), /Only SELECT/, query_text)
      }
    },
  )

  t.test('every invocation gets a run record, also when the query or the target is wrong', async (t) => {
    const before = (await runsOf(db)).length
    t.match(await runInventory(d, { ...args, queryId: 9999 }), {
      status: 'FAILED',
      error: 'Query 9999 does not exist.',
    })
    t.match(await runInventory(d, { ...args, targetSchema: 'stackql_app' }), {
      status: 'FAILED',
      error: /reserved/,
    })
    t.match(await runInventory(d, { ...args, targetTable: 'Robert"); drop' }), {
      status: 'FAILED',
      error: /Invalid table name/,
    })
    t.match(await runInventory(d, { ...args, scheduleId: 4242 }), {
      status: 'FAILED',
      error: 'Schedule 4242 does not exist.',
    })
    t.match(await runInventory(d, { ...args, targetTable: 'other', scheduleId: schedule.id }), {
      status: 'FAILED',
      error: /writes to stackql_inventory\.resources, not stackql_inventory\.other/,
    })
    const runs = (await runsOf(db)).slice(before)
    t.equal(runs.length, 5)
    t.ok(runs.every((r) => r.status === 'FAILED' && r.finished_at && r.error))
    t.equal(runs[0]!.query_id, null, 'a missing query is recorded without a dangling reference')
  })

  t.test('an aborted run is recorded as cancelled', async (t) => {
    await db.updateQuery(query.id, {
      name: 'rows',
      description: '',
      query_text: "SELECT * FROM stackql_test.util.sleep WHERE seconds = '20'",
      provider: 'stackql_test',
    })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 500)
    const outcome = await runInventory(d, args, ac.signal)
    t.match(outcome, { status: 'FAILED', error: 'cancelled' })
    t.match((await runsOf(db)).at(-1), { status: 'FAILED', error: 'cancelled' })
  })
})

t.test('finding 1 (partial output): only a complete result becomes a snapshot', async (t) => {
  const { db, sql } = await testDb(t)
  const d = deps(t, db, sql)
  const query = await db.saveQuery(
    { name: 'q', description: '', query_text: rowsQuery(30, 'id, name, region'), provider: 'stackql_test' },
    'me@example.com',
  )
  const schedule = await db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'guarded',
  })
  const args = { queryId: query.id, targetSchema: 'stackql_inventory', targetTable: 'guarded' }
  const setQuery = (query_text: string) =>
    db.updateQuery(query.id, { name: 'q', description: '', query_text, provider: 'stackql_test' })
  const snapshot = async () =>
    (
      await sql<{ n: number; digest: string }[]>`
        select count(*)::int as n, md5(string_agg(id::text || name, ',' order by id)) as digest
        from stackql_inventory.guarded`
    )[0]!
  t.match(await runInventory(d, args), { status: 'SUCCESS', rowCount: 30 })
  const previous = await snapshot()
  t.equal(previous.n, 30)

  t.test(
    'rows + an error on stderr + exit 1: FAILED with StackQL’s text, the previous rows intact',
    async (t) => {
      await setQuery("SELECT * FROM stackql_test.util.partial WHERE count = '30'")
      const outcome = await runInventory(d, { ...args, scheduleId: schedule.id })
      t.equal(outcome.status, 'FAILED')
      t.match(outcome.error, /^Incomplete result: StackQL printed 10 rows but reported an error/)
      t.match(outcome.error, /stackql_inventory\.guarded keeps its previous 30 rows/)
      t.match(
        outcome.error,
        /StackQL: error: http response status code: 403, response body: .*UnauthorizedOperation/,
      )
      t.same(await snapshot(), previous, 'not shrunk to the surviving region')
      const [r] = (await runsOf(db)).filter((x) => x.id === outcome.runId)
      t.match(r, { status: 'FAILED', error: outcome.error, row_count: null })
      t.equal((await db.getSchedule(schedule.id))!.last_error, outcome.error)
    },
  )

  t.test('zero rows + unrecognised stderr text + exit 0 does not empty a full table', async (t) => {
    await setQuery('SELECT * FROM stackql_test.util.noise')
    const outcome = await runInventory(d, args)
    t.equal(outcome.status, 'FAILED')
    t.match(outcome.error, /^StackQL returned no rows but wrote to stderr/)
    t.match(outcome.error, /StackQL: level=warn msg="provider page 2 of 5 skipped"/)
    t.same(await snapshot(), previous)
  })

  t.test('an empty result without stderr text is a snapshot (the resources are really gone)', async (t) => {
    const other = { ...args, targetTable: 'emptied' }
    await setQuery(rowsQuery(4, 'id'))
    t.match(await runInventory(d, other), { status: 'SUCCESS', rowCount: 4 })
    await setQuery("SELECT id FROM stackql_test.util.rows WHERE count = '0'")
    t.match(await runInventory(d, other), { status: 'SUCCESS', rowCount: 0 })
    t.same([...(await sql`select count(*)::int as n from stackql_inventory.emptied`)], [{ n: 0 }])
  })

  t.test('the shrink guard refuses a snapshot below its percentage, naming the numbers', async (t) => {
    await db.updateSchedule(schedule.id, { shrink_guard_pct: 90 })
    await setQuery(rowsQuery(26, 'id, name, region'))
    const outcome = await runInventory(d, { ...args, scheduleId: schedule.id })
    t.equal(outcome.status, 'FAILED')
    t.equal(
      outcome.error,
      "Shrink guard: the new snapshot has 26 rows, 86.6% of the previous 30 rows, and this schedule refuses less than 90% (stackql_inventory.guarded keeps its previous 30 rows). If the drop is expected, lower or turn off the schedule's shrink guard and run again.",
    )
    t.same(await snapshot(), previous)
    t.match(await runInventory(d, args), { status: 'FAILED' }, 'also for a run that names no schedule')
    await setQuery(rowsQuery(27, 'id, name, region'))
    t.match(await runInventory(d, args), { status: 'SUCCESS', rowCount: 27 }, '90% exactly is allowed')
    await setQuery(rowsQuery(30, 'id, name, region'))
    t.match(await runInventory(d, args), { status: 'SUCCESS', rowCount: 30 }, 'growth is always allowed')
  })

  t.test('under a 90% shrink guard, rows + error + exit 1 still fail with StackQL’s text', async (t) => {
    await setQuery("SELECT * FROM stackql_test.util.partial WHERE count = '30'")
    const outcome = await runInventory(d, { ...args, scheduleId: schedule.id })
    t.equal(outcome.status, 'FAILED')
    t.match(outcome.error, /^Incomplete result: .*StackQL: error: http response status code: 403/)
    t.same(await snapshot(), previous)
  })

  t.test('with the guard off, a smaller complete snapshot replaces the table', async (t) => {
    await db.updateSchedule(schedule.id, { shrink_guard_pct: null })
    await setQuery(rowsQuery(3, 'id, name, region'))
    t.match(await runInventory(d, args), { status: 'SUCCESS', rowCount: 3 })
  })
})

t.test('the built runner (dist/run-query.mjs) with plain node', async (t) => {
  const outdir = mkdtempSync(join(tmpdir(), 'runner-build-'))
  t.teardown(() => rmSync(outdir, { recursive: true, force: true }))
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outdir', outdir], { cwd: ROOT })
  const bundle = join(outdir, 'run-query.mjs')
  const { db, sql, url } = await testDb(t)
  const stackqlDir = mkdtempSync(join(tmpdir(), 'runner-stackql-'))
  t.teardown(() => rmSync(stackqlDir, { recursive: true, force: true }))
  // Exactly what the child gets: no inherited environment.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    CI: 'true',
    DATABASE_URL: url,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: stackqlDir,
    LOG_LEVEL: 'warn',
  }
  const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
    run(process.execPath, [bundle, ...args], { cwd: outdir, env: { ...env, ...extraEnv } }).then(
      (r) => ({ code: 0, ...r }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    )
  const query = await db.saveQuery(
    { name: 'rows', description: '', query_text: rowsQuery(12), provider: 'stackql_test' },
    'me@example.com',
  )
  const target = ['--target-schema', 'stackql_inventory', '--target-table', 'cli_rows']
  const logDir = join(stackqlDir, 'runs')

  t.test('bad arguments exit 2 with the usage on stderr, touching nothing', async (t) => {
    for (const args of [[], ['--query-id', 'abc', ...target], ['--query-id', '1'], ['--nope', '1']]) {
      const r = await cli(args)
      t.equal(r.code, 2, args.join(' '))
      t.match(r.stderr, /usage: run-query --query-id N/)
    }
    t.equal((await runsOf(db)).length, 0)
  })

  t.test('a successful run exits 0 and records SUCCESS', async (t) => {
    const r = await cli(['--query-id', String(query.id), ...target])
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stderr, '')
    t.same([...(await sql`select count(*)::int as n from stackql_inventory.cli_rows`)], [{ n: 12 }])
    t.match((await runsOf(db)).at(-1), { status: 'SUCCESS', row_count: 12, trigger: 'local' })
  })

  t.test('a failed run exits 1 with ONE line on stderr', async (t) => {
    const r = await cli(['--query-id', '777', ...target, '--trigger', 'databricks'])
    t.equal(r.code, 1)
    t.equal(r.stderr, 'Query 777 does not exist.\n')
    t.match((await runsOf(db)).at(-1), { status: 'FAILED', trigger: 'databricks' })
  })

  t.test('an unreachable database exits 1 with one line naming the target', async (t) => {
    const r = await cli(['--query-id', '1', ...target], { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none' })
    t.equal(r.code, 1)
    t.match(r.stderr, /^[^\n]*127\.0\.0\.1:1[^\n]*\n$/)
  })

  t.test('SIGTERM aborts the query, records FAILED (cancelled) and exits 143', async (t) => {
    const slow = await db.saveQuery(
      {
        name: 'slow',
        description: '',
        query_text: "SELECT * FROM stackql_test.util.sleep WHERE seconds = '30'",
        provider: 'stackql_test',
      },
      'me@example.com',
    )
    const child: ChildProcess = spawn(process.execPath, [bundle, '--query-id', String(slow.id), ...target], {
      cwd: outdir,
      env,
    })
    let stderr = ''
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
    for (let i = 0; i < 200; i++) {
      const last = (await runsOf(db)).at(-1)
      if (last?.query_id === slow.id && last.status === 'RUNNING') break
      await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 300))
    child.kill('SIGTERM')
    t.equal(await code, 143)
    t.equal(stderr, 'cancelled\n')
    t.match((await runsOf(db)).at(-1), { query_id: slow.id, status: 'FAILED', error: 'cancelled' })
  })

  t.test('Run now: the local launcher starts the runner with the credentials in its own env', async (t) => {
    const sts = await db.saveQuery(
      {
        name: 'whoami',
        description: '',
        query_text: 'SELECT account FROM aws.sts.caller_identity',
        provider: 'aws',
      },
      'me@example.com',
    )
    await db.saveProviderConfig(
      { provider: 'aws', env_var_name: 'AWS_ACCESS_KEY_ID', secret_scope: 's', secret_key: 'k' },
      'me',
    )
    await db.saveProviderConfig(
      { provider: 'aws', env_var_name: 'AWS_SECRET_ACCESS_KEY', secret_scope: 's', secret_key: 'k2' },
      'me',
    )
    const schedule: Schedule = await db.saveSchedule({
      query_id: sts.id,
      cron_expression: '0 * * * *',
      target_schema: 'stackql_inventory',
      target_table: 'whoami',
    })
    const log = captureLog()
    const launch = createLocalRunLauncher({
      command: [process.execPath, bundle],
      env,
      cwd: outdir,
      runEnv: async () => ({ AWS_ACCESS_KEY_ID: 'AKIALOCALRUN', AWS_SECRET_ACCESS_KEY: 'very-secret-value' }),
      log,
      logDir,
      timeoutMs: 60_000,
      // A click refused at once while the run goes on (waiting for an exit is the test below).
      exitWaitMs: 0,
    })
    const { message } = await launch(schedule)
    t.match(message, /Started a local run of schedule \d+ \(process \d+\)/)
    await t.rejects(launch(schedule), { code: 'CONFLICT' }, 'one local run per schedule at a time')
    let s = await db.getSchedule(schedule.id)
    for (let i = 0; i < 300 && (s!.last_run_status === null || s!.last_run_status === 'RUNNING'); i++) {
      await new Promise((r) => setTimeout(r, 50))
      s = await db.getSchedule(schedule.id)
    }
    t.equal(s!.last_run_status, 'SUCCESS', s!.last_error ?? '')
    const accounts = await sql`select account from stackql_inventory.whoami`
    t.same(
      accounts.map((r) => String(r.account)),
      [awsAccountFor('AKIALOCALRUN')],
      'the runner used the credentials it was given',
    )
    t.equal(process.env.AWS_ACCESS_KEY_ID, undefined, "the server's own environment is untouched")
    for (let i = 0; i < 100 && !log.lines.some((l) => l.includes('local run finished')); i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    t.notMatch(log.lines.join('\n'), /very-secret-value|AKIALOCALRUN/, 'no credential reaches the log')
  })

  const waitForRun = async (scheduleId: number, ms = 30_000) => {
    const end = Date.now() + ms
    let s = await db.getSchedule(scheduleId)
    while (Date.now() < end && (s!.last_run_status === null || s!.last_run_status === 'RUNNING')) {
      await new Promise((r) => setTimeout(r, 100))
      s = await db.getSchedule(scheduleId)
    }
    return s!
  }
  const localSchedule = async (name: string, query_text: string) => {
    const q = await db.saveQuery(
      { name, description: '', query_text, provider: 'stackql_test' },
      'me@example.com',
    )
    return db.saveSchedule({
      query_id: q.id,
      cron_expression: '0 * * * *',
      target_schema: 'stackql_inventory',
      target_table: name,
    })
  }

  t.test(
    'finding 8 (local runner): the child logs to a file of its own, named in a failed run’s error',
    async (t) => {
      const schedule = await localSchedule('local_failing', 'SELECT id FROM stackql_test.util.rows')
      const launch = createLocalRunLauncher({
        command: [process.execPath, bundle],
        env,
        cwd: outdir,
        log: captureLog(),
        logDir,
        timeoutMs: 60_000,
      })
      const started = await launch(schedule)
      t.match(started.logFile, new RegExp(`^${logDir}/schedule-${schedule.id}-[^/]+\\.log$`))
      t.match(started.message, `Log: ${started.logFile}`)
      const s = await waitForRun(schedule.id)
      t.equal(s.last_run_status, 'FAILED')
      t.match(s.last_error, /^cannot find matching operation/)
      t.ok(s.last_error!.endsWith(`(runner log: ${started.logFile})`), s.last_error ?? '')
      await waitUntil(
        () => readFileSync(started.logFile, 'utf8').includes('cannot find matching operation'),
        5000,
      )
      t.match(
        readFileSync(started.logFile, 'utf8'),
        /cannot find matching operation/,
        'the reason line is in the log',
      )
    },
  )

  t.test('finding 8 (local runner): a local run is bounded by its timeout and recorded FAILED', async (t) => {
    const schedule = await localSchedule(
      'local_hanging',
      "SELECT * FROM stackql_test.util.sleep WHERE seconds = '60'",
    )
    const launch = createLocalRunLauncher({
      command: [process.execPath, bundle],
      env,
      cwd: outdir,
      log: captureLog(),
      logDir,
      timeoutMs: 2000,
    })
    const started = Date.now()
    const { logFile } = await launch(schedule)
    const s = await waitForRun(schedule.id, 40_000)
    t.ok(Date.now() - started < 40_000, 'stopped long before the 60 s sleep')
    t.equal(s.last_run_status, 'FAILED')
    t.match(
      s.last_error,
      /^The run took longer than 2 s \(the query timeout plus a margin\) and was stopped; the previous rows are kept\./,
    )
    t.match(s.last_error, `(runner log: ${logFile})`)
  })

  t.test('finding 8 (local runner): the run survives the server that started it going away', async (t) => {
    const schedule = await localSchedule(
      'local_orphaned',
      "SELECT * FROM stackql_test.util.sleep WHERE seconds = '3'",
    )
    const parent = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/helpers/launch-and-exit.ts'),
        JSON.stringify({
          command: [process.execPath, bundle],
          env: { ...env, LOG_LEVEL: 'info' },
          cwd: outdir,
          logDir,
          timeoutMs: 60_000,
          schedule,
        }),
      ],
      { cwd: ROOT },
    )
    const started = JSON.parse(parent.stdout) as { logFile: string; message: string }
    const pid = Number(/\(process (\d+)\)/.exec(started.message)![1])
    t.notOk(processGone(pid), 'the parent has exited; the run is still going')
    const s = await waitForRun(schedule.id)
    t.equal(s.last_run_status, 'SUCCESS', s.last_error ?? '')
    t.same([...(await sql`select slept from stackql_inventory.local_orphaned`)], [{ slept: 3 }])
    // The run is SUCCESS in the database before the runner prints its last line and exits: read its
    // log once it has exited (CI once read it between the two).
    for (let i = 0; i < 200 && !processGone(pid); i++) await new Promise((r) => setTimeout(r, 50))
    t.ok(processGone(pid), 'the runner exited')
    const logged = readFileSync(started.logFile, 'utf8')
    t.match(logged, /"msg":"run succeeded"/, 'it kept logging after its parent was gone')
    t.match(logged, /wrote 1 rows/)
  })

  t.test(
    'Run now right after a run ended waits for its process to exit; a run still going is refused',
    async (t) => {
      // A stand-in runner process that lives `ms` and ignores the runner's arguments.
      const script = join(logDir, 'linger.mjs')
      writeFileSync(script, 'setTimeout(() => {}, Number(process.env.LINGER_MS))\n')
      const lingering = (ms: number) =>
        createLocalRunLauncher({
          command: [process.execPath, script],
          env: { ...env, LINGER_MS: String(ms) },
          log: captureLog(),
          logDir,
          timeoutMs: 60_000,
        })
      const schedule = { id: 11, query_id: 1, target_schema: 's', target_table: 't' } as Schedule
      const exiting = lingering(800)
      await exiting(schedule)
      const started = Date.now()
      const again = await exiting(schedule)
      t.match(again.message, /Started a local run of schedule 11/, 'the second click starts a run')
      const waited = Date.now() - started
      t.ok(waited >= 300 && waited < 2900, `it waited for the first process to exit (${waited} ms)`)
      const busy = lingering(20_000)
      const first = await busy({ ...schedule, id: 12 })
      const refusedAt = Date.now()
      await t.rejects(busy({ ...schedule, id: 12 }), { code: 'CONFLICT', message: /still in progress/ })
      t.ok(Date.now() - refusedAt >= 2900, 'refused only after waiting for the exit')
      process.kill(Number(/process (\d+)/.exec(first.message)![1]), 'SIGKILL')
    },
  )

  t.test('Run now with a runner that cannot start fails clearly', async (t) => {
    const launch = createLocalRunLauncher({
      command: ['/nonexistent/node'],
      env,
      log: captureLog(),
      logDir,
      timeoutMs: 60_000,
    })
    const schedule = { id: 1, query_id: 1, target_schema: 's', target_table: 't' } as Schedule
    await t.rejects(launch(schedule), { code: 'RUNNER_FAILED', message: /Could not start the job runner/ })
    // the failed start released the schedule: the next click tries again instead of 'in progress'
    await t.rejects(launch(schedule), { code: 'RUNNER_FAILED' })
  })

  t.test(
    'two quick clicks on Run now start one run: the second is refused while credentials resolve',
    async (t) => {
      let release!: () => void
      const gate = new Promise<void>((r) => {
        release = r
      })
      const launch = createLocalRunLauncher({
        command: ['/nonexistent/node'],
        env,
        log: captureLog(),
        logDir,
        timeoutMs: 60_000,
        runEnv: async () => {
          await gate
          return {}
        },
      })
      const schedule = { id: 7, query_id: 1, target_schema: 's', target_table: 't' } as Schedule
      const first = launch(schedule)
      await t.rejects(launch(schedule), { code: 'CONFLICT', message: /still in progress/ })
      release()
      await t.rejects(first, { code: 'RUNNER_FAILED' })
    },
  )
})
