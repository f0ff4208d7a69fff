// A schedule is a database row plus (with a workspace) one Databricks job. This service keeps the
// two together: nothing is left behind when one half fails ("no orphans").
import { parseSchedule } from '../databricks/quartz.js'
import type { SchedulePatch } from '../db/db-service.js'
import { AppError } from '../errors.js'
import type { ProviderConfig, Query, Schedule, ScheduleInput, ScheduleView } from '../models.js'
import { findPlaceholders, maskPlaceholders } from '../profiles/variables.js'
import { assertReadOnlyQuery } from '../stackql/statements.js'
import type { JobService } from './job-service.js'
import { type ScheduleDescription, ScheduleDescriptions } from './schedule-descriptions.js'
import { parseKeyColumns, parseShrinkGuard, scheduleJobInputs } from './schedule-inputs.js'

/** What the schedule service needs from the DB service (DbService implements it). */
export interface ScheduleStore {
  getQuery(id: number): Promise<Query | null>
  getProviderConfigFor(provider: string): Promise<ProviderConfig[]>
  getSchedule(id: number): Promise<Schedule | null>
  /** Throws AppError CONFLICT when schema.table is taken. */
  saveSchedule(input: ScheduleInput, createdBy?: string): Promise<Schedule>
  updateSchedule(id: number, patch: SchedulePatch): Promise<Schedule>
  deleteSchedule(id: number): Promise<void>
  getSchedules(): Promise<ScheduleView[]>
}

export interface ScheduleServiceDeps {
  db: ScheduleStore
  /** Absent when no workspace is configured (local development): schedules get no job. */
  jobs?: JobService
  /** Runs a schedule once through the local runner (used by "Run now" without a workspace). */
  launchLocalRun?: (schedule: Schedule) => Promise<{ message: string }>
  /** JOB_TIMEZONE, for the preview. */
  timezone?: string
}

export class ScheduleService {
  private readonly db: ScheduleStore
  private readonly jobs?: JobService
  private readonly launchLocalRun?: (schedule: Schedule) => Promise<{ message: string }>
  private readonly timezone: string
  private readonly descriptions: ScheduleDescriptions

  constructor(deps: ScheduleServiceDeps) {
    this.db = deps.db
    this.jobs = deps.jobs
    this.launchLocalRun = deps.launchLocalRun
    this.timezone = deps.timezone ?? 'UTC'
    this.descriptions = new ScheduleDescriptions(this.timezone)
  }

  /** Whether schedules get a Databricks job (false in local development). */
  get hasWorkspace(): boolean {
    return this.jobs !== undefined
  }

  /** The human-readable text and the next 5 run times, computed from the Quartz expression. */
  describe(cron: string, from?: Date): ScheduleDescription {
    return this.descriptions.describe(cron, from)
  }

  /**
   * Validates, saves the row, then creates the job. If the job cannot be created the row is
   * deleted again (nothing is left behind) and the job error is rethrown; if the job id cannot
   * be saved the job is deleted again.
   */
  async create(input: ScheduleInput, createdBy?: string): Promise<Schedule> {
    parseSchedule(input.cron_expression, this.timezone)
    const query = await this.requireQuery(input.query_id)
    // Profile variables ({{ regions }}) are filled per run: check the statement's shape with them masked.
    assertReadOnlyQuery(maskPlaceholders(query.query_text, findPlaceholders(query.query_text)))
    // Profiles named by the schedule must exist (a 4xx naming the unknown one, nothing saved).
    if (input.profiles?.length) await scheduleJobInputs(this.db, query, { profiles: input.profiles })
    const saved = await this.db.saveSchedule(
      {
        ...input,
        cron_expression: input.cron_expression.trim(),
        shrink_guard_pct: parseShrinkGuard(input.shrink_guard_pct),
        key_columns: parseKeyColumns(input.key_columns ?? []),
      },
      createdBy,
    )
    if (!this.jobs) return saved

    let jobId: string
    try {
      const { mappings, slices } = await scheduleJobInputs(this.db, query, saved)
      jobId = await this.jobs.createInventoryJob(query, saved, mappings, slices)
    } catch (e) {
      await this.db.deleteSchedule(saved.id).catch(() => {})
      throw e
    }
    try {
      return await this.db.updateSchedule(saved.id, { job_id: jobId })
    } catch (e) {
      await this.db.deleteSchedule(saved.id).catch(() => {})
      throw await this.withJobCleanup(jobId, e)
    }
  }

