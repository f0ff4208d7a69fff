// A stand-in Databricks workspace for tests: OAuth M2M + PAT auth, Secrets, Jobs 2.2 and Lakebase
// credentials with the documented shapes, strict request validation, recorded payloads, faults.
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import type { TSchema } from 'typebox'
import {
  CreateJob,
  DatabaseCredential,
  DeleteJob,
  firstProblem,
  PostgresCredential,
  quartzProblem,
  ResetJob,
  RunNow,
  Task,
  UpdateJob,
} from './schemas.js'
import { taskGraphProblem } from './task-rules.js'

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** Parsed JSON or form body (undefined for GET). */
  body: unknown
  /** The raw body text exactly as received. */
  raw: string
}

export interface Fault {
  method?: string
  path: string
  status: number
  body?: unknown
  /** How many matching requests fail (default 1). */
  times?: number
  /** Retry-After header value (seconds or an HTTP date). */
  retryAfter?: string
}

export interface StoredJob {
  job_id: number
  settings: Record<string, unknown>
  created_time: number
  creator_user_name: string
}

export interface StoredRun {
  job_id: number
  run_id: number
  number_in_job: number
  run_name: string
  start_time: number
  end_time: number
  run_page_url: string
  trigger: string
  run_type: string
  state: { life_cycle_state: string; result_state?: string; state_message: string }
  status?: { state: string; termination_details?: { code: string; type: string; message: string } }
}

/** The SCIM User fields of the stand-in's users (docs: SCIM "Me" returns the User object). */
export interface ScimUser {
  id: string
  userName: string
  displayName?: string
  /** Group display names; each gets a stable value (id). */
  groups: string[]
}

export interface StandinOptions {
  /** Personal access tokens that are accepted. */
  pats?: string[]
  /** OAuth M2M service principals: client id -> secret. */
  clients?: Record<string, string>
  /** expires_in of issued OAuth tokens (seconds). Default 3600. */
  tokenTtlSeconds?: number
  /** Lifetime of Lakebase credentials (seconds). Default 3600. */
  credentialTtlSeconds?: number
  /** The stand-in's clock (shared with the client under test to simulate time passing). */
  now?: () => number
}

const DEFAULT_ERRORS: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  503: 'TEMPORARILY_UNAVAILABLE',
}

export class StandinState {
  readonly pats: Set<string>
  readonly clients: Map<string, string>
  tokenTtlSeconds: number
  credentialTtlSeconds: number
  readonly now: () => number
  /** Issued OAuth access tokens -> expiry (ms). */
  readonly tokens = new Map<string, number>()
  tokenRequests = 0
  readonly credentialRequests: RecordedRequest[] = []
  /** scope -> key -> plain value (served base64-encoded). */
  readonly secrets = new Map<string, Map<string, string>>()
  /** Scopes the caller has no READ on (403). */
  readonly forbiddenScopes = new Set<string>()
  readonly jobs = new Map<number, StoredJob>()
  readonly runs = new Map<number, StoredRun>()
  readonly requests: RecordedRequest[] = []
  /**
   * Users' forwarded tokens (Databricks Apps user authorization) -> who they are. Such a token is
   * scoped (iam.current-user:read): it is accepted by SCIM Me only.
   */
  readonly userTokens = new Map<string, ScimUser>()
  url = ''
  private nextJobId = 1000
  private nextRunId = 5000

  constructor(opts: StandinOptions) {
    this.pats = new Set(opts.pats ?? [])
    this.clients = new Map(Object.entries(opts.clients ?? {}))
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 3600
    this.credentialTtlSeconds = opts.credentialTtlSeconds ?? 3600
    this.now = opts.now ?? Date.now
  }

  putSecret(scope: string, key: string, value: string): void {
    if (!this.secrets.has(scope)) this.secrets.set(scope, new Map())
    this.secrets.get(scope)!.set(key, value)
  }

  /** Adds a job as if deployed by a bundle (no validation: tests seed what jobs/get returns). */
  addJob(settings: Record<string, unknown>): number {
    const job_id = this.nextJobId++
    this.jobs.set(job_id, {
      job_id,
      settings: structuredClone(settings),
      created_time: this.now(),
      creator_user_name: 'deployer@example.com',
    })
    return job_id
  }

