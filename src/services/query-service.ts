// Runs a user's StackQL query: one statement; every provider it references pulled and given the
// credentials of its chosen profile (default unless picked) in the child's env for this run only;
// profile variables substituted as quoted literals; the output turned into a ResultSet.
import { AppError } from '../errors.js'
import type { ProfileVariable, ProviderConfig, ResultSet } from '../models.js'
import { assertProfileName, DEFAULT_PROFILE } from '../profiles/names.js'
import { providersToPull, referencedProviders } from '../profiles/referenced.js'
import {
  assertPlaceholdersInCode,
  findPlaceholders,
  maskPlaceholders,
  type SubstitutionScope,
  substituteVariables,
} from '../profiles/variables.js'
import { ensureProvider } from '../stackql/providers.js'
import type { EngineLogger, StackqlRunner } from '../stackql/runner.js'
import type { SpooledRows } from '../stackql/spool.js'
import { needsCredentials, singleStatement, statementKind } from '../stackql/statements.js'
import type { CredentialResolver } from './credentials.js'

export interface QueryServiceDeps {
  runner: StackqlRunner
  credentials: CredentialResolver
  /** provider_config rows of one provider, all profiles (DbService.getProviderConfigFor). */
  loadProviderConfig: (provider: string) => Promise<ProviderConfig[]>
  /** profile variables of one provider, all profiles (DbService.getProfileVariablesFor). */
  loadProfileVariables?: (provider: string) => Promise<ProfileVariable[]>
  logger?: EngineLogger
}

export interface ExecuteOptions {
  signal?: AbortSignal
  /** Overrides the configured query timeout for this run. */
  timeoutMs?: number
  /** A tighter output bound for this run (the IDE's IDE_MAX_OUTPUT_MB), and the setting naming it. */
  maxOutputBytes?: number
  maxOutputSetting?: string
  /** The profile picked per referenced provider (provider -> profile); 'default' for the others. */
  profiles?: Record<string, string>
  /** Spool StackQL's output to this file (scheduled runs): the result's rows stay there (`spooled`). */
  spoolFile?: string
}

/** What a statement needs before it runs: its final text, providers, and the chosen profiles' mappings. */
export interface PreparedQuery {
  statement: string
  kind: ReturnType<typeof statementKind>
  /** Providers whose resources the text queries or changes (they get credentials), sorted. */
  providers: string[]
  /** Providers to pull first: those, and the one a metadata statement names (DESCRIBE aws....). */
  pull: string[]
  /** provider -> chosen profile, for every referenced provider. */
  profiles: Record<string, string>
  mappings: ProviderConfig[]
}

export type QueryResult = ResultSet & {
  message?: string
  /** False when StackQL returned rows but also reported an error: the rows are not the whole result. */
  complete: boolean
  /** StackQL's text saying why the result is incomplete. */
  incomplete?: string
  /** Exact bytes of the JSON output the rows were parsed from. */
  outputBytes: number
  /** With `spoolFile`: the rows, read from the file on each pass (rows is empty). */
  spooled?: SpooledRows
}

export class QueryService {
  constructor(private readonly deps: QueryServiceDeps) {}