  /** Sets the schedule's shrink guard (null = off). The runner reads it from the row: the job is unchanged. */
  async setShrinkGuard(id: number, pct: number | null): Promise<Schedule> {
    await this.requireSchedule(id)
    return this.db.updateSchedule(id, { shrink_guard_pct: parseShrinkGuard(pct) })
  }

  /** Sets the key columns of the schedule's change records (empty = the whole row). Read by the runner. */
  async setKeyColumns(id: number, keys: string[]): Promise<Schedule> {
    await this.requireSchedule(id)
    return this.db.updateSchedule(id, { key_columns: parseKeyColumns(keys) })
  }

  /** Throws the 4xx setProfiles would (bad or unknown profiles) without changing anything. */
  async checkProfiles(id: number, profiles: string[] | null): Promise<void> {
    const schedule = await this.requireSchedule(id)
    if (profiles?.length)
      await scheduleJobInputs(this.db, await this.requireQuery(schedule.query_id), { profiles })
  }

  /**
   * Changes the profiles a schedule runs across (null/empty = the default profile): checked like
   * on create (unknown profiles are a 4xx, nothing changes), then the job is rebuilt for the new
   * slices and the row saved (the job is put back if saving fails).
   */
  async setProfiles(id: number, profiles: string[] | null): Promise<Schedule> {
    const schedule = await this.requireSchedule(id)
    const query = await this.requireQuery(schedule.query_id)
    const next = { ...schedule, profiles: profiles?.length ? profiles : null }
    const inputs = await scheduleJobInputs(this.db, query, next)
    if (schedule.job_id) {
      const jobs = this.requireJobs(schedule)
      await jobs.updateInventoryJob(schedule.job_id, query, next, inputs.mappings, inputs.slices)
      try {
        return await this.db.updateSchedule(id, { profiles: next.profiles })
      } catch (e) {
        const before = await scheduleJobInputs(this.db, query, schedule).catch(() => undefined)
        if (before)
          await jobs
            .updateInventoryJob(schedule.job_id, query, schedule, before.mappings, before.slices)
            .catch(() => {})
        throw e
      }
    }
    return this.db.updateSchedule(id, { profiles: next.profiles })
  }

  async updateCron(id: number, cron: string): Promise<Schedule> {
    parseSchedule(cron, this.timezone)
    const schedule = await this.requireSchedule(id)
    const next = { ...schedule, cron_expression: cron.trim() }
    if (!schedule.job_id) return this.db.updateSchedule(id, { cron_expression: next.cron_expression })
    const jobs = this.requireJobs(schedule)
    const query = await this.requireQuery(schedule.query_id)
    const { mappings, slices } = await scheduleJobInputs(this.db, query, schedule)
    await jobs.updateInventoryJob(schedule.job_id, query, next, mappings, slices)
    try {
      return await this.db.updateSchedule(id, { cron_expression: next.cron_expression })
    } catch (e) {
      // Put the job back on the schedule the row still holds.
      await jobs.updateInventoryJob(schedule.job_id, query, schedule, mappings, slices).catch(() => {})
      throw e
    }
  }

