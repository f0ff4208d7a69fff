// The for_each layout actually runs: the job JobService stores in the stand-in workspace (above
// FOR_EACH_THRESHOLD) is executed task by task with the real runner — one `--profile` iteration per
// slice, then the `--finish` task — and the table, the run and its slices come out as a single-task
// fan-out would leave them (per-slice rule, PARTIAL keeps the failed profile's rows).
import t from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { JobsApi } from '../src/databricks/jobs-api.js'
import type { Run } from '../src/models.js'
import { JobService } from '../src/services/job-service.js'
import { testDb } from './helpers/db.js'
import { runStoredJob } from './helpers/job-executor.js'
import { runnerArgv } from './helpers/runner-process.js'
import { awsAccountFor, STANDIN, tempDir } from './helpers/stackql.js'
import { addTemplateJob, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-for-each-run'
const PROFILES = ['prod', 'staging', 'dev']
const keyOf = (p: string) => `AKIA${p.toUpperCase()}CANARY${p.length}`

t.test('a for_each job runs: iterations write their profiles, the finish task closes the run', async (t) => {
  const { db, sql, url } = await testDb(t)
  const s = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  addTemplateJob(s)
  const mappings = []
  for (const profile of PROFILES) {
    for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const m = {
        provider: 'aws',
        profile,
        env_var_name: v,
        secret_scope: 'inv',
        secret_key: `${profile}-${v}`,
      }
      await db.saveProviderConfig(m, 'me@example.com')
      mappings.push(m)
      s.state.putSecret(
        'inv',
        `${profile}-${v}`,
        v === 'AWS_ACCESS_KEY_ID' ? keyOf(profile) : `sk-${profile}`,
      )
    }
  }
  const query = await db.saveQuery(
    {
      name: 'accounts',
      description: '',
      query_text: 'SELECT account FROM aws.sts.caller_identity',
      provider: 'aws',
    },
    'me@example.com',
  )
  const schedule = await db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'accounts',
    profiles: PROFILES.map((p) => `aws/${p}`),
  })
  const jobs = new JobService({
    api: new JobsApi(client),
    templateJob: 'stackql-inventory-template',
    timezone: 'UTC',
    forEachThreshold: 2,
    forEachConcurrency: 2,
  })
  const slices = PROFILES.map((profile) => ({ provider: 'aws', profile }))
  const jobId = Number(await jobs.createInventoryJob(query, schedule, mappings, slices))
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tempDir(t, 'for-each-home-'),
    DATABASE_URL: url,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'for-each-runner-'),
    LOG_LEVEL: 'warn',
  }
  const rows = async () =>
    [
      ...(await sql<{ account: string; _profile: string }[]>`
      select account, _profile from stackql_inventory.accounts order by _profile`),
    ].map((r) => ({ ...r }))
  const runOf = async (jobRunId: string) =>
    (await sql<Run[]>`select * from stackql_app.runs where job_run_id = ${jobRunId}`).map((r) => ({ ...r }))
  const expected = (profiles: string[]) =>
    profiles.sort().map((p) => ({ account: awsAccountFor(keyOf(p)), _profile: p }))

  await t.test(
    'every iteration succeeds: SUCCESS, one run, all profiles’ rows, the view refreshed once',
    async (t) => {
      await sql`create table stackql_inventory.accounts (account text, _profile text)`
      await sql`create materialized view stackql_inventory.accounts_mv as
      select count(*)::int as n from stackql_inventory.accounts`
      const runs = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9001' })
      const ok = t.same(
        runs.map((r) => `${r.task_key}${r.input ? `(${r.input})` : ''}:${r.code}`).sort(),
        [
          'run_query_finish:0',
          'run_query_slice(aws/dev):0',
          'run_query_slice(aws/prod):0',
          'run_query_slice(aws/staging):0',
        ],
        'every iteration and the finish task exit 0',
      )
      if (!ok) t.comment(runs.map((r) => r.output).join('\n'))
      t.equal(runs.at(-1)!.task_key, 'run_query_finish', 'the finish task runs after every iteration')
      t.same(await rows(), expected([...PROFILES]))
      const [run, ...others] = await runOf('9001')
      t.equal(others.length, 0, 'iterations and the finish task share one runs row')
      t.match(run, { status: 'SUCCESS', row_count: 3, schedule_id: schedule.id, trigger: 'databricks' })
      t.same(
        [run!.added_count, run!.removed_count, run!.modified_count].map(Number),
        [3, 0, 0],
        'the iterations recorded their rows as added (the table existed, empty)',
      )
      const recorded = (await db.getRunSlices([run!.id])).get(run!.id) ?? []
      t.same(
        recorded.map((r) => `${r.profile}:${r.status}:${r.rows}`),
        ['dev:SUCCESS:1', 'prod:SUCCESS:1', 'staging:SUCCESS:1'],
      )
      t.same(
        [...(await sql`select n from stackql_inventory.accounts_mv`)],
        [{ n: 3 }],
        'accounts_mv refreshed',
      )
      t.equal((await db.getSchedule(schedule.id))!.last_run_status, 'SUCCESS')
    },
  )

  await t.test(
    'one profile’s secret expired: its iteration fails, PARTIAL, its previous rows kept',
    async (t) => {
      const before = (await rows()).find((r) => r._profile === 'staging')
      s.state.putSecret('inv', 'staging-AWS_ACCESS_KEY_ID', 'INVALIDEXPIRED0001')
      const runs = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9002' })
      const byInput = Object.fromEntries(runs.map((r) => [r.input ?? r.task_key, r]))
      t.equal(byInput['aws/staging']!.code, 1, 'the failed iteration shows as failed in the Jobs UI')
      t.match(byInput['aws/staging']!.output, /InvalidClientTokenId/)
      t.equal(byInput.run_query_finish!.code, 3, 'the finish task reports PARTIAL')
      t.same(
        (await rows()).find((r) => r._profile === 'staging'),
        before,
        'staging’s last good row is intact',
      )
      t.same(
        (await rows()).map((r) => r._profile),
        ['dev', 'prod', 'staging'],
      )
      const [run] = await runOf('9002')
      t.match(run, { status: 'PARTIAL', row_count: 2 })
      t.match(run!.error, /1 of 3 profile slices failed \(aws\/staging\); their previous rows are kept/)
      t.notMatch(
        JSON.stringify(runs),
        /INVALIDEXPIRED0001|sk-staging|AKIAPROD/,
        'no secret value in any output',
      )
      s.state.putSecret('inv', 'staging-AWS_ACCESS_KEY_ID', keyOf('staging'))
    },
  )

  await t.test(
    'an iteration that never reports counts as failed: PARTIAL, named in the slices',
    async (t) => {
      const runs = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9003', skipInputs: ['aws/dev'] })
      t.equal(runs.find((r) => r.task_key === 'run_query_finish')!.code, 3)
      const [run] = await runOf('9003')
      t.equal(run!.status, 'PARTIAL')
      const recorded = (await db.getRunSlices([run!.id])).get(run!.id) ?? []
      t.match(recorded[0], { profile: 'dev', status: 'FAILED', error: /did not report/ })
    },
  )

  await t.test('every iteration failing is FAILED, the table and its view untouched', async (t) => {
    const before = await rows()
    for (const p of PROFILES) s.state.putSecret('inv', `${p}-AWS_ACCESS_KEY_ID`, `INVALID${p}`)
    const runs = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9004' })
    t.equal(runs.find((r) => r.task_key === 'run_query_finish')!.code, 1)
    t.same(await rows(), before)
    const [run] = await runOf('9004')
    t.match(run, { status: 'FAILED' })
    t.match(run!.error, /All 3 profile slices failed; the table is unchanged/)
  })

  await t.test(
    'a profile taken off the schedule, and rows from before the schedule had profiles: once every listed iteration succeeds they go, recorded as removed',
    async (t) => {
      for (const p of PROFILES) s.state.putSecret('inv', `${p}-AWS_ACCESS_KEY_ID`, keyOf(p))
      await sql`insert into stackql_inventory.accounts (account, _profile) values ('000000000000', 'retired')`
      // A row from before the schedule spanned profiles: no _profile (a single-task fan-out whose
      // slices all succeed replaces the whole table, so it goes there too).
      await sql`insert into stackql_inventory.accounts (account, _profile) values ('000000000001', null)`
      const partial = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9005', skipInputs: ['aws/dev'] })
      t.equal(partial.find((r) => r.task_key === 'run_query_finish')!.code, 3, 'PARTIAL')
      t.ok(
        (await rows()).some((r) => r._profile === 'retired'),
        'a PARTIAL run is not a complete snapshot: the retired profile’s row stays',
      )
      t.ok(
        (await rows()).some((r) => r._profile === null),
        'and so does the row without a profile',
      )
      const runs = await runStoredJob(s, jobId, { baseEnv, jobRunId: '9006' })
      t.equal(runs.find((r) => r.task_key === 'run_query_finish')!.code, 0)
      t.same(await rows(), expected([...PROFILES]), 'only the listed profiles’ rows remain')
      const [run] = await runOf('9006')
      t.match(run, { status: 'SUCCESS' })
      t.equal(Number(run!.removed_count), 2)
      const records = await sql<{ change_kind: string; profile: string | null; account: string }[]>`
        select change_kind, profile, before ->> 'account' as account from stackql_app.inventory_changes
        where run_id = ${run!.id} order by account`
      t.same(
        records.map((r) => `${r.change_kind}:${r.profile}:${r.account}`),
        ['removed:retired:000000000000', 'removed:null:000000000001'],
      )
    },
  )
})

t.test('the runner refuses inconsistent for_each flags with exit 2', async (t) => {
  const { spawnSync } = await import('node:child_process')
  const { fileURLToPath } = await import('node:url')
  const root = fileURLToPath(new URL('..', import.meta.url))
  const base = [...runnerArgv(), '--query-id', '1', '--target-schema', 's', '--target-table', 'x']
  for (const [extra, message] of [
    [['--profile', 'aws/a'], /--profile needs --job-run-id/],
    [['--finish', '--job-run-id', '1'], /--finish needs --profiles/],
    [['--profile', 'aws/a', '--finish', '--job-run-id', '1'], /exclude each other/],
    [['--profile', 'aws/a', '--job-run-id', '{{job.run_id}}'], /--job-run-id must be a job run id/],
  ] as const) {
    const r = spawnSync(process.execPath, [...base, ...extra], { cwd: root, encoding: 'utf8' })
    t.equal(r.status, 2, extra.join(' '))
    t.match(r.stderr, message)
  }
})
