// A schedule's job definition, cloned from the template job's settings: name, tags, the runner's
// parameters, the slice layout (job-layout.ts), credential references in spark_env_vars (never
// values) and the Quartz schedule. Pure: the template is passed in.
import type { JobSettings, JobTask } from '../databricks/jobs-api.js'
import { parseSchedule } from '../databricks/quartz.js'
import { AppError } from '../errors.js'
import type { Query, Schedule } from '../models.js'
import {
  chooseLayout,
  credentialEnv,
  type LayoutOptions,
  layoutTasks,
  normaliseSlices,
  type ProfileMapping,
  type ProfileSlice,
  SLICE_FLAGS,
} from './job-layout.js'
import { runnerArgs } from './runner-args.js'

export interface JobSettingsInput {
  template: JobSettings
  /** How the template was named (for messages). */
  templateJob: string
  timezone: string
  appTag: string
  layout: LayoutOptions
}

/** Runner flags this service owns in the task parameters; the template's other parameters stay. */
const RUNNER_FLAGS = ['--query-id', '--target-schema', '--target-table', '--schedule-id', ...SLICE_FLAGS]
/** Flags of RUNNER_FLAGS that take no value. */
const SWITCHES = new Set(['--finish'])

/**
 * Template fields a created job must not copy: bundle bookkeeping (the job would claim to be
 * bundle-managed and be locked in the UI), other trigger kinds (one of schedule/trigger/continuous),
 * and run_as (created jobs run as the app's service principal, their creator).
 */
const DROPPED_TEMPLATE_FIELDS = [
  'deployment',
  'edit_mode',
  'trigger',
  'continuous',
  'run_as',
  'access_control_list',
]

const MAX_TAGS = 25

function stripRunnerFlags(params: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!
    if (RUNNER_FLAGS.includes(p)) {
      if (!SWITCHES.has(p)) i++ // and its value
      continue
    }
    if (RUNNER_FLAGS.some((f) => p.startsWith(`${f}=`))) continue
    out.push(p)
  }
  return out
}

/**
 * The job definition for a schedule. `slices` are the profiles the schedule runs across (none, or
 * only `default` ones: today's single-task layout, unchanged); `mappings` every profile's
 * credential mappings the slices need.
 */
export function buildJobSettings(
  input: JobSettingsInput,
  query: Query,
  schedule: Schedule,
  mappings: ProfileMapping[],
  slices: ProfileSlice[] = [],
): JobSettings {
  const parsed = parseSchedule(schedule.cron_expression, input.timezone)
  const settings: JobSettings = structuredClone(input.template)
  for (const f of DROPPED_TEMPLATE_FIELDS) delete settings[f]

  const target = `${schedule.target_schema}.${schedule.target_table}`
  settings.name = `stackql-inventory: ${query.name} -> ${target}`.slice(0, 4096)

  const ourTags: Record<string, string> = {
    app: input.appTag,
    schedule_id: String(schedule.id),
    query_id: String(query.id),
    target_table: target,
  }
  const theirTags = Object.entries(settings.tags ?? {}).filter(([k]) => !(k in ourTags))
  settings.tags = {
    ...Object.fromEntries(theirTags.slice(0, MAX_TAGS - Object.keys(ourTags).length)),
    ...ourTags,
  }

  const wanted = normaliseSlices(slices)
  const layout = chooseLayout(wanted, mappings, input.layout)
  const args = runnerArgs({ ...schedule, query_id: query.id })
  const tasks: JobTask[] = settings.tasks ?? []
  const runnerTasks = tasks.filter((t) => t.spark_python_task)
  if (runnerTasks.length === 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `The template job "${input.templateJob}" has no spark_python_task to run the inventory runner. Redeploy the bundle's template job.`,
    )
  }
  if (layout === 'for_each' && runnerTasks.length > 1) {
    throw new AppError(
      'CONFIG_INVALID',
      `The template job "${input.templateJob}" has ${runnerTasks.length} spark_python_tasks; a schedule with ${wanted.length} profiles runs one for_each task and needs exactly one runner task. Redeploy the bundle's template job.`,
    )
  }
  for (const task of runnerTasks) {
    const spt = task.spark_python_task!
    spt.parameters = [...stripRunnerFlags(spt.parameters ?? []), ...args]
  }
  const laidOut: JobTask[] = []
  const others: JobTask[] = []
  const renamed = new Map<string, string>()
  for (const task of tasks) {
    if (!task.spark_python_task) {
      laidOut.push(task)
      others.push(task)
      continue
    }
    const { tasks: replacement, lastKey } = layoutTasks(task, layout, wanted, input.layout)
    if (lastKey !== task.task_key) renamed.set(task.task_key, lastKey)
    laidOut.push(...replacement)
  }
  // The template's other tasks that ran after the runner now run after the finishing task.
  for (const task of others) {
    for (const dep of (task.depends_on as { task_key: string }[] | undefined) ?? []) {
      dep.task_key = renamed.get(dep.task_key) ?? dep.task_key
    }
  }
  settings.tasks = laidOut

  const refs = credentialEnv(layout, mappings)
  const clusters = [
    ...(settings.job_clusters ?? []).map((c) => c.new_cluster),
    ...laidOut.flatMap((t) => {
      const nested = (t.for_each_task as { task?: JobTask } | undefined)?.task
      return [t.new_cluster, nested?.new_cluster].filter((c) => c !== undefined)
    }),
  ]
  if (clusters.length === 0 && mappings.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `The template job "${input.templateJob}" has no classic job cluster (job_clusters[].new_cluster): provider credentials can only reach the runner as {{secrets/...}} references in spark_env_vars. Redeploy the bundle's template job.`,
    )
  }
  for (const cluster of clusters) {
    const own = cluster.spark_env_vars ?? {}
    const clash = Object.keys(refs).find((k) => k in own)
    if (clash) {
      throw new AppError(
        'VALIDATION',
        `The provider mapping ${clash} clashes with an environment variable the template job sets itself; map the credential to another variable name.`,
      )
    }
    cluster.spark_env_vars = { ...own, ...refs }
  }

  settings.schedule = {
    quartz_cron_expression: parsed.quartz,
    timezone_id: input.timezone,
    pause_status: schedule.is_active ? 'UNPAUSED' : 'PAUSED',
  }
  settings.max_concurrent_runs = 1
  return settings
}
