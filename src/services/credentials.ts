// Resolves provider credentials (and the Anthropic key) at the moment they are needed, from
// Databricks Secrets or — local development and job clusters — the process's own environment.
// Values are returned to the caller only: never stored, logged, cached or put into process.env.
import { readOwnEnvironment } from '../config.js'
import { AppError } from '../errors.js'
import type { ProviderConfig, ProviderConfigInput } from '../models.js'
import { assertCredentialEnvVar, isReservedFamily, profileEnvName } from '../profiles/env-names.js'
import { DEFAULT_PROFILE } from '../profiles/names.js'
import type { SecretsReader } from '../secrets.js'

export type CredentialSource = 'environment' | 'secrets'

export interface CredentialResolverOptions {
  /** 'environment' with STACKQL_LOCAL_DEV=true and in the job runner (the cluster resolved the secret references). */
  source: CredentialSource
  secrets?: SecretsReader
  readEnv?: (name: string) => string | undefined
}

export const ANTHROPIC_SECRET_KEY = 'anthropic-api-key'
export const ANTHROPIC_ENV_VAR = 'ANTHROPIC_API_KEY'

type Mapping = Pick<
  ProviderConfigInput,
  'provider' | 'profile' | 'env_var_name' | 'secret_scope' | 'secret_key'
>

/**
 * Where environment mode finds a mapping's value: first its profile-qualified name
 * (STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID, the same name job definitions use — what the local runner and job clusters receive), then
 * — for the default profile only, and never for a name in a refused family such as the app's own
 * DATABRICKS_CLIENT_ID — the plain name (local development's `export AWS_ACCESS_KEY_ID=...`).
 */
export function environmentNames(c: Mapping): string[] {
  const profile = c.profile ?? DEFAULT_PROFILE
  const qualified = profileEnvName(c.provider, profile, c.env_var_name)
  return profile === DEFAULT_PROFILE && !isReservedFamily(c.env_var_name)
    ? [qualified, c.env_var_name]
    : [qualified]
}

export class CredentialResolver {
  readonly source: CredentialSource
  private readonly secrets?: SecretsReader
  private readonly readEnv: (name: string) => string | undefined

  constructor(opts: CredentialResolverOptions) {
    this.source = opts.source
    this.secrets = opts.secrets
    this.readEnv = opts.readEnv ?? readOwnEnvironment
  }

  /**
   * The environment for a StackQL child: env_var_name -> resolved value, one entry per mapping (of
   * ONE profile per provider: two mappings of one name throw). A refused name (PATH, NODE_OPTIONS,
   * the app's own DATABRICKS_*, ...) throws VALIDATION before anything is resolved.
   */
  async resolveProviderEnv(configs: ProviderConfig[] | Mapping[]): Promise<Record<string, string>> {
    for (const c of configs) assertCredentialEnvVar(c.provider, c.env_var_name)
    const seen = new Map<string, Mapping>()
    for (const c of configs) {
      const other = seen.get(c.env_var_name)
      if (other) {
        throw new AppError(
          'VALIDATION',
          `${c.env_var_name} is mapped by both ${other.provider}/${other.profile ?? DEFAULT_PROFILE} and ${c.provider}/${c.profile ?? DEFAULT_PROFILE}: one StackQL process can hold only one value per variable. Run the query with one of them.`,
        )
      }
      seen.set(c.env_var_name, c)
    }
    const values = await Promise.all(configs.map((c) => this.resolveOne(c)))
    const env: Record<string, string> = {}
    configs.forEach((c, i) => {
      env[c.env_var_name] = values[i]!
    })
    return env
  }

  /**
   * The credentials for the local runner child ("Run now"): every mapping's value under its
   * profile-qualified name, so no mapping can replace a setting the runner reads itself
   * (DATABRICKS_CLIENT_ID, PATH, ...). The runner (environment mode) reads them back by that name.
   */
  async resolveRunnerEnv(configs: ProviderConfig[] | Mapping[]): Promise<Record<string, string>> {
    for (const c of configs) assertCredentialEnvVar(c.provider, c.env_var_name)
    const values = await Promise.all(configs.map((c) => this.resolveOne(c)))
    const env: Record<string, string> = {}
    configs.forEach((c, i) => {
      env[profileEnvName(c.provider, c.profile ?? DEFAULT_PROFILE, c.env_var_name)] = values[i]!
    })
    return env
  }

