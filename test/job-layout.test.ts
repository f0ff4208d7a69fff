// Schedules across profiles on Databricks: the job layout per slice count, the profile-qualified
// cluster environment, and that every layout passes the stand-in workspace's Jobs 2.2 checks.
import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { type JobSettings, JobsApi, type JobTask } from '../src/databricks/jobs-api.js'
import type { Query, Schedule } from '../src/models.js'
import { clusterEnvName, profileEnv } from '../src/profiles/cluster-env.js'
import type { ProfileMapping, ProfileSlice } from '../src/services/job-layout.js'
import { JobService } from '../src/services/job-service.js'
import { addTemplateJob, type Standin, startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-job-layout'

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

const schedule: Schedule = {
  id: 42,
  query_id: 7,
  cron_expression: '0 6 * * *',
  target_schema: 'stackql_inventory',
  target_table: 'ec2_instances',
  job_id: null,
  is_active: true,
  last_run_at: null,
  last_run_status: null,
  last_error: null,
  created_at: new Date(),
  updated_at: new Date(),
}

const BASE_ARGS = [
  '--query-id',
  '7',
  '--target-schema',
  'stackql_inventory',
  '--target-table',
  'ec2_instances',
  '--schedule-id',
  '42',
]

function awsProfiles(n: number): { slices: ProfileSlice[]; mappings: ProfileMapping[] } {
  const slices: ProfileSlice[] = []
  const mappings: ProfileMapping[] = []
  for (let i = 0; i < n; i++) {
    const profile = i === 0 ? 'default' : `acct-${i}`
    slices.push({ provider: 'aws', profile })
    for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      mappings.push({
        provider: 'aws',
        profile,
        env_var_name: v,
        secret_scope: 'inv',
        secret_key: `${profile}-${v}`,
      })
    }
  }
  return { slices, mappings }
}

async function setup(
  t: Test,
  opts: { threshold?: number; concurrency?: number; template?: Record<string, unknown> } = {},
) {
  const s: Standin = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  addTemplateJob(s, opts.template)
  const jobs = new JobService({
    api: new JobsApi(client),
    templateJob: 'stackql-inventory-template',
    timezone: 'UTC',
    forEachThreshold: opts.threshold,
    forEachConcurrency: opts.concurrency,
  })
  return { s, jobs }
}

const stored = (s: Standin, id: string) => s.state.jobs.get(Number(id))!.settings as JobSettings

t.test('the default profile alone keeps today’s single task and plain env names', async (t) => {
  const { s, jobs } = await setup(t)
  const { slices, mappings } = awsProfiles(1)
  for (const job of [
    stored(s, await jobs.createInventoryJob(query, schedule, mappings, slices)),
    stored(s, await jobs.createInventoryJob(query, schedule, mappings)),
  ]) {
    t.equal(job.tasks!.length, 1)
    t.same(job.tasks![0]!.spark_python_task!.parameters, BASE_ARGS)
    t.same(job.job_clusters![0]!.new_cluster.spark_env_vars, {
      AWS_ACCESS_KEY_ID: '{{secrets/inv/default-AWS_ACCESS_KEY_ID}}',
      AWS_SECRET_ACCESS_KEY: '{{secrets/inv/default-AWS_SECRET_ACCESS_KEY}}',
    })
  }
})

t.test(
  'up to FOR_EACH_THRESHOLD slices run in one task with --profiles and qualified env names',
  async (t) => {
    const { s, jobs } = await setup(t, { threshold: 3 })
    const { slices, mappings } = awsProfiles(3)
    const job = stored(s, await jobs.createInventoryJob(query, schedule, mappings, slices))
    t.equal(job.tasks!.length, 1)
    t.same(job.tasks![0]!.spark_python_task!.parameters, [
      ...BASE_ARGS,
      '--profiles',
      'aws/default,aws/acct-1,aws/acct-2',
    ])
    const env = job.job_clusters![0]!.new_cluster.spark_env_vars!
    t.equal(
      env[clusterEnvName('aws', 'acct-1', 'AWS_ACCESS_KEY_ID')],
      '{{secrets/inv/acct-1-AWS_ACCESS_KEY_ID}}',
    )
    t.equal(
      env[clusterEnvName('aws', 'default', 'AWS_ACCESS_KEY_ID')],
      '{{secrets/inv/default-AWS_ACCESS_KEY_ID}}',
    )
    t.notOk('AWS_ACCESS_KEY_ID' in env, 'no plain name two profiles would fight over')
    t.equal(Object.keys(env).length, 6)
  },
)

