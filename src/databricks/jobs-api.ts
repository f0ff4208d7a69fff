// Thin typed calls to the Jobs API 2.2. Job and run ids are int64: kept as strings here and sent
// as raw JSON numbers (BigInt) so ids above 2^53 survive.
import { randomUUID } from 'node:crypto'
import type { DatabricksClient } from './client.js'

export interface SparkPythonTask {
  python_file: string
  parameters?: string[]
  source?: 'WORKSPACE' | 'GIT'
}

export interface ClusterSpec {
  spark_env_vars?: Record<string, string>
  [field: string]: unknown
}

export interface JobTask {
  task_key: string
  spark_python_task?: SparkPythonTask
  job_cluster_key?: string
  new_cluster?: ClusterSpec
  [field: string]: unknown
}

export interface JobCluster {
  job_cluster_key: string
  new_cluster: ClusterSpec
}

export interface CronSchedule {
  quartz_cron_expression: string
  timezone_id: string
  pause_status?: 'PAUSED' | 'UNPAUSED'
}

/** The subset of JobSettings the app sets; other template fields pass through untouched. */
export interface JobSettings {
  name?: string
  tasks?: JobTask[]
  job_clusters?: JobCluster[]
  schedule?: CronSchedule
  tags?: Record<string, string>
  max_concurrent_runs?: number
  parameters?: { name: string; default: string }[]
  [field: string]: unknown
}

export interface Job {
  job_id: string
  settings: JobSettings
  creator_user_name?: string
  created_time?: number
}

export interface RunSummary {
  run_id: string
  job_id: string
  start_time?: number
  end_time?: number
  run_page_url?: string
  status?: {
    state?: string
    termination_details?: { code?: string; type?: string; message?: string }
  }
  state?: { life_cycle_state?: string; result_state?: string; state_message?: string }
  [field: string]: unknown
}

type Id = string | number

function int64(id: Id): bigint {
  return BigInt(id)
}

function normaliseJob(raw: { job_id: Id; settings?: JobSettings }): Job {
  return { ...raw, job_id: String(raw.job_id), settings: raw.settings ?? {} } as Job
}

function normaliseRun(raw: RunSummary): RunSummary {
  return { ...raw, run_id: String(raw.run_id), job_id: String(raw.job_id) }
}

export class JobsApi {
  constructor(readonly client: DatabricksClient) {}

  async create(settings: JobSettings): Promise<string> {
    // Not idempotent: a retried create after a 500 could leave a second, orphaned job.
    const res = await this.client.post<{ job_id: Id }>('/api/2.2/jobs/create', settings, {
      idempotent: false,
    })
    return String(res.job_id)
  }

  async reset(jobId: Id, settings: JobSettings): Promise<void> {
    await this.client.post('/api/2.2/jobs/reset', { job_id: int64(jobId), new_settings: settings })
  }

  async update(jobId: Id, settings: Partial<JobSettings>, fieldsToRemove?: string[]): Promise<void> {
    await this.client.post('/api/2.2/jobs/update', {
      job_id: int64(jobId),
      new_settings: settings,
      ...(fieldsToRemove?.length ? { fields_to_remove: fieldsToRemove } : {}),
    })
  }

  async delete(jobId: Id): Promise<void> {
    await this.client.post('/api/2.2/jobs/delete', { job_id: int64(jobId) })
  }

  async get(jobId: Id): Promise<Job> {
    return normaliseJob(await this.client.get('/api/2.2/jobs/get', { job_id: String(jobId) }))
  }

  /** All jobs whose name is exactly `name` (follows page tokens). */
  async listByName(name: string): Promise<Job[]> {
    const jobs: Job[] = []
    let pageToken: string | undefined
    do {
      const res = await this.client.get<{ jobs?: Job[]; has_more?: boolean; next_page_token?: string }>(
        '/api/2.2/jobs/list',
        { name, limit: 100, page_token: pageToken },
      )
      for (const j of res.jobs ?? []) if (j.settings?.name === name) jobs.push(normaliseJob(j))
      pageToken = res.has_more ? res.next_page_token : undefined
    } while (pageToken)
    return jobs
  }

  async runNow(jobId: Id): Promise<string> {
    // The idempotency token makes a retried run-now start one run, not two.
    const res = await this.client.post<{ run_id: Id }>('/api/2.2/jobs/run-now', {
      job_id: int64(jobId),
      idempotency_token: randomUUID(),
    })
    return String(res.run_id)
  }

  /** Runs of a job, newest first. */
  async listRuns(jobId: Id, limit = 25): Promise<RunSummary[]> {
    const res = await this.client.get<{ runs?: RunSummary[] }>('/api/2.2/jobs/runs/list', {
      job_id: String(jobId),
      limit: Math.min(Math.max(limit, 1), 25),
    })
    return (res.runs ?? []).map(normaliseRun)
  }

  async getRun(runId: Id): Promise<RunSummary> {
    return normaliseRun(
      await this.client.get<RunSummary>('/api/2.2/jobs/runs/get', { run_id: String(runId) }),
    )
  }
}
