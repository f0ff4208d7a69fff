// Builds the same app the server builds, on a fresh test database, and a small browser-like
// session for app.inject (keeps the CSRF cookie and sends the token like public/js/app.js does).
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { type BuildAppOptions, buildApp } from '../../plugins/app.js'
import { loadConfig } from '../../src/config.js'
import { createTestDatabase } from './db.js'
import { runnerCommand } from './runner-process.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestApp {
  app: FastifyInstance
  url: string
  session: Session
}

/**
 * Env for loadConfig: the given database URL, quiet logs, no workspace unless the test adds one, and
 * X-Forwarded-Email trusted (the tests play the Databricks Apps proxy).
 */
export function testEnv(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    STACKQL_LOCAL_DEV: 'true',
    TRUST_FORWARDED_EMAIL: 'true',
    ...extra,
  }
}

export async function buildTestApp(
  t: Teardown,
  opts: { env?: Record<string, string>; url?: string; build?: BuildAppOptions } = {},
): Promise<TestApp> {
  const url = opts.url ?? (await createTestDatabase(t))
  const config = loadConfig(testEnv(url, opts.env))
  const app = await buildApp(config, { logger: false, runnerCommand: runnerCommand(), ...opts.build })
  t.teardown(() => app.close())
  await app.ready()
  return { app, url, session: new Session(app) }
}

export class Session {
  private cookie = ''
  private token = ''

  constructor(private readonly app: FastifyInstance) {}

  private remember(res: LightMyRequestResponse) {
    const set = res.headers['set-cookie']
    const first = Array.isArray(set) ? set[0] : set
    const m = first?.match(/_csrf=([^;]+)/)
    if (m) this.cookie = `_csrf=${m[1]}`
    const t = res.body.match(/<meta name="csrf-token" content="([^"]+)"/)
    if (t) this.token = t[1]!
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({
      method: 'GET',
      url,
      headers: { accept: 'text/html', cookie: this.cookie, ...headers },
    })
    this.remember(res)
    return res
  }

  /** An htmx request (partial swap): fragments come back without the layout. */
  async htmx(
    method: InjectOptions['method'],
    url: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    if (!this.token) await this.get('/')
    return this.app.inject({
      method,
      url,
      headers: {
        accept: 'text/html',
        'hx-request': 'true',
        'hx-request-type': 'partial',
        cookie: this.cookie,
        'x-csrf-token': this.token,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      payload: form ? new URLSearchParams(form).toString() : undefined,
    })
  }
}
