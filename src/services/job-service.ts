// One Databricks job per schedule, cloned from the template job the bundle deploys: the runner's
// parameters, provider credentials as {{secrets/...}} references (never values), the Quartz schedule.
import type { JobSettings, JobsApi, RunSummary } from '../databricks/jobs-api.js'
import { assertTimezone, parseSchedule } from '../databricks/quartz.js'
import { AppError, isAppError } from '../errors.js'
import type { Query, Schedule } from '../models.js'
import {
  type LayoutOptions,
  MAX_FOR_EACH_CONCURRENCY,
  type ProfileMapping,
  type ProfileSlice,
} from './job-layout.js'
import { buildJobSettings } from './job-settings.js'

export interface JobServiceOptions {
  api: JobsApi
  /** INVENTORY_TEMPLATE_JOB: the template job's numeric id or its exact name. */
  templateJob: string
  /** JOB_TIMEZONE: Java timezone id for the schedules. */
  timezone: string
  /** Value of the `app` tag on created jobs. */
  appTag?: string
  /** FOR_EACH_THRESHOLD: a schedule with more profile slices than this gets a for_each_task (default 8). */
  forEachThreshold?: number
  /** FOR_EACH_CONCURRENCY: parallel for_each iterations, 1-100 (default 4). */
  forEachConcurrency?: number
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

export class JobService {
  private readonly api: JobsApi
  private readonly templateJob: string
  private readonly timezone: string
  private readonly appTag: string
  private readonly layout: LayoutOptions

  constructor(opts: JobServiceOptions) {
    assertTimezone(opts.timezone)
    this.api = opts.api
    this.templateJob = opts.templateJob
    this.timezone = opts.timezone
    this.appTag = opts.appTag ?? 'stackql-inventory'
    const concurrency = opts.forEachConcurrency ?? 4
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_FOR_EACH_CONCURRENCY) {
      throw new AppError(
        'CONFIG_INVALID',
        `FOR_EACH_CONCURRENCY must be an integer from 1 to ${MAX_FOR_EACH_CONCURRENCY} (the Jobs API maximum), got ${concurrency}.`,
      )
    }
    this.layout = { forEachThreshold: opts.forEachThreshold ?? 8, forEachConcurrency: concurrency }
  }

  /** Creates the schedule's job; `slices` as in buildSettings. */
  async createInventoryJob(
    query: Query,
    schedule: Schedule,
    providerConfigs: ProfileMapping[],
    slices: ProfileSlice[] = [],
  ): Promise<string> {
    const settings = await this.buildSettings(query, schedule, providerConfigs, slices)
    return this.api.create(settings)
  }

  /** Replaces the job's whole definition with one rebuilt from the current template and schedule. */
  async updateInventoryJob(
    jobId: string,
    query: Query,
    schedule: Schedule,
    providerConfigs: ProfileMapping[],
    slices: ProfileSlice[] = [],
  ): Promise<void> {
    const settings = await this.buildSettings(query, schedule, providerConfigs, slices)
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

  /**
   * The job definition for a schedule: `mappings` are the credential mappings its profiles need,
   * `slices` the profiles it runs across (none, or only `default`: today's single task).
   */
  async buildSettings(
    query: Query,
    schedule: Schedule,
    mappings: ProfileMapping[],
    slices: ProfileSlice[] = [],
  ): Promise<JobSettings> {
    // Parse first: a bad cron is refused before the workspace is called.
    parseSchedule(schedule.cron_expression, this.timezone)
    const template = await this.loadTemplate()
    return buildJobSettings(
      {
        template,
        templateJob: this.templateJob,
        timezone: this.timezone,
        appTag: this.appTag,
        layout: this.layout,
      },
      query,
      schedule,
      mappings,
      slices,
    )
  }
}

/** Jobs reports a missing job as 404 RESOURCE_DOES_NOT_EXIST or as 400 "Job <id> does not exist." */
export function isJobMissing(e: unknown): boolean {
  if (!isAppError(e)) return false
  if (e.code === 'DATABRICKS_NOT_FOUND') return true
  return e.code === 'DATABRICKS_BAD_REQUEST' && /does not exist/i.test(e.message)
}
