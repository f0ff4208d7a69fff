// Runs a user's StackQL query: one statement, the provider pulled, its credentials resolved into
// the child process's env for this run only, the output turned into a ResultSet.
import { AppError } from '../errors.js'
import type { ProviderConfig, ResultSet } from '../models.js'
import { ensureProvider } from '../stackql/providers.js'
import type { EngineLogger, StackqlRunner } from '../stackql/runner.js'
import { needsCredentials, singleStatement, statementKind } from '../stackql/statements.js'
import type { CredentialResolver } from './credentials.js'

export interface QueryServiceDeps {
  runner: StackqlRunner
  credentials: CredentialResolver
  /** provider_config rows of one provider (DbService.getProviderConfigFor). */
  loadProviderConfig: (provider: string) => Promise<ProviderConfig[]>
  logger?: EngineLogger
}

export interface ExecuteOptions {
  signal?: AbortSignal
  /** Overrides the configured query timeout for this run. */
  timeoutMs?: number
  /** A tighter output bound for this run (the IDE's IDE_MAX_OUTPUT_MB), and the setting naming it. */
  maxOutputBytes?: number
  maxOutputSetting?: string
}

export type QueryResult = ResultSet & {
  message?: string
  /** False when StackQL returned rows but also reported an error: the rows are not the whole result. */
  complete: boolean
  /** StackQL's text saying why the result is incomplete. */
  incomplete?: string
  /** Exact bytes of the JSON output the rows were parsed from. */
  outputBytes: number
}

export class QueryService {
  constructor(private readonly deps: QueryServiceDeps) {}

  /**
   * Runs ONE statement (multi-statement input -> STACKQL_MULTI_STATEMENT; a trailing semicolon is
   * fine). `provider` may be empty for provider-less statements (SHOW PROVIDERS, REGISTRY ...).
   * SHOW/DESCRIBE/REGISTRY get no credentials; other statements get every mapping of `provider`.
   */
  async execute(queryText: string, provider?: string, opts: ExecuteOptions = {}): Promise<QueryResult> {
    const started = performance.now()
    const statement = singleStatement(queryText)
    const kind = statementKind(statement)
    const { runner, credentials, loadProviderConfig, logger } = this.deps
    let env: Record<string, string> = {}
    if (provider) {
      await ensureProvider(runner, provider, { logger, signal: opts.signal })
      if (needsCredentials(kind))
        env = await credentials.resolveProviderEnv(await loadProviderConfig(provider))
    }
    const result = await runner.run(statement, {
      env,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      maxOutputBytes: opts.maxOutputBytes,
      maxOutputSetting: opts.maxOutputSetting,
    })
    const elapsedMs = Math.round(performance.now() - started)
    logger?.info(
      {
        provider: provider || null,
        kind,
        rows: result.rows.length,
        complete: result.complete,
        outputBytes: result.outputBytes,
        elapsedMs,
        credentials: Object.keys(env),
      },
      'stackql query finished',
    )
    return {
      columns: result.columns,
      rows: result.rows,
      elapsedMs,
      ...(result.message ? { message: result.message } : {}),
      complete: result.complete,
      ...(result.incomplete ? { incomplete: result.incomplete } : {}),
      outputBytes: result.outputBytes,
    }
  }

  /**
   * Checks one provider_config mapping end to end: resolves ONLY its secret into a StackQL child's
   * environment and runs `SHOW PROVIDERS`. The message names the secret, never its value.
   */
  async testMapping(config: ProviderConfig): Promise<{ ok: boolean; message: string }> {
    const ref = `${config.secret_scope}/${config.secret_key}`
    try {
      const env = await this.deps.credentials.resolveProviderEnv([config])
      const result = await this.deps.runner.run('SHOW PROVIDERS', { env })
      const names = result.rows.map((r) => String(r.name))
      return {
        ok: true,
        message: `Secret ${ref} resolved and StackQL ran with ${config.env_var_name} set (installed providers: ${names.length ? names.join(', ') : 'none yet'}).`,
      }
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      return { ok: false, message: e.message }
    }
  }
}
