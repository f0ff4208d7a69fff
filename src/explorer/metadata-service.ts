// StackQL metadata for the explorer, the check and the assistant: providers, services, resources,
// columns and methods, read with metadata statements that run WITHOUT credentials, and cached per
// provider + installed version (in the database, shared by app instances, and in this process).
import type { MetadataCache } from '../db/metadata-cache.js'
import { AppError } from '../errors.js'
import type { Row } from '../models.js'
import type { EngineLogger } from '../stackql/logger.js'
import type { StackqlRunner } from '../stackql/runner.js'
import { type CheckLookup, checkStatementText } from './check.js'
import { MemoryCache } from './memory-cache.js'
import { assertMetadataName, assertProviderName } from './names.js'
import type {
  CheckWarning,
  ColumnEntry,
  MetadataOptions,
  MethodEntry,
  ProviderEntry,
  ProviderList,
  ResourceEntry,
  ServiceEntry,
} from './types.js'

export type * from './types.js'

export interface MetadataServiceDeps {
  runner: StackqlRunner
  cache: MetadataCache
  logger?: EngineLogger
  /** Default bound of one metadata statement (a hanging StackQL is killed after it). */
  timeoutMs?: number
  /** How long the registry's provider list is trusted (it changes when providers are published). */
  registryMaxAgeMs?: number
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v))

export class MetadataService {
  private readonly memory = new MemoryCache<Row[]>(5000)
  private readonly inflight = new Map<string, Promise<Row[]>>()
  private versions?: Promise<Map<string, string>>
  private registry?: { at: number; list: ProviderEntry[] }
  private readonly timeoutMs: number

  constructor(private readonly deps: MetadataServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? 30_000
  }

  async listProviders(opts: MetadataOptions = {}): Promise<ProviderList> {
    const installed = [...(await this.installedVersions(opts, true)).entries()].map(([name, version]) => ({
      name,
      version,
    }))
    try {
      return { installed, available: await this.registryList(opts) }
    } catch (e) {
      if (!(e instanceof AppError) || e.code === 'STACKQL_CANCELLED') throw e
      return { installed, available: [], registryError: registryMessage(e) }
    }
  }

  /** `REGISTRY PULL <name>`: installs the provider (its latest version) into the runner's approot. */
  async pullProvider(name: string, opts: MetadataOptions = {}): Promise<void> {
    assertProviderName(name)
    try {
      const out = await this.deps.runner.run(`REGISTRY PULL ${name}`, this.runOpts(opts))
      this.deps.logger?.info({ provider: name, message: out.message }, 'StackQL provider pulled')
    } catch (e) {
      if (e instanceof AppError && e.code === 'STACKQL_QUERY') {
        throw new AppError('STACKQL_QUERY', `Could not pull the provider "${name}": ${registryMessage(e)}`, {
          cause: e,
        })
      }
      throw e
    } finally {
      this.versions = undefined
    }
  }

  async listServices(provider: string, opts: MetadataOptions = {}): Promise<ServiceEntry[]> {
    assertProviderName(provider)
    const rows = await this.rows(provider, `SHOW SERVICES IN ${provider}`, opts)
    return rows.map((r) => ({ name: str(r.name), id: str(r.id), title: str(r.title) }))
  }

  /** SHOW EXTENDED RESOURCES (name, id, description): the description is the resource's title. */
  async listResources(
    provider: string,
    service: string,
    opts: MetadataOptions = {},
  ): Promise<ResourceEntry[]> {
    assertProviderName(provider)
    assertMetadataName('service', service)
    const rows = await this.rows(provider, `SHOW EXTENDED RESOURCES IN ${provider}.${service}`, opts)
    return rows.map((r) => ({ name: str(r.name), id: str(r.id), title: str(r.title ?? r.description) }))
  }

  async describeResource(
    provider: string,
    service: string,
    resource: string,
    opts: MetadataOptions = {},
  ): Promise<ColumnEntry[]> {
    const path = this.path(provider, service, resource)
    const rows = await this.rows(provider, `DESCRIBE EXTENDED ${path}`, opts)
    return rows.map((r) => ({ name: str(r.name), type: str(r.type), description: str(r.description) }))
  }

  async showMethods(
    provider: string,
    service: string,
    resource: string,
    opts: MetadataOptions = {},
  ): Promise<MethodEntry[]> {
    const path = this.path(provider, service, resource)
    const rows = await this.rows(provider, `SHOW METHODS IN ${path}`, opts)
    return rows.map((r) => ({
      name: str(r.MethodName),
      requiredParams: str(r.RequiredParams)
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
      sqlVerb: str(r.SQLVerb).toUpperCase(),
    }))
  }

  /** Checks a statement's resources, columns and WHERE parameters against the metadata (no cloud API call). */
  async checkStatement(text: string, opts: MetadataOptions = {}): Promise<CheckWarning[]> {
    const lookup: CheckLookup = {
      installed: async () => new Set((await this.installedVersions(opts)).keys()),
      services: (p) => this.listServices(p, opts),
      resources: (p, s) => this.listResources(p, s, opts),
      columns: (p, s, r) => this.describeResource(p, s, r, opts),
      methods: (p, s, r) => this.showMethods(p, s, r, opts),
    }
    return checkStatementText(text, lookup)
  }