  /** Invalidates every issued OAuth token (the workspace revoked them). */
  revokeTokens(): void {
    this.tokens.clear()
  }

  startRun(jobId: number, trigger = 'ONE_TIME'): StoredRun {
    const run_id = this.nextRunId++
    const number_in_job = [...this.runs.values()].filter((r) => r.job_id === jobId).length + 1
    const run: StoredRun = {
      job_id: jobId,
      run_id,
      number_in_job,
      run_name: String(this.jobs.get(jobId)?.settings.name ?? ''),
      start_time: this.now(),
      end_time: 0,
      run_page_url: `${this.url}/?o=1234567890#job/${jobId}/run/${run_id}`,
      trigger,
      run_type: 'JOB_RUN',
      state: { life_cycle_state: 'RUNNING', state_message: '' },
      status: { state: 'RUNNING' },
    }
    this.runs.set(run_id, run)
    return run
  }

  /** Ends a run. `legacyOnly` drops the 2.2 `status` object (older payload shape). */
  finishRun(
    runId: number,
    result: 'SUCCESS' | 'FAILED',
    opts: { message?: string; legacyOnly?: boolean } = {},
  ): void {
    const run = this.runs.get(runId)
    if (!run) throw new Error(`no run ${runId}`)
    const message = opts.message ?? (result === 'SUCCESS' ? '' : 'Task run failed with error.')
    run.end_time = this.now()
    run.state = { life_cycle_state: 'TERMINATED', result_state: result, state_message: message }
    run.status = opts.legacyOnly
      ? undefined
      : {
          state: 'TERMINATED',
          termination_details:
            result === 'SUCCESS'
              ? { code: 'SUCCESS', type: 'SUCCESS', message }
              : { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message },
        }
  }