  /**
   * Reads what `queryText` needs without running anything: checks it is ONE statement, finds the
   * providers it references, picks each one's profile (`profiles[provider]`, else 'default'; a
   * picked profile that does not exist is a 4xx) and substitutes the profiles' variables
   * (`{{ name }}` -> quoted literals; an unknown or invalid variable is a 4xx).
   */
  async prepare(queryText: string, picked: Record<string, string> = {}): Promise<PreparedQuery> {
    // A NUL or several statements are refused before variables are looked at (same messages as before).
    const placeholders = findPlaceholders(queryText)
    const masked = maskPlaceholders(queryText, placeholders)
    const kind = statementKind(singleStatement(masked))
    assertPlaceholdersInCode(queryText, placeholders)
    const providers = referencedProviders(masked)
    const profiles: Record<string, string> = {}
    for (const p of providers) profiles[p] = assertProfileName(picked[p] ?? DEFAULT_PROFILE)
    const { loadProviderConfig, loadProfileVariables } = this.deps
    // Metadata statements (SHOW, DESCRIBE, REGISTRY) without variables need nothing from the profiles.
    const needsProfiles = needsCredentials(kind) || placeholders.length > 0
    const loaded = await Promise.all(
      (needsProfiles ? providers : []).map(async (p) => {
        const [mappings, variables] = await Promise.all([
          loadProviderConfig(p),
          loadProfileVariables ? loadProfileVariables(p) : Promise.resolve([] as ProfileVariable[]),
        ])
        const profile = profiles[p]!
        const ofProfile = mappings.filter((m) => (m.profile ?? DEFAULT_PROFILE) === profile)
        const varsOfProfile = variables.filter((v) => v.profile === profile)
        if (profile !== DEFAULT_PROFILE && ofProfile.length === 0 && varsOfProfile.length === 0) {
          const known = [
            ...new Set([
              ...mappings.map((m) => m.profile ?? DEFAULT_PROFILE),
              ...variables.map((v) => v.profile),
            ]),
          ]
          throw new AppError(
            'VALIDATION',
            `Provider ${p} has no profile "${profile}" (its profiles: ${[DEFAULT_PROFILE, ...known.filter((k) => k !== DEFAULT_PROFILE)].join(', ')}). Add it on the Providers page or pick another.`,
          )
        }
        return { provider: p, profile, mappings: ofProfile, variables: varsOfProfile }
      }),
    )
    const scope: SubstitutionScope = { values: new Map(), profiles: [] }
    for (const l of loaded) {
      scope.profiles.push(`${l.provider}/${l.profile}`)
      for (const v of l.variables) {
        const from = `${l.provider}/${l.profile}`
        const other = scope.values.get(v.name)
        if (other && other.value !== v.value) {
          throw new AppError(
            'VALIDATION',
            `Variable ${v.name} is defined differently by ${other.from} and ${from}: the query cannot tell which to use. Rename it in one of the profiles.`,
          )
        }
        scope.values.set(v.name, { value: v.value, from })
      }
    }
    const statement = singleStatement(substituteVariables(queryText, placeholders, scope))
    return {
      statement,
      kind,
      providers,
      pull: providersToPull(masked),
      profiles,
      mappings: loaded.flatMap((l) => l.mappings),
    }
  }

  /**
   * Runs ONE statement (multi-statement input -> STACKQL_MULTI_STATEMENT; a trailing semicolon is
   * fine). Credentials follow the query: every provider the text references is pulled and gets the
   * mappings of its chosen profile (`opts.profiles`, else 'default'); SHOW/DESCRIBE/REGISTRY get
   * none. `provider` (a saved query's column) is only pulled, for provider-less metadata statements
   * such as `SHOW SERVICES IN aws`.
   */
  async execute(queryText: string, provider?: string, opts: ExecuteOptions = {}): Promise<QueryResult> {
    const started = performance.now()
    const prepared = await this.prepare(queryText, opts.profiles)
    const { statement, kind } = prepared
    const { runner, credentials, logger } = this.deps
    const pulled = [...new Set([...prepared.pull, ...(provider ? [provider] : [])])]
    await Promise.all(pulled.map((p) => ensureProvider(runner, p, { logger, signal: opts.signal })))
    const env = needsCredentials(kind) ? await credentials.resolveProviderEnv(prepared.mappings) : {}
    const result = await runner.run(statement, {
      env,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      maxOutputBytes: opts.maxOutputBytes,
      maxOutputSetting: opts.maxOutputSetting,
      spoolFile: opts.spoolFile,
    })
    const elapsedMs = Math.round(performance.now() - started)
    logger?.info(
      {
        provider: provider || null,
        profiles: prepared.profiles,
        kind,
        rows: result.spooled?.rowCount ?? result.rows.length,
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
      ...(result.spooled ? { spooled: result.spooled } : {}),
    }
  }

  /**
   * Tests one profile end to end: resolves ALL its mappings (and only those) into one StackQL
   * child's environment and runs `SHOW PROVIDERS`. The message names variables, never values.
   */
  async testProfile(provider: string, profile: string): Promise<{ ok: boolean; message: string }> {
    try {
      assertProfileName(profile)
      const mappings = (await this.deps.loadProviderConfig(provider)).filter(
        (m) => (m.profile ?? DEFAULT_PROFILE) === profile,
      )
      if (mappings.length === 0) {
        return {
          ok: true,
          message: `${provider}/${profile} has no credential mappings: queries run without credentials.`,
        }
      }
      const env = await this.deps.credentials.resolveProviderEnv(mappings)
      const result = await this.deps.runner.run('SHOW PROVIDERS', { env })
      const names = result.rows.map((r) => String(r.name))
      return {
        ok: true,
        message: `${mappings.length} ${mappings.length === 1 ? 'secret' : 'secrets'} of ${provider}/${profile} resolved and StackQL ran with ${Object.keys(env).join(', ')} set (installed providers: ${names.length ? names.join(', ') : 'none yet'}).`,
      }
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      return { ok: false, message: e.message }
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
