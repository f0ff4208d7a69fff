// One Databricks job per schedule, cloned from the template job the bundle deploys: the runner's
// parameters, provider credentials as {{secrets/...}} references (never values), the Quartz schedule.
import type { JobSettings, JobsApi, JobTask, RunSummary } from '../databricks/jobs-api.js'
import { assertTimezone, parseSchedule } from '../databricks/quartz.js'
import { AppError, isAppError } from '../errors.js'
import {
  ENV_VAR_PATTERN,
  type ProviderConfig,
  type Query,
  type Schedule,
  SECRET_NAME_PATTERN,
} from '../models.js'
import { runnerArgs } from './runner-args.js'

export interface JobServiceOptions {
  api: JobsApi
  /** INVENTORY_TEMPLATE_JOB: the template job's numeric id or its exact name. */
  templateJob: string
  /** JOB_TIMEZONE: Java timezone id for the schedules. */
  timezone: string
  /** Value of the `app` tag on created jobs. */
  appTag?: string
}

export interface JobRunStatus {
  runId: string
  /** Life-cycle state: QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, ... */
  state: string
  /** Outcome once finished: SUCCESS, FAILED, TIMEDOUT, CANCELED. */
  result?: string
  message?: string
  startTime?: Date
  endTime?: Date
  runPageUrl: string
}

/** Runner flags this service owns in the task parameters; the template's other parameters stay. */
const RUNNER_FLAGS = ['--query-id', '--target-schema', '--target-table', '--schedule-id']

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
      i++ // and its value
      continue
    }
    if (RUNNER_FLAGS.some((f) => p.startsWith(`${f}=`))) continue
    out.push(p)
  }
  return out
}

function secretReference(pc: ProviderConfig): string {
  for (const [what, v] of [
    ['scope', pc.secret_scope],
    ['key', pc.secret_key],
  ] as const) {
    if (!new RegExp(SECRET_NAME_PATTERN).test(v)) {
      throw new AppError(
        'VALIDATION',
        `The provider mapping for ${pc.env_var_name} has an invalid secret ${what} "${v}".`,
      )
    }
  }
  if (!new RegExp(ENV_VAR_PATTERN).test(pc.env_var_name)) {
    throw new AppError('VALIDATION', `"${pc.env_var_name}" is not a valid environment variable name.`)
  }
  return `{{secrets/${pc.secret_scope}/${pc.secret_key}}}`
}

export class JobService {
  private readonly api: JobsApi
  private readonly templateJob: string
  private readonly timezone: string
  private readonly appTag: string

  constructor(opts: JobServiceOptions) {
    assertTimezone(opts.timezone)
    this.api = opts.api
    this.templateJob = opts.templateJob
    this.timezone = opts.timezone
    this.appTag = opts.appTag ?? 'stackql-inventory'
  }

  async createInventoryJob(
    query: Query,
    schedule: Schedule,
    providerConfigs: ProviderConfig[],
  ): Promise<string> {
    const settings = await this.buildSettings(query, schedule, providerConfigs)
    return this.api.create(settings)
  }

  /** Replaces the job's whole definition with one rebuilt from the current template and schedule. */
  async updateInventoryJob(
    jobId: string,
    query: Query,
    schedule: Schedule,
    providerConfigs: ProviderConfig[],
  ): Promise<void> {
    const settings = await this.buildSettings(query, schedule, providerConfigs)
    await this.api.reset(jobId, settings)
  }

  /** Deletes the job; a job that is already gone counts as deleted. */
  async deleteInventoryJob(jobId: string): Promise<void> {
    try {
      await this.api.delete(jobId)
    } catch (e) {
      if (isJobMissing(e)) return
      throw e
    }
  }

  async pauseInventoryJob(jobId: string): Promise<void> {
    await this.setPauseStatus(jobId, 'PAUSED')
  }

  async resumeInventoryJob(jobId: string): Promise<void> {
    await this.setPauseStatus(jobId, 'UNPAUSED')
  }

  async runNow(jobId: string): Promise<{ runId: string }> {
    return { runId: await this.api.runNow(jobId) }
  }

  /** The job's latest run, or null when it never ran. */
  async getJobRunStatus(jobId: string): Promise<JobRunStatus | null> {
    const [run] = await this.api.listRuns(jobId, 1)
    return run ? this.describeRun(run) : null
  }

  describeRun(run: RunSummary): JobRunStatus {
    const status = run.status
    const legacy = run.state
    const state = status?.state ?? legacy?.life_cycle_state ?? 'UNKNOWN'
    let result: string | undefined
    const td = status?.termination_details
    if (td?.type || td?.code) {
      const code = td.code ?? ''
      result =
        td.type === 'SUCCESS' || code === 'SUCCESS'
          ? 'SUCCESS'
          : /CANCEL/.test(code)
            ? 'CANCELED'
            : /TIME/.test(code)
              ? 'TIMEDOUT'
              : 'FAILED'
    } else if (legacy?.result_state) {
      result = legacy.result_state
    }
    return {
      runId: run.run_id,
      state,
      result,
      message: td?.message || legacy?.state_message || undefined,
      startTime: run.start_time ? new Date(run.start_time) : undefined,
      endTime: run.end_time ? new Date(run.end_time) : undefined,
      runPageUrl: run.run_page_url ?? `${this.api.client.host}/jobs/${run.job_id}/runs/${run.run_id}`,
    }
  }