  /** Throws SECRET_NOT_FOUND when the mapping's secret (or, in environment mode, variable) is missing. */
  async checkMapping(input: Mapping): Promise<void> {
    assertCredentialEnvVar(input.provider, input.env_var_name)
    if (this.source === 'environment') {
      if (this.readFromEnvironment(input) === undefined) throw missingVariable(input)
      return
    }
    if (!(await this.reader().secretExists(input.secret_scope, input.secret_key))) throw missingSecret(input)
  }

  /** The Anthropic API key, for one SDK client construction. */
  async anthropicKey(scope: string): Promise<string> {
    if (this.source === 'environment') {
      const v = this.readEnv(ANTHROPIC_ENV_VAR)
      if (v === undefined) {
        throw new AppError(
          'SECRET_NOT_FOUND',
          `${ANTHROPIC_ENV_VAR} is not set. In local development (STACKQL_LOCAL_DEV=true) the AI assistant reads its key from that variable (in a workspace: secret ${scope}/${ANTHROPIC_SECRET_KEY}).`,
          { details: { scope, key: ANTHROPIC_SECRET_KEY, envVar: ANTHROPIC_ENV_VAR } },
        )
      }
      return v
    }
    try {
      return await this.reader().getSecret(scope, ANTHROPIC_SECRET_KEY)
    } catch (e) {
      if (e instanceof AppError && e.code === 'SECRET_NOT_FOUND') {
        throw new AppError(
          'SECRET_NOT_FOUND',
          `Secret ${scope}/${ANTHROPIC_SECRET_KEY} (the Anthropic API key for the AI assistant) was not found. Create it in the workspace's secret scope ${scope}.`,
          { cause: e, details: { scope, key: ANTHROPIC_SECRET_KEY } },
        )
      }
      throw e
    }
  }

  private readFromEnvironment(c: Mapping): string | undefined {
    for (const name of environmentNames(c)) {
      const v = this.readEnv(name)
      if (v !== undefined) return v
    }
    return undefined
  }

  private async resolveOne(c: Mapping): Promise<string> {
    if (this.source === 'environment') {
      const v = this.readFromEnvironment(c)
      if (v === undefined) throw missingVariable(c)
      return v
    }
    try {
      return await this.reader().getSecret(c.secret_scope, c.secret_key)
    } catch (e) {
      if (e instanceof AppError && e.code === 'SECRET_NOT_FOUND') throw missingSecret(c, e)
      throw e
    }
  }

  private reader(): SecretsReader {
    if (!this.secrets) {
      throw new AppError(
        'DATABRICKS_NOT_CONFIGURED',
        'No Databricks workspace is configured (DATABRICKS_HOST + token or client id/secret); set STACKQL_LOCAL_DEV=true to read credentials from the environment instead.',
      )
    }
    return this.secrets
  }
}

function missingSecret(c: Mapping, cause?: unknown): AppError {
  return new AppError(
    'SECRET_NOT_FOUND',
    `Secret ${c.secret_scope}/${c.secret_key} (mapped to ${c.env_var_name} for ${whose(c)}) was not found. Add or fix it on the Provider Config page.`,
    { cause, details: mappingDetails(c) },
  )
}

function missingVariable(c: Mapping): AppError {
  const [qualified, plain] = environmentNames(c)
  const names = plain
    ? `${plain} (mapped to secret ${c.secret_scope}/${c.secret_key} for ${whose(c)}) is not set, nor ${qualified}`
    : `${qualified} (mapped to secret ${c.secret_scope}/${c.secret_key} for ${whose(c)}) is not set`
  return new AppError(
    'SECRET_NOT_FOUND',
    `Environment variable ${names}. Credentials are read from the environment here: set the variable, or add or fix the mapping on the Provider Config page.`,
    { details: mappingDetails(c) },
  )
}

/** "provider aws" for the default profile (as before profiles), "profile aws/prod" otherwise. */
function whose(c: Mapping): string {
  const profile = c.profile ?? DEFAULT_PROFILE
  return profile === DEFAULT_PROFILE ? `provider ${c.provider}` : `profile ${c.provider}/${profile}`
}

function mappingDetails(c: Mapping): Record<string, unknown> {
  const profile = c.profile ?? DEFAULT_PROFILE
  return {
    provider: c.provider,
    ...(profile === DEFAULT_PROFILE ? {} : { profile }),
    envVar: c.env_var_name,
    scope: c.secret_scope,
    key: c.secret_key,
  }
}