  /**
   * After a provider's mappings changed, rebuilds the jobs of that provider's schedules so their
   * cluster environment carries the new `{{secrets/..}}` references. Returns how many jobs were
   * updated; the first failure is rethrown after trying them all (the mapping itself stays saved).
   */
  async syncProviderJobs(provider: string): Promise<number> {
    if (!this.jobs) return 0
    const affected = (await this.db.getSchedules()).filter(
      (s) => (s.provider === provider || s.profiles?.some((p) => p.startsWith(`${provider}/`))) && s.job_id,
    )
    if (affected.length === 0) return 0
    let updated = 0
    let firstError: unknown
    for (const schedule of affected) {
      try {
        const query = await this.requireQuery(schedule.query_id)
        const { mappings, slices } = await scheduleJobInputs(this.db, query, schedule)
        await this.jobs.updateInventoryJob(schedule.job_id!, query, schedule, mappings, slices)
        updated++
      } catch (e) {
        firstError ??= e
      }
    }
    if (firstError) throw firstError
    return updated
  }

  /** Pauses or resumes the job, then records it on the row (the job is reverted if that fails). */
  async setActive(id: number, active: boolean): Promise<Schedule> {
    const schedule = await this.requireSchedule(id)
    if (schedule.job_id) {
      const jobs = this.requireJobs(schedule)
      const apply = (on: boolean) =>
        on ? jobs.resumeInventoryJob(schedule.job_id!) : jobs.pauseInventoryJob(schedule.job_id!)
      await apply(active)
      try {
        return await this.db.updateSchedule(id, { is_active: active })
      } catch (e) {
        await apply(schedule.is_active).catch(() => {})
        throw e
      }
    }
    return this.db.updateSchedule(id, { is_active: active })
  }

  /** Deletes the job first (an already-deleted job is fine), then the row. */
  async delete(id: number): Promise<void> {
    const schedule = await this.requireSchedule(id)
    if (schedule.job_id) await this.requireJobs(schedule).deleteInventoryJob(schedule.job_id)
    await this.db.deleteSchedule(id)
  }

  async runNow(id: number): Promise<{ message: string; runId?: string }> {
    const schedule = await this.requireSchedule(id)
    if (schedule.job_id && this.jobs) {
      const { runId } = await this.jobs.runNow(schedule.job_id)
      return { message: `Started Databricks run ${runId} of job ${schedule.job_id}.`, runId }
    }
    if (this.launchLocalRun) return this.launchLocalRun(schedule)
    throw new AppError(
      'DATABRICKS_NOT_CONFIGURED',
      'This schedule has no Databricks job and no local runner is available: configure a workspace (DATABRICKS_HOST) or run it with `npm run job`.',
    )
  }

  /** The latest run of the schedule's job, or null (never ran, or no job). */
  async lastRun(id: number) {
    const schedule = await this.requireSchedule(id)
    if (!schedule.job_id || !this.jobs) return null
    return this.jobs.getJobRunStatus(schedule.job_id)
  }

  private async requireQuery(id: number): Promise<Query> {
    const query = await this.db.getQuery(id)
    if (!query)
      throw new AppError('NOT_FOUND', `Query ${id} does not exist; save the query first, then schedule it.`)
    return query
  }

  private async requireSchedule(id: number): Promise<Schedule> {
    const schedule = await this.db.getSchedule(id)
    if (!schedule) throw new AppError('NOT_FOUND', `Schedule ${id} does not exist.`)
    return schedule
  }

  private requireJobs(schedule: Schedule): JobService {
    if (this.jobs) return this.jobs
    throw new AppError(
      'DATABRICKS_NOT_CONFIGURED',
      `Schedule ${schedule.id} belongs to Databricks job ${schedule.job_id}, but no workspace is configured: set DATABRICKS_HOST and credentials to change it.`,
    )
  }

  /** Deletes a job created for a row that could not be saved; says so if even that fails. */
  private async withJobCleanup(jobId: string, original: unknown): Promise<unknown> {
    try {
      await this.jobs!.deleteInventoryJob(jobId)
      return original
    } catch (cleanup) {
      const why = original instanceof Error ? original.message : String(original)
      return new AppError(
        original instanceof AppError ? original.code : 'DB_ERROR',
        `${why} The Databricks job ${jobId} created for it could not be deleted again (${cleanup instanceof Error ? cleanup.message : String(cleanup)}); delete it in the workspace.`,
        { cause: original },
      )
    }
  }
}