t.test(
  'above the threshold the job is a for_each_task over the slices followed by a finishing task',
  async (t) => {
    const { s, jobs } = await setup(t, { concurrency: 6 })
    const { slices, mappings } = awsProfiles(9)
    const id = await jobs.createInventoryJob(query, schedule, mappings, slices)
    const job = stored(s, id)
    const [forEach, finish] = job.tasks as [JobTask, JobTask]
    t.equal(job.tasks!.length, 2)
    const fe = forEach.for_each_task as { inputs: string; concurrency: number; task: JobTask }
    t.equal(forEach.task_key, 'run_query')
    t.equal(typeof fe.inputs, 'string', 'inputs is a JSON string, not an array')
    t.same(
      JSON.parse(fe.inputs),
      slices.map((x) => `aws/${x.profile}`),
    )
    t.equal(fe.concurrency, 6)
    t.equal(fe.task.task_key, 'run_query_slice')
    t.equal(fe.task.job_cluster_key, 'runner')
    t.same(fe.task.spark_python_task!.parameters, [
      ...BASE_ARGS,
      '--profile',
      '{{input}}',
      '--job-run-id',
      '{{job.run_id}}',
    ])
    t.notOk(forEach.spark_python_task, 'the loop itself runs nothing')
    t.equal(finish.task_key, 'run_query_finish')
    t.same(finish.depends_on, [{ task_key: 'run_query' }])
    t.equal(finish.run_if, 'ALL_DONE', 'the summary is recorded after failed iterations too')
    t.same(finish.spark_python_task!.parameters, [
      ...BASE_ARGS,
      '--finish',
      '--profiles',
      slices.map((x) => `aws/${x.profile}`).join(','),
      '--job-run-id',
      '{{job.run_id}}',
    ])
    t.equal(Object.keys(job.job_clusters![0]!.new_cluster.spark_env_vars!).length, 18)

    // Rebuilding below the threshold (profiles removed) turns it back into one task.
    const few = awsProfiles(2)
    await jobs.updateInventoryJob(id, query, schedule, few.mappings, few.slices)
    t.equal(stored(s, id).tasks!.length, 1)
    t.notOk(stored(s, id).tasks![0]!.for_each_task)
  },
)

t.test('the runner gets each profile’s values back from the cluster env, and only those', async (t) => {
  const { s, jobs } = await setup(t)
  const { slices, mappings } = awsProfiles(10)
  const job = stored(s, await jobs.createInventoryJob(query, schedule, mappings, slices))
  // What the cluster exports once the workspace resolves the references.
  const resolved = Object.fromEntries(
    Object.entries(job.job_clusters![0]!.new_cluster.spark_env_vars!).map(([k, v]) => [
      k,
      v.replace(/^\{\{secrets\/inv\/(.+)\}\}$/, 'value-of-$1'),
    ]),
  )
  for (const { profile } of slices) {
    t.same(profileEnv(resolved, 'aws', profile), {
      AWS_ACCESS_KEY_ID: `value-of-${profile}-AWS_ACCESS_KEY_ID`,
      AWS_SECRET_ACCESS_KEY: `value-of-${profile}-AWS_SECRET_ACCESS_KEY`,
    })
  }
})

t.test('template tasks that ran after the runner now run after the finishing task', async (t) => {
  const template = {
    tasks: [
      {
        task_key: 'run_query',
        job_cluster_key: 'runner',
        spark_python_task: { python_file: '/Workspace/stackql/jobs/run_query.py', parameters: [] },
      },
      { task_key: 'notify', depends_on: [{ task_key: 'run_query' }], notebook_task: { notebook_path: '/n' } },
    ],
  }
  const { s, jobs } = await setup(t, { template })
  const { slices, mappings } = awsProfiles(9)
  const job = stored(s, await jobs.createInventoryJob(query, schedule, mappings, slices))
  t.same(
    job.tasks!.map((x) => x.task_key),
    ['run_query', 'run_query_finish', 'notify'],
  )
  t.same(job.tasks![2]!.depends_on, [{ task_key: 'run_query_finish' }])
})

t.test('bad profile names and concurrency are refused before the workspace is called', async (t) => {
  const { s, jobs } = await setup(t)
  const { mappings } = awsProfiles(2)
  await t.rejects(
    jobs.createInventoryJob(query, schedule, mappings, [{ provider: 'aws', profile: 'Prod!' }]),
    {
      code: 'VALIDATION',
      message: /"Prod!" is not a valid profile name/,
    },
  )
  await t.rejects(
    jobs.createInventoryJob(
      query,
      schedule,
      [{ ...mappings[0]!, profile: '-x' }],
      [{ provider: 'aws', profile: 'a' }],
    ),
    { code: 'VALIDATION', message: /"-x" is not a valid profile name/ },
  )
  await t.rejects(jobs.createInventoryJob(query, schedule, mappings, []), {
    code: 'VALIDATION',
    message: /profile aws\/acct-1 but runs across no profiles/,
  })
  t.notOk(s.state.requests.some((r) => r.path === '/api/2.2/jobs/create'))
  t.throws(
    () => new JobService({ api: {} as JobsApi, templateJob: 'x', timezone: 'UTC', forEachConcurrency: 101 }),
    {
      code: 'CONFIG_INVALID',
      message: /FOR_EACH_CONCURRENCY must be an integer from 1 to 100/,
    },
  )
})

t.test('a canary value of any profile reaches no job payload; only references are sent', async (t) => {
  const { s, jobs } = await setup(t)
  const { slices, mappings } = awsProfiles(12)
  const canaries = mappings.map((m, i) => {
    const v = `canary-${i}-${Math.random().toString(36).slice(2)}`
    s.state.putSecret('inv', m.secret_key, v)
    return v
  })
  const id = await jobs.createInventoryJob(query, schedule, mappings, slices)
  await jobs.updateInventoryJob(id, query, schedule, mappings, slices)
  await jobs.runNow(id)
  const payloads = s.state.allPayloads()
  for (const c of canaries) t.notOk(payloads.includes(c), 'no value in any request')
  t.ok(payloads.includes('{{secrets/inv/acct-11-AWS_SECRET_ACCESS_KEY}}'))
})
