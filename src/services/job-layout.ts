// How a schedule's profile slices become job tasks and cluster environment: today's single task
// for the default profile, one task running every slice itself (`--profiles`), or, above
// FOR_EACH_THRESHOLD slices, a for_each_task over the slices followed by a finishing task.
import type { JobTask } from '../databricks/jobs-api.js'
import { AppError } from '../errors.js'
import { ENV_VAR_PATTERN, SECRET_NAME_PATTERN } from '../models.js'
import { clusterEnvName } from '../profiles/cluster-env.js'

export const DEFAULT_PROFILE = 'default'
const PROFILE = /^[a-z0-9][a-z0-9_-]{0,39}$/
const PROVIDER = /^[a-z][a-z0-9_]{0,62}$/

/** One slice of a fan-out: one profile of one provider, its own StackQL process. */
export interface ProfileSlice {
  provider: string
  profile: string
}

/** A provider mapping as the job needs it; a mapping without `profile` belongs to `default`. */
export interface ProfileMapping {
  provider: string
  profile?: string
  env_var_name: string
  secret_scope: string
  secret_key: string
}

export interface LayoutOptions {
  /** FOR_EACH_THRESHOLD: more slices than this become a for_each_task. */
  forEachThreshold: number
  /** FOR_EACH_CONCURRENCY: the for_each_task's concurrency (1-100). */
  forEachConcurrency: number
}

/** Runner flags of the slice contract (ARCHITECTURE.md "Fan-out on Databricks"). */
export const SLICE_FLAGS = ['--profiles', '--profile', '--finish', '--job-run-id']
/** Jobs resolves this per run; every task of one run passes the same value. */
export const JOB_RUN_ID_REF = '{{job.run_id}}'
/** The for_each_task's current element, valid only inside its nested task. */
export const INPUT_REF = '{{input}}'
/** Documented bounds of for_each_task.concurrency (Jobs API 2.2: maximum allowed is 100). */
export const MAX_FOR_EACH_CONCURRENCY = 100
const MAX_TASK_KEY = 100

export type JobLayout = 'single' | 'slices' | 'for_each'

/** `aws/prod`: how a slice is named on the runner's command line and in for_each inputs. */
export function sliceId(s: ProfileSlice): string {
  return `${s.provider}/${s.profile}`
}

function profileOf(m: ProfileMapping): string {
  return m.profile ?? DEFAULT_PROFILE
}

/** Validates and de-duplicates slices, keeping their order. */
export function normaliseSlices(slices: ProfileSlice[]): ProfileSlice[] {
  const seen = new Set<string>()
  const out: ProfileSlice[] = []
  for (const s of slices) {
    if (!PROVIDER.test(s.provider))
      throw new AppError('VALIDATION', `"${s.provider}" is not a valid provider name.`)
    if (!PROFILE.test(s.profile)) {
      throw new AppError(
        'VALIDATION',
        `"${s.profile}" is not a valid profile name: use 1-40 lowercase letters, digits, "_" or "-", starting with a letter or digit.`,
      )
    }
    const id = sliceId(s)
    if (!seen.has(id)) {
      seen.add(id)
      out.push({ provider: s.provider, profile: s.profile })
    }
  }
  return out
}

/**
 * Which layout a job gets. Only default-profile mappings and slices: today's single task with
 * plain env names (existing jobs stay as they are). Otherwise slices run in one task up to the
 * threshold, and as a for_each_task above it.
 */
export function chooseLayout(
  slices: ProfileSlice[],
  mappings: ProfileMapping[],
  opts: LayoutOptions,
): JobLayout {
  const allDefault =
    slices.every((s) => s.profile === DEFAULT_PROFILE) &&
    mappings.every((m) => profileOf(m) === DEFAULT_PROFILE)
  if (allDefault) return 'single'
  if (slices.length === 0) {
    const m = mappings.find((x) => profileOf(x) !== DEFAULT_PROFILE)!
    throw new AppError(
      'VALIDATION',
      `The job has credentials of profile ${m.provider}/${profileOf(m)} but runs across no profiles; name the profiles (slices) the schedule runs across.`,
    )
  }
  return slices.length > opts.forEachThreshold ? 'for_each' : 'slices'
}

