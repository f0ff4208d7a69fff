// Task-graph rules the stand-in workspace checks on jobs/create, reset and update, beyond field
// shapes: unique task keys, depends_on naming tasks of the job, run_if values, job cluster keys,
// and for_each_task as documented for Jobs 2.2 (ARCHITECTURE.md "Fan-out on Databricks" cites
// the sources). Messages are ours; the error shape is the workspace's INVALID_PARAMETER_VALUE.
import type { TSchema } from 'typebox'
import { firstProblem } from './schemas.js'

/** jobs.ForEachTask.concurrency: "Default is 20, maximum allowed is 100." */
export const MAX_FOR_EACH_CONCURRENCY = 100
/** jobs.RunIf values. */
const RUN_IF = new Set([
  'ALL_SUCCESS',
  'ALL_DONE',
  'NONE_FAILED',
  'AT_LEAST_ONE_SUCCESS',
  'ALL_FAILED',
  'AT_LEAST_ONE_FAILED',
])
/** A whole-string dynamic value reference, e.g. {{job.parameters.profiles}} or {{tasks.t.values.x}}. */
const REFERENCE = /^\{\{\s*[A-Za-z_][\w.`-]*\s*\}\}$/
/** {{input}} and {{input.<key>}}: the for_each element, valid only in the nested task. */
const INPUT_REF = /\{\{\s*input(\.[^}]*)?\s*\}\}/

type Task = Record<string, unknown> & { task_key?: string }

function tasksOf(settings: Record<string, unknown>): Task[] {
  return Array.isArray(settings.tasks) ? (settings.tasks as Task[]) : []
}

/** The first string (outside nested for_each tasks) that uses {{input}}, as a path, or null. */
function inputRefOutsideNested(value: unknown, path: string): string | null {
  if (typeof value === 'string') return INPUT_REF.test(value) ? path : null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = inputRefOutsideNested(value[i], `${path}/${i}`)
      if (hit) return hit
    }
    return null
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'task' && path.endsWith('/for_each_task')) continue
      const hit = inputRefOutsideNested(v, `${path}/${k}`)
      if (hit) return hit
    }
  }
  return null
}

function forEachProblem(
  task: Task,
  at: string,
  taskSchema: TSchema,
  clusterKeys: Set<string>,
): string | null {
  const fe = task.for_each_task as { inputs: string; concurrency?: number; task: Task }
  const inputs = fe.inputs
  if (!REFERENCE.test(inputs.trim())) {
    let parsed: unknown
    try {
      parsed = JSON.parse(inputs)
    } catch {
      parsed = undefined
    }
    if (!Array.isArray(parsed)) {
      return `Invalid for_each_task inputs at ${at}/for_each_task/inputs: expected a JSON array or a reference to an array parameter, got ${JSON.stringify(inputs.slice(0, 100))}`
    }
  }
  if (fe.concurrency !== undefined && (fe.concurrency < 1 || fe.concurrency > MAX_FOR_EACH_CONCURRENCY)) {
    return `Invalid for_each_task concurrency ${fe.concurrency} at ${at}/for_each_task/concurrency: must be between 1 and ${MAX_FOR_EACH_CONCURRENCY}`
  }
  const nested = fe.task
  const shape = firstProblem(taskSchema, nested)
  if (shape)
    return shape
      .replace(/ at \//, ` at ${at}/for_each_task/task/`)
      .replace(/ at \/$/, ` at ${at}/for_each_task/task`)
  if (nested.for_each_task !== undefined) {
    return `Task ${task.task_key} is a for_each_task whose nested task ${nested.task_key} is a for_each_task too; a For each task cannot be nested`
  }
  if (nested.depends_on !== undefined) {
    return `The nested task ${nested.task_key} of for_each_task ${task.task_key} cannot have depends_on`
  }
  if (typeof nested.job_cluster_key === 'string' && !clusterKeys.has(nested.job_cluster_key)) {
    return `Task ${nested.task_key} refers to job cluster ${nested.job_cluster_key}, which is not defined in job_clusters`
  }
  return null
}

/**
 * The first task-graph problem of a job's settings, or null. `taskSchema` validates a nested
 * for_each task like a top-level one.
 */
export function taskGraphProblem(settings: Record<string, unknown>, taskSchema: TSchema): string | null {
  const tasks = tasksOf(settings)
  const keys = new Set<string>()
  for (const t of tasks) {
    if (keys.has(t.task_key!))
      return `Task key ${t.task_key} is used by more than one task; task keys must be unique`
    keys.add(t.task_key!)
  }
  const clusterKeys = new Set(
    (Array.isArray(settings.job_clusters)
      ? (settings.job_clusters as { job_cluster_key: string }[])
      : []
    ).map((c) => c.job_cluster_key),
  )
  for (const [i, t] of tasks.entries()) {
    const at = `/tasks/${i}`
    for (const dep of (t.depends_on as { task_key: string }[] | undefined) ?? []) {
      if (dep.task_key === t.task_key) return `Task ${t.task_key} cannot depend on itself`
      if (!keys.has(dep.task_key)) {
        return `Task ${t.task_key} depends on task ${dep.task_key}, which is not defined in this job`
      }
    }
    if (t.run_if !== undefined && !RUN_IF.has(String(t.run_if))) {
      return `Invalid run_if ${JSON.stringify(t.run_if)} at ${at}/run_if: must be one of ${[...RUN_IF].join(', ')}`
    }
    if (typeof t.job_cluster_key === 'string' && !clusterKeys.has(t.job_cluster_key)) {
      return `Task ${t.task_key} refers to job cluster ${t.job_cluster_key}, which is not defined in job_clusters`
    }
    if (t.for_each_task !== undefined) {
      const problem = forEachProblem(t, at, taskSchema, clusterKeys)
      if (problem) return problem
    }
  }
  const stray = inputRefOutsideNested(settings, '')
  if (stray) {
    return `{{input}} is used at ${stray}, outside the nested task of a for_each_task; it is only available to the nested task`
  }
  return null
}