  /** Every recorded request body, raw, as one string (to search for leaked values). */
  allPayloads(): string {
    return this.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)} ${r.raw}`).join('\n')
  }

  allocateJobId(): number {
    return this.nextJobId++
  }
}

export class Faults {
  private readonly list: (Fault & { left: number })[] = []

  add(fault: Fault): void {
    this.list.push({ ...fault, left: fault.times ?? 1 })
  }

  clear(): void {
    this.list.length = 0
  }

  take(method: string, path: string): Fault | undefined {
    const f = this.list.find((x) => x.left > 0 && x.path === path && (!x.method || x.method === method))
    if (f) f.left--
    return f
  }
}

export interface Standin {
  url: string
  state: StandinState
  faults: Faults
  close(): Promise<void>
}

const SCIM_ME = '/api/2.0/preview/scim/v2/Me'

function dbError(reply: FastifyReply, status: number, errorCode: string, message: string) {
  return reply.code(status).send({ error_code: errorCode, message, details: [] })
}

export async function startDatabricksStandin(opts: StandinOptions = {}): Promise<Standin> {
  const state = new StandinState(opts)
  const faults = new Faults()
  const app = Fastify({ logger: false })

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  // Keep the raw JSON text for the payload record, then parse it ourselves.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    ;(req as FastifyRequest & { rawText?: string }).rawText = body as string
    try {
      done(null, body === '' ? {} : JSON.parse(body as string))
    } catch {
      const err = new Error(
        'Invalid JSON given in the body of the request - failed to parse given JSON',
      ) as Error & {
        statusCode: number
      }
      err.statusCode = 400
      done(err, undefined)
    }
  })
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) =>
    dbError(
      reply,
      err.statusCode ?? 500,
      err.statusCode === 400 ? 'MALFORMED_REQUEST' : 'INTERNAL_ERROR',
      err.message,
    ),
  )

  app.addHook('preHandler', async (req, reply) => {
    const [path] = req.url.split('?') as [string]
    const rawText = (req as FastifyRequest & { rawText?: string }).rawText
    state.requests.push({
      method: req.method,
      path,
      query: { ...(req.query as Record<string, string>) },
      body: req.body,
      raw: rawText ?? (req.body === undefined ? '' : JSON.stringify(req.body)),
    })
    const fault = faults.take(req.method, path)
    if (fault) {
      if (fault.retryAfter) reply.header('retry-after', fault.retryAfter)
      const body = fault.body ?? {
        error_code: DEFAULT_ERRORS[fault.status] ?? 'UNKNOWN',
        message: `Injected ${fault.status} fault`,
      }
      return reply.code(fault.status).send(body)
    }
    if (path === '/oidc/v1/token') return
    const auth = req.headers.authorization ?? ''
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1]
    if (!bearer) {
      return dbError(
        reply,
        401,
        'UNAUTHENTICATED',
        'Credential was not sent or was of an unsupported type for this API.',
      )
    }
    if (state.pats.has(bearer)) return
    if (state.userTokens.has(bearer)) {
      if (path === SCIM_ME) return
      return dbError(reply, 403, 'PERMISSION_DENIED', 'Provided OAuth token does not have required scopes')
    }
    const expiresAt = state.tokens.get(bearer)
    if (expiresAt === undefined) return dbError(reply, 401, 'UNAUTHENTICATED', 'Invalid access token.')
    if (state.now() >= expiresAt) return dbError(reply, 401, 'UNAUTHENTICATED', 'Token is expired.')
  })

  function validate(schema: TSchema, body: unknown, reply: FastifyReply): boolean {
    const problem = firstProblem(schema, body)
    if (problem) {
      dbError(reply, 400, 'INVALID_PARAMETER_VALUE', problem)
      return false
    }
    return true
  }

  // ---- auth ----
  app.post('/oidc/v1/token', async (req, reply) => {
    state.tokenRequests++
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : []
    if (!id || state.clients.get(id) !== secret) {
      return reply
        .code(401)
        .send({ error: 'invalid_client', error_description: 'Client authentication failed' })
    }
    const form = (req.body ?? {}) as Record<string, string>
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'Expected a form body' })
    }
    if (form.grant_type !== 'client_credentials') {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' })
    }
    if (form.scope !== 'all-apis') {
      return reply
        .code(400)
        .send({ error: 'invalid_scope', error_description: `Unsupported scope ${form.scope}` })
    }
    const token = `dapi-oauth-${randomBytes(12).toString('hex')}`
    state.tokens.set(token, state.now() + state.tokenTtlSeconds * 1000)
    return { access_token: token, token_type: 'Bearer', expires_in: state.tokenTtlSeconds, scope: 'all-apis' }
  })

  // ---- SCIM (the caller's own identity) ----
  app.get(SCIM_ME, async (req) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const user = state.userTokens.get(bearer) ?? {
      id: '1000',
      userName: 'service-principal@stand-in',
      groups: [],
    }
    return {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: user.id,
      userName: user.userName,
      displayName: user.displayName ?? user.userName,
      active: true,
      emails: [{ value: user.userName, type: 'work', primary: true }],
      groups: user.groups.map((display, i) => ({
        display,
        value: String(7000 + i),
        $ref: `Groups/${7000 + i}`,
        type: 'direct',
      })),
    }
  })

  // ---- secrets ----
  app.get('/api/2.0/secrets/get', async (req, reply) => {
    const { scope, key } = req.query as Record<string, string | undefined>
    if (!scope || !key)
      return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', "Missing required field: 'scope' and 'key'")
    if (!state.secrets.has(scope))
      return dbError(reply, 404, 'RESOURCE_DOES_NOT_EXIST', `Scope ${scope} does not exist!`)
    if (state.forbiddenScopes.has(scope)) {
      return dbError(reply, 403, 'PERMISSION_DENIED', `User does not have READ permission on scope ${scope}`)
    }
    const value = state.secrets.get(scope)!.get(key)
    if (value === undefined) {
      return dbError(reply, 404, 'RESOURCE_DOES_NOT_EXIST', `Failed to get secret ${key} for scope ${scope}.`)
    }
    return { key, value: Buffer.from(value, 'utf8').toString('base64') }
  })
  app.get('/api/2.0/secrets/scopes/list', async () => ({
    scopes: [...state.secrets.keys()].map((name) => ({ name, backend_type: 'DATABRICKS' })),
  }))
  app.get('/api/2.0/secrets/list', async (req, reply) => {
    const { scope } = req.query as Record<string, string | undefined>
    if (!scope) return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', "Missing required field: 'scope'")
    const keys = state.secrets.get(scope)
    if (!keys) return dbError(reply, 404, 'RESOURCE_DOES_NOT_EXIST', `Scope ${scope} does not exist!`)
    if (state.forbiddenScopes.has(scope)) {
      return dbError(reply, 403, 'PERMISSION_DENIED', `User does not have READ permission on scope ${scope}`)
    }
    return { secrets: [...keys.keys()].map((key) => ({ key, last_updated_timestamp: state.now() })) }
  })

  // ---- jobs ----
  const missingJob = (reply: FastifyReply, id: unknown) =>
    dbError(reply, 400, 'INVALID_PARAMETER_VALUE', `Job ${id} does not exist.`)
  const scheduleProblem = (settings: Record<string, unknown>): string | null => {
    const s = settings.schedule as { quartz_cron_expression: string; timezone_id: string } | undefined
    if (!s) return null
    const q = quartzProblem(s.quartz_cron_expression)
    if (q) return q
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: s.timezone_id })
    } catch {
      return `Invalid timezone_id: ${s.timezone_id}`
    }
    const tags = settings.tags as Record<string, string> | undefined
    if (tags && Object.keys(tags).length > 25) return 'A job can have at most 25 tags'
    return null
  }
  const settingsProblem = (settings: Record<string, unknown>): string | null =>
    scheduleProblem(settings) ?? taskGraphProblem(settings, Task)
  const jobIdOf = (req: FastifyRequest, reply: FastifyReply): number | undefined => {
    const raw = (req.query as Record<string, string | undefined>).job_id
    if (!raw || !/^\d+$/.test(raw)) {
      dbError(reply, 400, 'INVALID_PARAMETER_VALUE', `Invalid job_id: ${raw}`)
      return undefined
    }
    return Number(raw)
  }

  app.post('/api/2.2/jobs/create', async (req, reply) => {
    if (!validate(CreateJob, req.body, reply)) return reply
    const settings = { ...(req.body as Record<string, unknown>) }
    const problem = settingsProblem(settings)
    if (problem) return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', problem)
    delete settings.access_control_list
    const job_id = state.allocateJobId()
    state.jobs.set(job_id, { job_id, settings, created_time: state.now(), creator_user_name: 'app-sp' })
    return { job_id }
  })
  app.post('/api/2.2/jobs/reset', async (req, reply) => {
    if (!validate(ResetJob, req.body, reply)) return reply
    const { job_id, new_settings } = req.body as { job_id: number; new_settings: Record<string, unknown> }
    const job = state.jobs.get(job_id)
    if (!job) return missingJob(reply, job_id)
    const problem = settingsProblem(new_settings)
    if (problem) return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', problem)
    job.settings = new_settings
    return {}
  })
  app.post('/api/2.2/jobs/update', async (req, reply) => {
    if (!validate(UpdateJob, req.body, reply)) return reply
    const body = req.body as {
      job_id: number
      new_settings?: Record<string, unknown>
      fields_to_remove?: string[]
    }
    const job = state.jobs.get(body.job_id)
    if (!job) return missingJob(reply, body.job_id)
    const merged = { ...job.settings, ...(body.new_settings ?? {}) }
    for (const f of body.fields_to_remove ?? []) delete merged[f]
    const problem = settingsProblem(merged)
    if (problem) return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', problem)
    job.settings = merged
    return {}
  })
  app.post('/api/2.2/jobs/delete', async (req, reply) => {
    if (!validate(DeleteJob, req.body, reply)) return reply
    const { job_id } = req.body as { job_id: number }
    if (!state.jobs.delete(job_id)) return missingJob(reply, job_id)
    return {}
  })
  app.get('/api/2.2/jobs/get', async (req, reply) => {
    const id = jobIdOf(req, reply)
    if (id === undefined) return reply
    const job = state.jobs.get(id)
    if (!job) return missingJob(reply, id)
    return { ...job, run_as_user_name: job.creator_user_name }
  })
  app.get('/api/2.2/jobs/list', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>
    const limit = q.limit === undefined ? 20 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return dbError(
        reply,
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid limit ${q.limit}: must be between 1 and 100`,
      )
    }
    const offset = q.page_token ? Number(Buffer.from(q.page_token, 'base64url').toString()) : 0
    const all = [...state.jobs.values()]
      .filter((j) => q.name === undefined || j.settings.name === q.name)
      .sort((a, b) => a.job_id - b.job_id)
    const page = all.slice(offset, offset + limit).map((j) => {
      const { tasks: _tasks, job_clusters: _clusters, ...summary } = j.settings
      return {
        job_id: j.job_id,
        creator_user_name: j.creator_user_name,
        created_time: j.created_time,
        settings: summary,
      }
    })
    const has_more = offset + limit < all.length
    return {
      jobs: page,
      has_more,
      ...(has_more ? { next_page_token: Buffer.from(String(offset + limit)).toString('base64url') } : {}),
    }
  })
  app.post('/api/2.2/jobs/run-now', async (req, reply) => {
    if (!validate(RunNow, req.body, reply)) return reply
    const { job_id } = req.body as { job_id: number }
    if (!state.jobs.has(job_id)) return missingJob(reply, job_id)
    const run = state.startRun(job_id)
    return { run_id: run.run_id, number_in_job: run.number_in_job }
  })
  app.get('/api/2.2/jobs/runs/list', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>
    const limit = q.limit === undefined ? 20 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 25) {
      return dbError(
        reply,
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid limit ${q.limit}: must be between 1 and 25`,
      )
    }
    const runs = [...state.runs.values()]
      .filter((r) => q.job_id === undefined || r.job_id === Number(q.job_id))
      .sort((a, b) => b.run_id - a.run_id)
    return { runs: runs.slice(0, limit), has_more: runs.length > limit }
  })
  app.get('/api/2.2/jobs/runs/get', async (req, reply) => {
    const raw = (req.query as Record<string, string | undefined>).run_id
    const run = raw ? state.runs.get(Number(raw)) : undefined
    if (!run) return dbError(reply, 400, 'INVALID_PARAMETER_VALUE', `Run ${raw} does not exist.`)
    return run
  })

  // ---- Lakebase credentials ----
  const expiry = () => new Date(state.now() + state.credentialTtlSeconds * 1000).toISOString()
  app.post('/api/2.0/postgres/credentials', async (req, reply) => {
    if (!validate(PostgresCredential, req.body, reply)) return reply
    state.credentialRequests.push(state.requests.at(-1)!)
    return { token: `lakebase-${randomBytes(8).toString('hex')}`, expire_time: expiry() }
  })
  app.post('/api/2.0/database/credentials', async (req, reply) => {
    if (!validate(DatabaseCredential, req.body, reply)) return reply
    state.credentialRequests.push(state.requests.at(-1)!)
    return { token: `lakebase-${randomBytes(8).toString('hex')}`, expiration_time: expiry() }
  })

  app.setNotFoundHandler((req, reply) =>
    dbError(reply, 404, 'ENDPOINT_NOT_FOUND', `No API found for '${req.method} ${req.url.split('?')[0]}'`),
  )

  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  state.url = address
  return { url: address, state, faults, close: () => app.close() }
}

/**
 * Seeds the template job a bundle deploy leaves behind (INVENTORY_TEMPLATE_JOB's default name):
 * one spark_python_task on a classic job cluster. Schedules clone it. Returns its job id.
 */
export function addTemplateJob(standin: Standin, extra: Record<string, unknown> = {}): number {
  return standin.state.addJob({
    name: 'stackql-inventory-template',
    job_clusters: [
      {
        job_cluster_key: 'runner',
        new_cluster: { spark_version: '15.4.x-scala2.12', node_type_id: 'i3.xlarge', num_workers: 0 },
      },
    ],
    tasks: [
      {
        task_key: 'run_query',
        job_cluster_key: 'runner',
        spark_python_task: { python_file: '/Workspace/stackql/jobs/run_query.py', parameters: [] },
      },
    ],
    ...extra,
  })
}
