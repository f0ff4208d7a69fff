// Which environment variable names a credential mapping may fill (issue 12, finding 5). A mapping's
// value goes into the environment of a StackQL child, and "Run now" hands it to the local runner:
// a name that changes how those processes start, where they connect, which certificates they trust,
// or that the app itself reads as a setting (its own Databricks, Lakebase, Anthropic credentials)
// is refused. Each provider's documented credential variables are allowed even inside those
// families (reference/stackql.md §4), and are never read from the app's own environment.
import { EnvSchema } from '../config-schema.js'
import { AppError } from '../errors.js'
import { clusterEnvName } from './cluster-env.js'

/** Credential variables a provider documents that fall inside a refused family. */
export const PROVIDER_RESERVED_ALLOWED: Record<string, readonly string[]> = {
  databricks_account: ['DATABRICKS_ACCOUNT_ID', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET'],
  databricks_workspace: ['DATABRICKS_ACCOUNT_ID', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET'],
  github: ['STACKQL_GITHUB_USERNAME', 'STACKQL_GITHUB_PASSWORD'],
}

/** Exact names (compared case-insensitively), with why. */
const EXACT: Record<string, string> = {
  PATH: 'decides which programs the StackQL process and the runner start',
  HOME: 'decides where the process reads and writes its configuration',
  TMPDIR: 'decides where the process writes temporary files',
  TEMP: 'decides where the process writes temporary files',
  TMP: 'decides where the process writes temporary files',
  SHELL: 'changes how the process starts programs',
  IFS: 'changes how the process starts programs',
  ENV: 'changes how the process starts programs',
  BASH_ENV: 'changes how the process starts programs',
  SSL_CERT_FILE: 'changes which TLS certificates the process trusts',
  SSL_CERT_DIR: 'changes which TLS certificates the process trusts',
  SSLKEYLOGFILE: 'would write the TLS session keys to a file',
  CURL_CA_BUNDLE: 'changes which TLS certificates the process trusts',
  REQUESTS_CA_BUNDLE: 'changes which TLS certificates the process trusts',
  DATABASE_URL: "is the app's own database connection",
  GCONV_PATH: 'makes the C library load code from a directory',
  HOSTALIASES: 'changes how host names resolve',
  RES_OPTIONS: 'changes how host names resolve',
  LOCALDOMAIN: 'changes how host names resolve',
  GODEBUG: 'changes how the StackQL (Go) process behaves, including TLS checks',
  GOFLAGS: 'changes how the StackQL (Go) process behaves',
  GOTRACEBACK: 'changes what the StackQL (Go) process prints when it fails',
  GOMAXPROCS: 'changes how the StackQL (Go) process runs',
  GOGC: 'changes how the StackQL (Go) process runs',
  GOMEMLIMIT: 'changes how the StackQL (Go) process runs',
  TZ: 'changes how the process reads and prints times',
  LANG: 'changes the process locale',
  LANGUAGE: 'changes the process locale',
  SYSTEMROOT: 'is needed to start a process on Windows',
  USERPROFILE: 'decides where the process reads and writes its configuration',
  CI: 'changes how the app loads its settings',
}

/** Name families (prefix, compared case-insensitively), with why. */
const PREFIXES: [string, string][] = [
  ['LD_', 'makes the system loader load other code into the process'],
  ['DYLD_', 'makes the system loader load other code into the process'],
  ['NODE_', 'changes how the Node.js runner starts (NODE_OPTIONS can load any code)'],
  ['NPM_', 'changes how the Node.js runner starts'],
  ['OPENSSL_', 'changes the TLS library configuration (OPENSSL_CONF can load code)'],
  ['LC_', 'changes the process locale'],
  ['PG', "is read by the app's PostgreSQL connection (Lakebase)"],
  ['STACKQL_', 'is a setting of this app or of the StackQL process'],
  ['DATABRICKS_', "is the app's own Databricks setting or credential"],
  ['LAKEBASE_', "is the app's own Lakebase setting or credential"],
  ['ANTHROPIC_', "is the app's own AI assistant setting or key"],
]

/** Every variable this app reads as a setting (src/config.ts), e.g. APP_PLUGINS, DATA_DIR, PORT. */
const APP_SETTINGS = new Set([...Object.keys(EnvSchema.properties), 'NODE_ENV'].map((n) => n.toUpperCase()))

/**
 * Why `envVar` may not be filled by a mapping of `provider`, or undefined when it may. Names are
 * compared case-insensitively (proxies are read in both cases; Windows ignores case).
 */
export function refusedEnvVarReason(provider: string, envVar: string): string | undefined {
  const upper = envVar.toUpperCase()
  if (PROVIDER_RESERVED_ALLOWED[provider]?.includes(envVar)) return undefined
  if (upper.endsWith('_PROXY'))
    return 'changes which proxy the process sends its requests (and credentials) through'
  const exact = EXACT[upper]
  if (exact) return exact
  if (APP_SETTINGS.has(upper)) return 'is a setting of this app (the local runner reads it)'
  for (const [prefix, why] of PREFIXES) if (upper.startsWith(prefix)) return why
  return undefined
}

/** Throws VALIDATION (naming the variable and the reason) when a mapping may not use `envVar`. */
export function assertCredentialEnvVar(provider: string, envVar: string): void {
  const why = refusedEnvVarReason(provider, envVar)
  if (why === undefined) return
  const allowed = PROVIDER_RESERVED_ALLOWED[provider]
  throw new AppError(
    'VALIDATION',
    `Environment variable ${envVar} cannot hold a credential: it ${why}. Map the provider's own credential variable instead${allowed ? ` (${provider} reads ${allowed.join(', ')})` : ''}; see "Refused variable names" in the README.`,
    { details: { provider, envVar } },
  )
}

/** True for names inside a refused family that a provider may still use (never read from the app's env). */
export function isReservedFamily(envVar: string): boolean {
  return refusedEnvVarReason('', envVar) !== undefined
}

/**
 * The profile-qualified name a mapping's value travels under between processes (the local
 * runner's environment, job clusters, local development). ONE rule for all of them: the job
 * definition's spark_env_vars, the local runner's environment and environment-mode credential
 * reads all use `clusterEnvName` (src/profiles/cluster-env.ts):
 * STACKQL_PROFILE__<provider>__<profile>__<VAR>, e.g. STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID.
 * The StackQL child always gets the plain name.
 */
export const profileEnvName = clusterEnvName