export function secretReference(m: ProfileMapping): string {
  for (const [what, v] of [
    ['scope', m.secret_scope],
    ['key', m.secret_key],
  ] as const) {
    if (!new RegExp(SECRET_NAME_PATTERN).test(v)) {
      throw new AppError(
        'VALIDATION',
        `The provider mapping for ${m.env_var_name} has an invalid secret ${what} "${v}".`,
      )
    }
  }
  if (!new RegExp(ENV_VAR_PATTERN).test(m.env_var_name)) {
    throw new AppError('VALIDATION', `"${m.env_var_name}" is not a valid environment variable name.`)
  }
  return `{{secrets/${m.secret_scope}/${m.secret_key}}}`
}

/**
 * The cluster's credential variables: plain names in the single layout (today's), else every
 * profile's reference under its profile-qualified name (src/profiles/cluster-env.ts).
 */
export function credentialEnv(layout: JobLayout, mappings: ProfileMapping[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const m of mappings) {
    const ref = secretReference(m)
    if (layout === 'single') {
      env[m.env_var_name] = ref
      continue
    }
    const profile = profileOf(m)
    if (!PROFILE.test(profile)) throw new AppError('VALIDATION', `"${profile}" is not a valid profile name.`)
    env[clusterEnvName(m.provider, profile, m.env_var_name)] = ref
  }
  return env
}

function taskKey(base: string, suffix: string): string {
  const key = `${base}${suffix}`
  if (key.length > MAX_TASK_KEY) {
    throw new AppError(
      'CONFIG_INVALID',
      `The template job's runner task key "${base}" is too long to derive "${suffix}" from (task keys have at most ${MAX_TASK_KEY} characters). Shorten it in the bundle.`,
    )
  }
  return key
}

/**
 * The runner task(s) for a layout, from the template's runner task (whose parameters already
 * carry the schedule's runner arguments). Returns the tasks replacing it, and the key that
 * tasks which depended on the runner should depend on now.
 */
export function layoutTasks(
  runner: JobTask,
  layout: JobLayout,
  slices: ProfileSlice[],
  opts: LayoutOptions,
): { tasks: JobTask[]; lastKey: string } {
  const params = runner.spark_python_task?.parameters ?? []
  const withParams = (task: JobTask, extra: string[]): JobTask => ({
    ...task,
    spark_python_task: { ...task.spark_python_task!, parameters: [...params, ...extra] },
  })
  if (layout === 'single') return { tasks: [runner], lastKey: runner.task_key }
  const ids = slices.map(sliceId)
  if (layout === 'slices') {
    return { tasks: [withParams(runner, ['--profiles', ids.join(',')])], lastKey: runner.task_key }
  }
  const concurrency = Math.min(Math.max(1, Math.trunc(opts.forEachConcurrency)), MAX_FOR_EACH_CONCURRENCY)
  const { task_key, depends_on, run_if, ...body } = runner
  const nested = withParams({ ...body, task_key: taskKey(task_key, '_slice') }, [
    '--profile',
    INPUT_REF,
    '--job-run-id',
    JOB_RUN_ID_REF,
  ])
  const forEach: JobTask = {
    task_key,
    ...(depends_on ? { depends_on } : {}),
    ...(run_if ? { run_if } : {}),
    for_each_task: { inputs: JSON.stringify(ids), concurrency, task: nested },
  }
  // ALL_DONE: the finish task runs after failed iterations too, so a partial run is recorded.
  const finish = withParams(
    { ...body, task_key: taskKey(task_key, '_finish'), depends_on: [{ task_key }], run_if: 'ALL_DONE' },
    ['--finish', '--profiles', ids.join(','), '--job-run-id', JOB_RUN_ID_REF],
  )
  return { tasks: [forEach, finish], lastKey: finish.task_key }
}