  private async setPauseStatus(jobId: string, pauseStatus: 'PAUSED' | 'UNPAUSED'): Promise<void> {
    const job = await this.api.get(jobId)
    const schedule = job.settings.schedule
    if (!schedule) {
      throw new AppError(
        'DATABRICKS_BAD_REQUEST',
        `Job ${jobId} has no schedule to ${pauseStatus === 'PAUSED' ? 'pause' : 'resume'}; delete and recreate the schedule.`,
      )
    }
    // jobs/update replaces top-level fields: send the whole schedule object.
    await this.api.update(jobId, { schedule: { ...schedule, pause_status: pauseStatus } })
  }

  /** Finds the template job by numeric id, or by exact name. */
  async loadTemplate(): Promise<JobSettings> {
    const ref = this.templateJob.trim()
    const hint = `Deploy the bundle (databricks bundle deploy), or set INVENTORY_TEMPLATE_JOB to the template job's id or exact name.`
    if (/^\d+$/.test(ref)) {
      try {
        return (await this.api.get(ref)).settings
      } catch (e) {
        if (isJobMissing(e)) {
          throw new AppError('DATABRICKS_NOT_FOUND', `The template job ${ref} does not exist. ${hint}`, {
            cause: e,
          })
        }
        throw e
      }
    }
    const found = await this.api.listByName(ref)
    if (found.length === 0) {
      throw new AppError(
        'DATABRICKS_NOT_FOUND',
        `No job named "${ref}" was found to use as the template. ${hint}`,
      )
    }
    if (found.length > 1) {
      throw new AppError(
        'DATABRICKS_BAD_REQUEST',
        `${found.length} jobs are named "${ref}" (ids ${found.map((j) => j.job_id).join(', ')}); set INVENTORY_TEMPLATE_JOB to the id of the template job.`,
      )
    }
    // jobs/list returns no task definitions: fetch the full settings.
    return (await this.api.get(found[0]!.job_id)).settings
  }

  async buildSettings(
    query: Query,
    schedule: Schedule,
    providerConfigs: ProviderConfig[],
  ): Promise<JobSettings> {
    const parsed = parseSchedule(schedule.cron_expression, this.timezone)
    const template = await this.loadTemplate()
    const settings: JobSettings = structuredClone(template)
    for (const f of DROPPED_TEMPLATE_FIELDS) delete settings[f]

    const target = `${schedule.target_schema}.${schedule.target_table}`
    settings.name = `stackql-inventory: ${query.name} -> ${target}`.slice(0, 4096)

    const ourTags: Record<string, string> = {
      app: this.appTag,
      schedule_id: String(schedule.id),
      query_id: String(query.id),
      target_table: target,
    }
    const theirTags = Object.entries(settings.tags ?? {}).filter(([k]) => !(k in ourTags))
    settings.tags = {
      ...Object.fromEntries(theirTags.slice(0, MAX_TAGS - Object.keys(ourTags).length)),
      ...ourTags,
    }

    const args = runnerArgs({ ...schedule, query_id: query.id })
    const tasks: JobTask[] = settings.tasks ?? []
    const runnerTasks = tasks.filter((t) => t.spark_python_task)
    if (runnerTasks.length === 0) {
      throw new AppError(
        'CONFIG_INVALID',
        `The template job "${this.templateJob}" has no spark_python_task to run the inventory runner. Redeploy the bundle's template job.`,
      )
    }
    for (const task of runnerTasks) {
      const spt = task.spark_python_task!
      spt.parameters = [...stripRunnerFlags(spt.parameters ?? []), ...args]
    }

    const refs: Record<string, string> = {}
    for (const pc of providerConfigs) refs[pc.env_var_name] = secretReference(pc)
    const clusters = [
      ...(settings.job_clusters ?? []).map((c) => c.new_cluster),
      ...tasks.map((t) => t.new_cluster).filter((c) => c !== undefined),
    ]
    if (clusters.length === 0 && providerConfigs.length > 0) {
      throw new AppError(
        'CONFIG_INVALID',
        `The template job "${this.templateJob}" has no classic job cluster (job_clusters[].new_cluster): provider credentials can only reach the runner as {{secrets/...}} references in spark_env_vars. Redeploy the bundle's template job.`,
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
      timezone_id: this.timezone,
      pause_status: schedule.is_active ? 'UNPAUSED' : 'PAUSED',
    }
    settings.max_concurrent_runs = 1
    return settings
  }
}

/** Jobs reports a missing job as 404 RESOURCE_DOES_NOT_EXIST or as 400 "Job <id> does not exist." */
export function isJobMissing(e: unknown): boolean {
  if (!isAppError(e)) return false
  if (e.code === 'DATABRICKS_NOT_FOUND') return true
  return e.code === 'DATABRICKS_BAD_REQUEST' && /does not exist/i.test(e.message)
}