  /** The installed version of `provider` (pulling it when this process's approot lacks it). */
  async installedVersion(provider: string, opts: MetadataOptions = {}): Promise<string> {
    assertProviderName(provider)
    let version = (await this.installedVersions(opts)).get(provider)
    if (!version) {
      await this.pullProvider(provider, opts)
      version = (await this.installedVersions(opts)).get(provider)
    }
    if (!version) {
      throw new AppError(
        'STACKQL_QUERY',
        `The provider "${provider}" is not installed and could not be pulled.`,
      )
    }
    return version
  }

  private path(provider: string, service: string, resource: string): string {
    assertProviderName(provider)
    assertMetadataName('service', service)
    assertMetadataName('resource', resource)
    return `${provider}.${service}.${resource}`
  }

  private runOpts(opts: MetadataOptions) {
    // No `env`: metadata statements never get credentials.
    return { signal: opts.signal, timeoutMs: opts.timeoutMs ?? this.timeoutMs }
  }

  /** Rows of one metadata statement: this process's memory, then the shared table, then StackQL. */
  private async rows(provider: string, statement: string, opts: MetadataOptions): Promise<Row[]> {
    const version = await this.installedVersion(provider, opts)
    const key = `${provider}\0${version}\0${statement}`
    const hit = this.memory.get(key)
    if (hit) return hit
    let pending = this.inflight.get(key)
    if (!pending) {
      pending = this.fetch(provider, version, statement, opts)
      this.inflight.set(key, pending)
      pending.then(
        (rows) => this.memory.set(key, rows),
        () => {},
      )
      pending.finally(() => this.inflight.delete(key)).catch(() => {})
    }
    return untilAborted(pending, opts.signal)
  }

  private async fetch(provider: string, version: string, statement: string, opts: MetadataOptions) {
    const { cache, runner, logger } = this.deps
    try {
      const stored = await cache.get(provider, version, statement)
      if (stored) return Object.freeze(stored) as Row[]
    } catch (e) {
      // The database being down must not hide metadata StackQL can still give.
      logger?.warn({ provider, code: (e as AppError).code }, 'metadata cache unreadable')
    }
    // The shared fetch is not tied to one caller's signal: another caller may be waiting for it.
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    const result = await runner.run(statement, { timeoutMs }).catch((e) => {
      if (e instanceof AppError && e.code === 'STACKQL_TIMEOUT') {
        throw new AppError(
          'STACKQL_TIMEOUT',
          `StackQL did not answer \`${statement}\` within ${Math.round(timeoutMs / 100) / 10} s and was stopped. Try again; the rest of the explorer still works.`,
          { cause: e },
        )
      }
      throw e
    })
    const rows = Object.freeze(result.rows) as Row[]
    await cache.put(provider, version, statement, rows).catch((e) => {
      logger?.warn({ provider, code: (e as AppError).code }, 'metadata cache not written')
    })
    return rows
  }

  private installedVersions(opts: MetadataOptions, fresh = false): Promise<Map<string, string>> {
    if (fresh) this.versions = undefined
    if (!this.versions) {
      const pending = this.deps.runner
        .run('SHOW PROVIDERS', { timeoutMs: opts.timeoutMs ?? this.timeoutMs })
        .then((out) => new Map(out.rows.map((r) => [str(r.name), str(r.version)])))
      this.versions = pending
      pending.catch(() => {
        if (this.versions === pending) this.versions = undefined
      })
    }
    return untilAborted(this.versions, opts.signal)
  }

  private async registryList(opts: MetadataOptions): Promise<ProviderEntry[]> {
    const maxAge = this.deps.registryMaxAgeMs ?? 10 * 60_000
    if (this.registry && Date.now() - this.registry.at < maxAge) return this.registry.list
    const out = await this.deps.runner.run('REGISTRY LIST', this.runOpts(opts))
    // The real binary prints one row per provider (provider, version); keep the last of each.
    const byName = new Map<string, string>()
    for (const r of out.rows) byName.set(str(r.provider), str(r.version))
    const list = [...byName]
      .map(([name, version]) => ({ name, version }))
      .sort((a, b) => a.name.localeCompare(b.name))
    this.registry = { at: Date.now(), list }
    return list
  }
}

function registryMessage(e: AppError): string {
  if (/no such host|connection refused|i\/o timeout|deadline exceeded|timeout/i.test(e.message)) {
    return `the provider registry could not be reached (${e.message}). Check the app's network access to the registry, then retry.`
  }
  return e.message
}

function untilAborted<T>(pending: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return pending
  if (signal.aborted) return Promise.reject(new AppError('STACKQL_CANCELLED', 'The lookup was cancelled.'))
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new AppError('STACKQL_CANCELLED', 'The lookup was cancelled.'))
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
