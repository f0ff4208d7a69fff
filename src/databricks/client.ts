// The app's own small Databricks REST client (undici 7): PAT or OAuth M2M auth, bounded retries
// with backoff for 429/5xx, and Databricks error bodies mapped to actionable AppErrors.
import { Agent, request } from 'undici'
import type { DatabricksConfig } from '../config.js'
import { AppError } from '../errors.js'
import { mapDatabricksError } from './errors.js'

export interface DatabricksClientOptions {
  /** Per-attempt timeout (headers and body). Default 30 s. */
  timeoutMs?: number
  /** Retries after the first attempt for 429, 5xx and (idempotent calls) network errors. Default 3. */
  maxRetries?: number
  /** First backoff step; doubles per retry, with jitter. Default 500 ms. */
  baseBackoffMs?: number
  /** Cap for one wait (also caps Retry-After). Default 20 s. */
  maxBackoffMs?: number
  /** Cap for all waits of one call together. Default 60 s. */
  maxTotalWaitMs?: number
  /** Clock for token expiry (tests move it forward). Default Date.now. */
  now?: () => number
}

export interface CallOptions {
  /**
   * False for calls that must not run twice (jobs/create): then only 429 and 503 (not processed)
   * are retried, never a 500 or a network error after the request may have been received.
   */
  idempotent?: boolean
}

/** Refresh an OAuth token this long before it expires (or at half its life if that is shorter). */
const EARLY_REFRESH_MS = 5 * 60_000

interface CachedToken {
  value: string
  expiresAt: number
  refreshAt: number
}

/** A JSON value that must be sent as a raw int64 number (job and run ids above 2^53). */
const INT64_TAG = '__databricks_int64__:'

export function toJson(body: unknown): string {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `${INT64_TAG}${v}` : v))
  return text.replace(new RegExp(`"${INT64_TAG}(-?\\d+)"`, 'g'), '$1')
}

/** Parses JSON keeping integers too large for a double (int64 ids) as strings. */
export function fromJson(text: string): unknown {
  if (text.trim() === '') return {}
  return JSON.parse(
    text.replace(/"(?:[^"\\]|\\.)*"|-?\d{16,}(?![.eE\d])/g, (m) => (m.startsWith('"') ? m : `"${m}"`)),
  )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(header) ? header[0] : header
  if (!v) return undefined
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

export class DatabricksClient {
  readonly host: string
  private readonly config: DatabricksConfig
  private readonly agent: Agent
  private readonly timeoutMs: number
  private readonly maxRetries: number
  private readonly baseBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxTotalWaitMs: number
  private readonly now: () => number
  private token?: CachedToken
  private tokenInFlight?: Promise<CachedToken>

  constructor(config: DatabricksConfig, options: DatabricksClientOptions = {}) {
    if (!config.token && !(config.clientId && config.clientSecret)) {
      throw new AppError(
        'DATABRICKS_NOT_CONFIGURED',
        'No Databricks credentials: set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET.',
      )
    }
    this.config = config
    this.host = config.host.replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.maxRetries = options.maxRetries ?? 3
    this.baseBackoffMs = options.baseBackoffMs ?? 500
    this.maxBackoffMs = options.maxBackoffMs ?? 20_000
    this.maxTotalWaitMs = options.maxTotalWaitMs ?? 60_000
    this.now = options.now ?? Date.now
    this.agent = new Agent({
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    })
  }

  get usesOAuth(): boolean {
    return !this.config.token
  }

