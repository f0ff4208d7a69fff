import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { JobsApi } from '../src/databricks/jobs-api.js'
import type { Schedule } from '../src/models.js'
import { JobService } from '../src/services/job-service.js'
import { ScheduleService } from '../src/services/schedule-service.js'
import { assertReadOnlyQuery } from '../src/stackql/statements.js'
import { testDb } from './helpers/db.js'
import { type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-schedules'

const TEMPLATE = {
  name: 'stackql-inventory-template',
  tasks: [
    {
      task_key: 'run_inventory',
      job_cluster_key: 'c',
      spark_python_task: { python_file: '/Workspace/launcher.py', parameters: [] },
    },
  ],
  job_clusters: [
    { job_cluster_key: 'c', new_cluster: { spark_version: '15.4.x-scala2.12', num_workers: 0 } },
  ],
}

async function setup(t: Test, opts: { workspace?: boolean; queryText?: string } = {}) {
  const { db, sql } = await testDb(t)
  const query = await db.saveQuery(
    {
      name: 'EC2',
      description: '',
      query_text: opts.queryText ?? 'SELECT * FROM aws.ec2.instances',
      provider: 'aws',
    },
    'a@b.c',
  )
  await db.saveProviderConfig(
    {
      provider: 'aws',
      env_var_name: 'AWS_SECRET_ACCESS_KEY',
      secret_scope: 'stackql-inventory',
      secret_key: 'aws-secret',
    },
    'a@b.c',
  )
  const localRuns: Schedule[] = []
  const launchLocalRun = async (schedule: Schedule) => {
    localRuns.push(schedule)
    return { message: `Started a local run of schedule ${schedule.id}.` }
  }
  if (opts.workspace === false) {
    return { db, sql, query, localRuns, service: new ScheduleService({ db, launchLocalRun }) }
  }
  const s: Standin = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  s.state.addJob(TEMPLATE)
  const jobs = new JobService({ api: new JobsApi(client), templateJob: TEMPLATE.name, timezone: 'UTC' })
  const service = new ScheduleService({ db, jobs, launchLocalRun, timezone: 'UTC' })
  return { db, sql, query, localRuns, service, s }
}

const input = (query_id: number, over = {}) => ({
  query_id,
  cron_expression: '0 6 * * 1-5',
  target_schema: 'stackql_inventory',
  target_table: 'ec2_instances',
  ...over,
})

/** Jobs other than the template. */
const createdJobs = (s: Standin) =>
  [...s.state.jobs.values()].filter((j) => j.settings.name !== TEMPLATE.name)

t.test('creating a schedule saves the row and creates its job', async (t) => {
  const { db, query, service, s } = await setup(t)
  const schedule = await service.create(input(query.id))
  t.ok(schedule.job_id)
  t.equal((await db.getSchedule(schedule.id))!.job_id, schedule.job_id)
  const [job] = createdJobs(s!)
  t.equal(String(job!.job_id), schedule.job_id)
  t.match(job!.settings.schedule, { quartz_cron_expression: '0 0 6 ? * 2-6', timezone_id: 'UTC' })
  t.equal(service.hasWorkspace, true)
})

t.test(
  'without a workspace the schedule is saved with no job, and Run now uses the local runner',
  async (t) => {
    const { query, service, localRuns } = await setup(t, { workspace: false })
    t.equal(service.hasWorkspace, false)
    const schedule = await service.create(input(query.id))
    t.equal(schedule.job_id, null)
    const res = await service.runNow(schedule.id)
    t.equal(res.message, `Started a local run of schedule ${schedule.id}.`)
    t.equal(localRuns[0]!.id, schedule.id)
    t.equal(await service.lastRun(schedule.id), null)
    t.equal((await service.setActive(schedule.id, false)).is_active, false)
    t.equal((await service.updateCron(schedule.id, '@daily')).cron_expression, '@daily')
    await service.delete(schedule.id)
  },
)

t.test('an invalid cron is refused before anything is saved or created', async (t) => {
  const { db, query, service, s } = await setup(t)
  await t.rejects(service.create(input(query.id, { cron_expression: '0 0 1 * 1' })), { code: 'CRON_INVALID' })
  t.same(await db.getSchedules(), [])
  t.equal(createdJobs(s!).length, 0)
})

t.test('only SELECT queries can be scheduled', async (t) => {
  const { db, query, service } = await setup(t, { queryText: "INSERT INTO aws.s3.buckets (name) SELECT 'x'" })
  await t.rejects(service.create(input(query.id)), {
    code: 'VALIDATION',
    message: /Only SELECT queries.*"INSERT"/,
  })
  t.same(await db.getSchedules(), [])
})

t.test('a SELECT may start with comments, whitespace, parentheses or WITH', async (t) => {
  for (const ok of [
    'SELECT 1',
    '  -- inventory\n/* all */ select * from aws.ec2.instances;',
    '((SELECT 1))',
    '# note\nSELECT 1',
    'WITH x AS (SELECT 1) SELECT * FROM x',
  ]) {
    t.doesNotThrow(() => assertReadOnlyQuery(ok), ok)
  }
  for (const bad of [
    'DELETE FROM aws.s3.buckets',
    'EXEC aws.ec2.start',
    'SHOW PROVIDERS',
    '-- only a comment',
  ]) {
    t.throws(() => assertReadOnlyQuery(bad), bad)
  }
  t.throws(() => assertReadOnlyQuery('SELECT 1; DELETE FROM x'), { code: 'STACKQL_MULTI_STATEMENT' })
})

t.test('an unknown query is a not-found error', async (t) => {
  const { service } = await setup(t)
  await t.rejects(service.create(input(9999)), { code: 'NOT_FOUND', message: /Query 9999/ })
})

t.test('if the job cannot be created, no row is left behind and the specific error is shown', async (t) => {
  const { db, query, service, s } = await setup(t)
  s!.faults.add({
    path: '/api/2.2/jobs/create',
    status: 403,
    body: { error_code: 'PERMISSION_DENIED', message: 'Only admins can create jobs' },
  })
  await t.rejects(service.create(input(query.id)), {
    code: 'DATABRICKS_PERMISSION',
    message: /Only admins can create jobs/,
  })
  t.same(await db.getSchedules(), [])
  // The target is free again.
  t.ok((await service.create(input(query.id))).job_id)
})

t.test('if the job id cannot be saved, the job is deleted again and the row removed', async (t) => {
  const { db, sql, query, service, s } = await setup(t)
  await sql.unsafe(`
    create function refuse_job_id() returns trigger language plpgsql as $$
    begin raise exception 'simulated failure saving job id'; end $$;
    create trigger refuse_job_id before update of job_id on stackql_app.schedules
      for each row when (new.job_id is not null) execute function refuse_job_id();`)
  await t.rejects(service.create(input(query.id)))
  t.equal(createdJobs(s!).length, 0, 'no orphaned job')
  t.same(await db.getSchedules(), [], 'no half-saved row')
  t.ok(s!.state.requests.some((r) => r.path === '/api/2.2/jobs/delete'))
})

t.test('a taken target table is a conflict and creates no job', async (t) => {
  const { query, service, s } = await setup(t)
  await service.create(input(query.id))
  await t.rejects(service.create(input(query.id)), { code: 'CONFLICT' })
  t.equal(createdJobs(s!).length, 1)
})

t.test('changing the cron updates the job and the row; an invalid one changes neither', async (t) => {
  const { db, query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  const updated = await service.updateCron(created.id, '*/30 * * * *')
  t.equal(updated.cron_expression, '*/30 * * * *')
  t.match(createdJobs(s!)[0]!.settings.schedule, { quartz_cron_expression: '0 */30 * * * ?' })
  await t.rejects(service.updateCron(created.id, '61 * * * *'), { code: 'CRON_INVALID' })
  t.equal((await db.getSchedule(created.id))!.cron_expression, '*/30 * * * *')
  t.match(createdJobs(s!)[0]!.settings.schedule, { quartz_cron_expression: '0 */30 * * * ?' })
})

t.test('pause and resume change the job and the row together', async (t) => {
  const { query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  const paused = await service.setActive(created.id, false)
  t.equal(paused.is_active, false)
  t.match(createdJobs(s!)[0]!.settings.schedule, { pause_status: 'PAUSED' })
  const resumed = await service.setActive(created.id, true)
  t.equal(resumed.is_active, true)
  t.match(createdJobs(s!)[0]!.settings.schedule, { pause_status: 'UNPAUSED' })
})

t.test('a failed pause leaves the row as it was', async (t) => {
  const { db, query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  s!.faults.add({ path: '/api/2.2/jobs/update', status: 403 })
  await t.rejects(service.setActive(created.id, false), { code: 'DATABRICKS_PERMISSION' })
  t.equal((await db.getSchedule(created.id))!.is_active, true)
})

t.test('deleting removes the job first, then the row', async (t) => {
  const { db, query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  await service.delete(created.id)
  t.equal(createdJobs(s!).length, 0)
  t.equal(await db.getSchedule(created.id), null)
})

t.test('deleting a schedule whose job is already gone still removes the row', async (t) => {
  const { db, query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  s!.state.jobs.delete(Number(created.job_id))
  await service.delete(created.id)
  t.equal(await db.getSchedule(created.id), null)
})

t.test('if the job cannot be deleted, the row stays so the user can retry', async (t) => {
  const { db, query, service, s } = await setup(t)
  const created = await service.create(input(query.id))
  s!.faults.add({ path: '/api/2.2/jobs/delete', status: 403 })
  await t.rejects(service.delete(created.id), { code: 'DATABRICKS_PERMISSION' })
  t.ok(await db.getSchedule(created.id))
  t.equal(createdJobs(s!).length, 1)
})

t.test('Run now with a workspace starts a job run and reports the latest run', async (t) => {
  const { query, service, s, localRuns } = await setup(t)
  const created = await service.create(input(query.id))
  const res = await service.runNow(created.id)
  t.match(res.message, new RegExp(`Started Databricks run ${res.runId} of job ${created.job_id}`))
  t.equal(localRuns.length, 0)
  s!.state.finishRun(Number(res.runId), 'SUCCESS')
  t.match(await service.lastRun(created.id), { runId: res.runId, result: 'SUCCESS' })
})

t.test('a schedule with a job cannot be changed without a workspace', async (t) => {
  const { db, query, service } = await setup(t, { workspace: false })
  const created = await service.create(input(query.id))
  await db.updateSchedule(created.id, { job_id: '123' })
  await t.rejects(service.delete(created.id), { code: 'DATABRICKS_NOT_CONFIGURED', message: /job 123/ })
  t.ok(await db.getSchedule(created.id))
})

t.test('missing schedules are not-found errors', async (t) => {
  const { service } = await setup(t, { workspace: false })
  await t.rejects(service.delete(4242), { code: 'NOT_FOUND' })
  await t.rejects(service.runNow(4242), { code: 'NOT_FOUND' })
})

t.test('describe gives the text and the next 5 runs of the Quartz schedule', async (t) => {
  const { service } = await setup(t, { workspace: false })
  const d = service.describe('0 6 * * 1-5', new Date('2025-01-03T12:00:00Z'))
  t.equal(d.quartz, '0 0 6 ? * 2-6')
  t.match(d.description, /Monday through Friday/)
  t.same(
    d.nextRuns.map((x) => x.toISOString()),
    ['2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10'].map(
      (day) => `${day}T06:00:00.000Z`,
    ),
  )
  t.throws(() => service.describe('nope'), { code: 'CRON_INVALID' })
})

t.test(
  'a schedule across profiles creates a job running its slices with only those profiles’ references',
  async (t) => {
    const { db, query, service, s } = await setup(t)
    for (const profile of ['prod', 'staging', 'dev']) {
      await db.saveProviderConfig(
        {
          provider: 'aws',
          profile,
          env_var_name: 'AWS_ACCESS_KEY_ID',
          secret_scope: 'inv',
          secret_key: `${profile}-key`,
        },
        'a@b.c',
      )
    }
    const schedule = await service.create(input(query.id, { profiles: ['aws/prod', 'aws/staging'] }))
    t.same(schedule.profiles, ['aws/prod', 'aws/staging'])
    const [job] = createdJobs(s!)
    // biome-ignore lint/suspicious/noExplicitAny: the stand-in stores the job settings as posted
    const settings = job!.settings as any
    const params: string[] = settings.tasks[0].spark_python_task.parameters
    t.equal(params[params.indexOf('--profiles') + 1], 'aws/prod,aws/staging')
    const env = JSON.stringify(settings.job_clusters[0].new_cluster.spark_env_vars)
    t.match(env, /STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID/)
    t.match(env, /\{\{secrets\/inv\/staging-key\}\}/)
    t.notMatch(env, /dev-key/, 'a profile the schedule does not name is not in the job')
  },
)

t.test('a schedule naming a profile that does not exist is refused and nothing is saved', async (t) => {
  const { db, query, service, s } = await setup(t)
  await t.rejects(service.create(input(query.id, { profiles: ['aws/nope'] })), {
    code: 'VALIDATION',
    message: /no profile "nope"/,
  })
  t.same(await db.getSchedules(), [])
  t.same(createdJobs(s!), [])
})

t.test(
  'a schedule without profiles runs with the default profile of every provider its statement references, and no other profile',
  async (t) => {
    const { db, service, s } = await setup(t)
    const joined = await db.saveQuery(
      {
        name: 'repos and instances',
        description: '',
        query_text: 'SELECT r.name FROM github.repos.repos r JOIN aws.ec2.instances i ON i.tag = r.name',
        provider: 'github',
      },
      'a@b.c',
    )
    const map = (provider: string, profile: string, env: string, key: string) =>
      db.saveProviderConfig(
        { provider, profile, env_var_name: env, secret_scope: 'inv', secret_key: key },
        'a@b.c',
      )
    await map('github', 'default', 'GITHUB_TOKEN', 'gh-default')
    await map('github', 'prod', 'GITHUB_TOKEN', 'gh-prod')
    await map('aws', 'prod', 'AWS_ACCESS_KEY_ID', 'aws-prod-key')
    await service.create(input(joined.id, { target_table: 'repos_and_instances' }))
    const [job] = createdJobs(s!)
    const env = JSON.stringify(job!.settings)
    t.match(env, /\{\{secrets\/inv\/gh-default\}\}/, "github's default profile")
    t.match(
      env,
      /\{\{secrets\/stackql-inventory\/aws-secret\}\}/,
      "aws's default profile (the statement joins aws)",
    )
    t.notMatch(env, /gh-prod|aws-prod-key/, 'no other profile is in the job')
  },
)
