// Runs a job stored in the stand-in workspace the way Jobs runs it, with the REAL runner
// (jobs/run-query.ts, bundled) for every spark_python_task: the job cluster's spark_env_vars with their
// {{secrets/scope/key}} references resolved from the workspace's secrets, tasks in depends_on order
// honouring run_if, a for_each_task's nested task once per element of its `inputs` JSON array
// (at most `concurrency` at once) with {{input}} substituted, and {{job.run_id}} the same value in
// every task of the run (Jobs docs: "Use a For each task to run another task in a loop";
// "What is a dynamic value reference?").
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { JobSettings, JobTask } from '../../src/databricks/jobs-api.js'
import { runBounded } from '../../src/fanout/slices.js'
import type { Standin } from '../standins/databricks/index.js'
import { runnerArgv } from './runner-process.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface TaskRun {
  task_key: string
  /** The for_each element, for iterations. */
  input?: string
  code: number | null
  output: string
}

interface ForEach {
  inputs: string
  concurrency?: number
  task: JobTask
}
const dependsOn = (t: JobTask) => (t.depends_on ?? []) as { task_key: string }[]

export interface JobRunOptions {
  /** Environment every task gets besides the cluster's (PATH, DATABASE_URL, STACKQL_BIN, ...). */
  baseEnv: Record<string, string>
  jobRunId: string
  /** Iterations to leave out (as if their node died before they started). */
  skipInputs?: string[]
}

function runTask(task: JobTask, env: Record<string, string>, subst: Record<string, string>) {
  const params = (task.spark_python_task?.parameters ?? []).map((p) =>
    p.replace(/\{\{(input|job\.run_id)\}\}/g, (_m, name: string) => {
      const v = subst[name]
      if (v === undefined) throw new Error(`${name} is not defined in task ${task.task_key}`)
      return v
    }),
  )
  // jobs/launcher.py adds --trigger databricks unless the parameters name a trigger.
  const args = params.includes('--trigger') ? params : [...params, '--trigger', 'databricks']
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [...runnerArgv(), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    child.on('exit', (code) => resolve({ code, output }))
  })
}

/** The cluster environment with every secret reference resolved (what a job cluster's processes see). */
export function clusterEnvironment(standin: Standin, settings: JobSettings): Record<string, string> {
  const vars = settings.job_clusters?.[0]?.new_cluster.spark_env_vars ?? {}
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(vars)) {
    out[name] = String(value).replace(
      /\{\{secrets\/([^/}]+)\/([^}]+)\}\}/g,
      (_m, scope: string, key: string) => {
        const v = standin.state.secrets.get(scope)?.get(key)
        if (v === undefined) throw new Error(`secret ${scope}/${key} does not exist`)
        return v
      },
    )
  }
  return out
}

/** Runs job `jobId` once; returns every task (and iteration) run in order of completion. */
export async function runStoredJob(standin: Standin, jobId: number, opts: JobRunOptions): Promise<TaskRun[]> {
  const settings = standin.state.jobs.get(jobId)!.settings as JobSettings
  const env = { ...opts.baseEnv, ...clusterEnvironment(standin, settings) }
  const tasks = settings.tasks ?? []
  const done = new Map<string, boolean>()
  const runs: TaskRun[] = []
  const subst = { 'job.run_id': opts.jobRunId }
  while (done.size < tasks.length) {
    const ready = tasks.filter(
      (t) => !done.has(t.task_key) && dependsOn(t).every((d) => done.has(d.task_key)),
    )
    if (!ready.length) throw new Error('the job has a dependency cycle')
    for (const task of ready) {
      const deps = dependsOn(task).map((d) => done.get(d.task_key)!)
      const runIf = (task.run_if as string | undefined) ?? 'ALL_SUCCESS'
      const go =
        runIf === 'ALL_DONE' ||
        (runIf === 'ALL_SUCCESS' && deps.every(Boolean)) ||
        (runIf === 'AT_LEAST_ONE_SUCCESS' && deps.some(Boolean)) ||
        (runIf === 'NONE_FAILED' && deps.every(Boolean))
      if (!go) {
        done.set(task.task_key, false)
        continue
      }
      const fe = task.for_each_task as ForEach | undefined
      if (fe) {
        const inputs = (JSON.parse(fe.inputs) as string[]).filter((i) => !opts.skipInputs?.includes(i))
        const results = await runBounded(inputs, fe.concurrency ?? 20, async (input) => {
          const r = await runTask(fe.task, env, { ...subst, input })
          runs.push({ task_key: fe.task.task_key, input, ...r })
          return r.code === 0
        })
        done.set(task.task_key, results.every(Boolean) && inputs.length === JSON.parse(fe.inputs).length)
      } else {
        const r = await runTask(task, env, subst)
        runs.push({ task_key: task.task_key, ...r })
        done.set(task.task_key, r.code === 0)
      }
    }
  }
  return runs
}
