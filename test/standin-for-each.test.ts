// The stand-in workspace refuses for_each_task and task-graph mistakes as the Jobs API does, so the
// job-service's for_each jobs are really checked (test/job-layout.test.ts).
import t, { type Test } from 'tap'
import { DatabricksClient } from '../src/databricks/client.js'
import { type JobSettings, JobsApi, type JobTask } from '../src/databricks/jobs-api.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const PAT = 'dapi-for-each'

async function setup(t: Test) {
  const s = await startDatabricksStandin({ pats: [PAT] })
  const client = new DatabricksClient({ host: s.url, token: PAT }, { baseBackoffMs: 1, maxBackoffMs: 2 })
  t.teardown(async () => {
    await client.close()
    await s.close()
  })
  return { s, api: new JobsApi(client), client }
}

const nested = (over: Partial<JobTask> = {}): JobTask => ({
  task_key: 'slice',
  job_cluster_key: 'runner',
  spark_python_task: { python_file: '/x/launcher.py', parameters: ['--profile', '{{input}}'] },
  ...over,
})

function job(forEach: Record<string, unknown>, extraTasks: JobTask[] = []): JobSettings {
  return {
    name: 'fan-out',
    job_clusters: [
      { job_cluster_key: 'runner', new_cluster: { spark_version: '15.4.x-scala2.12', num_workers: 0 } },
    ],
    tasks: [
      { task_key: 'slices', for_each_task: { inputs: '["aws/a","aws/b"]', task: nested(), ...forEach } },
      ...extraTasks,
    ],
  }
}

async function refused(t: Test, api: JobsApi, settings: JobSettings, message: RegExp) {
  await t.rejects(api.create(settings), { code: 'DATABRICKS_BAD_REQUEST', message })
}

t.test(
  'a well-formed for_each job with a following task is accepted, and so is a reference input',
  async (t) => {
    const { api, s } = await setup(t)
    const id = await api.create(
      job({ concurrency: 100 }, [
        {
          task_key: 'finish',
          depends_on: [{ task_key: 'slices' }],
          run_if: 'ALL_DONE',
          job_cluster_key: 'runner',
          spark_python_task: { python_file: '/x/launcher.py', parameters: ['--finish'] },
        },
      ]),
    )
    t.ok(s.state.jobs.has(Number(id)))
    await api.create(job({ inputs: '{{job.parameters.profiles}}' }))
    await api.create(job({ inputs: '[]' }))
  },
)

t.test('the error has the workspace’s shape: 400 INVALID_PARAMETER_VALUE with a message', async (t) => {
  const { client } = await setup(t)
  const res = await fetch(`${client.host}/api/2.2/jobs/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${PAT}`, 'content-type': 'application/json' },
    body: JSON.stringify(job({ inputs: 'not json' })),
  })
  t.equal(res.status, 400)
  t.match(await res.json(), { error_code: 'INVALID_PARAMETER_VALUE', message: /for_each_task inputs/ })
})

t.test('inputs must be a string holding a JSON array or a {{…}} reference', async (t) => {
  const { api } = await setup(t)
  await refused(t, api, job({ inputs: ['aws/a', 'aws/b'] }), /for_each_task\/inputs: must be string/)
  await refused(t, api, job({ inputs: 'aws/a,aws/b' }), /expected a JSON array or a reference/)
  await refused(t, api, job({ inputs: '{"a":1}' }), /expected a JSON array/)
  await refused(t, api, job({ inputs: '"aws/a"' }), /expected a JSON array/)
  await refused(t, api, job({ inputs: '{{job.parameters.x}} and more' }), /expected a JSON array/)
})

t.test('concurrency is an integer from 1 to the documented maximum of 100', async (t) => {
  const { api } = await setup(t)
  await refused(t, api, job({ concurrency: 0 }), /concurrency 0 .*between 1 and 100/)
  await refused(t, api, job({ concurrency: 101 }), /concurrency 101 .*between 1 and 100/)
  await refused(t, api, job({ concurrency: 2.5 }), /concurrency: must be integer/)
  await api.create(job({ concurrency: 1 }))
})

t.test('the nested task is checked like any task, and cannot be a for_each_task itself', async (t) => {
  const { api } = await setup(t)
  await refused(t, api, job({ task: undefined }), /Missing required field\(s\) 'task'/)
  await refused(
    t,
    api,
    job({ task: nested({ nope: 1 }) }),
    /Unknown field\(s\) 'nope' at \/tasks\/0\/for_each_task\/task/,
  )
  await refused(
    t,
    api,
    job({ task: nested({ spark_python_task: { parameters: [] } as never }) }),
    /Missing required field\(s\) 'python_file'/,
  )
  await refused(
    t,
    api,
    job({ task: { task_key: 'inner', for_each_task: { inputs: '[1]', task: nested() } } }),
    /cannot be nested/,
  )
  await refused(
    t,
    api,
    job({ task: nested({ depends_on: [{ task_key: 'slices' }] }) }),
    /cannot have depends_on/,
  )
  await refused(t, api, job({ task: nested({ job_cluster_key: 'missing' }) }), /job cluster missing/)
  await refused(t, api, job({ extra: true }), /Unknown field\(s\) 'extra' at \/tasks\/0\/for_each_task/)
})

t.test('{{input}} is only allowed inside the nested task', async (t) => {
  const { api } = await setup(t)
  const stray: JobTask = {
    task_key: 'finish',
    depends_on: [{ task_key: 'slices' }],
    job_cluster_key: 'runner',
    spark_python_task: { python_file: '/x/launcher.py', parameters: ['--profile', '{{input}}'] },
  }
  await refused(
    t,
    api,
    job({}, [stray]),
    /\{\{input\}\} is used at \/tasks\/1\/spark_python_task\/parameters\/1/,
  )
  await refused(
    t,
    api,
    job({ inputs: '["{{input.x}}"]' }),
    /\{\{input\}\} is used at \/tasks\/0\/for_each_task\/inputs/,
  )
  await refused(
    t,
    api,
    { ...job({}), parameters: [{ name: 'p', default: '{{input}}' }] },
    /outside the nested task/,
  )
})

t.test('depends_on must name tasks of the job, task keys are unique, run_if is a known value', async (t) => {
  const { api } = await setup(t)
  const after = (over: Partial<JobTask>): JobTask => ({
    task_key: 'finish',
    job_cluster_key: 'runner',
    spark_python_task: { python_file: '/x/launcher.py' },
    ...over,
  })
  await refused(
    t,
    api,
    job({}, [after({ depends_on: [{ task_key: 'slice' }] })]),
    /depends on task slice, which is not defined/,
  )
  await refused(t, api, job({}, [after({ depends_on: [{ task_key: 'finish' }] })]), /cannot depend on itself/)
  await refused(
    t,
    api,
    job({}, [after({ task_key: 'slices' })]),
    /Task key slices is used by more than one task/,
  )
  await refused(t, api, job({}, [after({ run_if: 'WHENEVER' })]), /Invalid run_if "WHENEVER"/)
  await refused(t, api, job({}, [after({ job_cluster_key: 'gone' })]), /job cluster gone/)
})

t.test('jobs/reset and jobs/update apply the same rules', async (t) => {
  const { api } = await setup(t)
  const id = await api.create(job({}))
  await t.rejects(api.reset(id, job({ concurrency: 500 })), { message: /between 1 and 100/ })
  await t.rejects(api.update(id, { tasks: job({ inputs: 'x' }).tasks }), { message: /for_each_task inputs/ })
})