  async get<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T> {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v))
    const full = qs.size > 0 ? `${path}?${qs}` : path
    return (await this.call('GET', full, undefined, true)) as T
  }

  async post<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return (await this.call('POST', path, toJson(body ?? {}), options.idempotent ?? true)) as T
  }

  async close(): Promise<void> {
    await this.agent.close()
  }

  private async call(method: 'GET' | 'POST', path: string, body: string | undefined, idempotent: boolean) {
    let authRetried = false
    let waited = 0
    for (let attempt = 0; ; attempt++) {
      const bearer = await this.bearer()
      let res: { status: number; text: string; retryAfter?: string | string[] }
      try {
        res = await this.send(method, path, body, bearer.value)
      } catch (cause) {
        const wait = this.backoff(attempt, undefined)
        if (idempotent && attempt < this.maxRetries && waited + wait <= this.maxTotalWaitMs) {
          waited += wait
          await sleep(wait)
          continue
        }
        throw new AppError(
          'DATABRICKS_UNAVAILABLE',
          `Could not reach the Databricks workspace at ${this.host} (${describeNetworkError(cause)}). Check DATABRICKS_HOST and the network, then try again.`,
          { cause, details: { status: 0, path: stripQuery(path) } },
        )
      }
      if (res.status < 300) return fromJson(res.text)
      if (res.status === 401 && bearer.oauth && !authRetried) {
        // The workspace may have revoked or expired the cached token early: mint a new one once.
        authRetried = true
        this.token = undefined
        attempt--
        continue
      }
      const retryable =
        res.status === 429 || res.status === 503 || (idempotent && res.status >= 500 && res.status !== 501)
      if (retryable && attempt < this.maxRetries) {
        const wait = this.backoff(attempt, retryAfterMs(res.retryAfter, Date.now()))
        if (waited + wait <= this.maxTotalWaitMs) {
          waited += wait
          await sleep(wait)
          continue
        }
      }
      throw mapDatabricksError(res.status, res.text, { path, attempts: attempt + 1, oauth: bearer.oauth })
    }
  }

  private backoff(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.maxBackoffMs)
    const ceiling = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** attempt)
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
  }

  private async send(method: string, path: string, body: string | undefined, bearer: string) {
    const res = await request(`${this.host}${path}`, {
      method,
      dispatcher: this.agent,
      headers: {
        authorization: `Bearer ${bearer}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'user-agent': 'stackql-cloud-inventory',
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    const text = await res.body.text()
    return { status: res.statusCode, text, retryAfter: res.headers['retry-after'] }
  }

  private async bearer(): Promise<{ value: string; oauth: boolean }> {
    if (this.config.token) return { value: this.config.token, oauth: false }
    const cached = this.token
    if (cached && this.now() < cached.refreshAt) return { value: cached.value, oauth: true }
    this.tokenInFlight ??= this.fetchToken()
      .then((token) => {
        this.token = token
        return token
      })
      .finally(() => {
        this.tokenInFlight = undefined
      })
    const fresh = await this.tokenInFlight
    return { value: fresh.value, oauth: true }
  }

  /** OAuth M2M: client credentials grant against the workspace's own token endpoint. */
  private async fetchToken(): Promise<CachedToken> {
    const basic = Buffer.from(`${this.config.clientId}:${this.config.clientSecret}`).toString('base64')
    let lastStatus = 0
    let lastText = ''
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      let res: Awaited<ReturnType<typeof request>>
      try {
        res = await request(`${this.host}/oidc/v1/token`, {
          method: 'POST',
          dispatcher: this.agent,
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: 'grant_type=client_credentials&scope=all-apis',
          signal: AbortSignal.timeout(this.timeoutMs),
        })
      } catch (cause) {
        if (attempt < this.maxRetries) {
          await sleep(this.backoff(attempt, undefined))
          continue
        }
        throw new AppError(
          'DATABRICKS_UNAVAILABLE',
          `Could not reach the Databricks workspace at ${this.host} to sign in (${describeNetworkError(cause)}). Check DATABRICKS_HOST and the network.`,
          { cause, details: { status: 0, path: '/oidc/v1/token' } },
        )
      }
      lastStatus = res.statusCode
      lastText = await res.body.text()
      if (res.statusCode === 200) {
        const parsed = fromJson(lastText) as { access_token?: string; expires_in?: number }
        if (!parsed.access_token) break
        const lifetimeMs = (parsed.expires_in ?? 3600) * 1000
        const now = this.now()
        return {
          value: parsed.access_token,
          expiresAt: now + lifetimeMs,
          refreshAt: now + lifetimeMs - Math.min(EARLY_REFRESH_MS, lifetimeMs / 2),
        }
      }
      const retryable = res.statusCode === 429 || res.statusCode >= 500
      if (!retryable || attempt >= this.maxRetries) break
      await sleep(this.backoff(attempt, retryAfterMs(res.headers['retry-after'], Date.now())))
    }
    throw mapDatabricksError(lastStatus || 500, lastText, {
      path: '/oidc/v1/token',
      attempts: 1,
      oauth: true,
    })
  }
}

function stripQuery(path: string): string {
  return path.split('?')[0]!
}

function describeNetworkError(cause: unknown): string {
  const e = cause as { code?: string; name?: string; message?: string }
  if (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return 'timed out'
  }
  return e?.code ?? e?.message ?? 'network error'
}
