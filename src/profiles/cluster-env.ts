// Profile-qualified environment variable names for a job cluster where several profiles'
// credentials meet (two AWS_ACCESS_KEY_IDs): the job holds each profile's {{secrets/...}}
// reference under its own name, and profileEnv() hands one StackQL process only its profile's
// values, under the names the provider reads. Pure: no I/O, no process.env.

/** Every profile-qualified name starts with this. */
export const CLUSTER_ENV_PREFIX = 'STACKQL_PROFILE__'
const SEPARATOR = '__'

const PROVIDER = /^[a-z][a-z0-9_]{0,62}$/
const PROFILE = /^[a-z0-9][a-z0-9_-]{0,39}$/
/** spark_env_vars are exported as `export X='Y'`: the name must be a shell identifier. */
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

export interface ClusterEnvName {
  provider: string
  profile: string
  envVar: string
}

/**
 * Encodes a provider or profile name so it holds no `__` and does not end in `_`, which makes the
 * `__` separators unambiguous: `_` -> `_U`, `-` -> `_D` (both names are lowercase, so the capital
 * escape letters cannot be confused with name characters).
 */
function encodeSegment(s: string): string {
  return s.replace(/[_-]/g, (c) => (c === '_' ? '_U' : '_D'))
}

function decodeSegment(s: string): string | null {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c !== '_') {
      out += c
      continue
    }
    const next = s[++i]
    if (next === 'U') out += '_'
    else if (next === 'D') out += '-'
    else return null
  }
  return out
}

function check(provider: string, profile: string, envVar: string): void {
  if (!PROVIDER.test(provider)) throw new Error(`"${provider}" is not a valid provider name.`)
  if (!PROFILE.test(profile))
    throw new Error(`"${profile}" is not a valid profile name (expected [a-z0-9][a-z0-9_-]{0,39}).`)
  if (!ENV_VAR.test(envVar)) throw new Error(`"${envVar}" is not a valid environment variable name.`)
}

/**
 * The cluster environment name for one profile's variable:
 * `STACKQL_PROFILE__<provider>__<profile>__<ENV_VAR>` with provider and profile encoded
 * (`aws`, `prod-eu`, `AWS_ACCESS_KEY_ID` -> `STACKQL_PROFILE__aws__prod_Deu__AWS_ACCESS_KEY_ID`).
 */
export function clusterEnvName(provider: string, profile: string, envVar: string): string {
  check(provider, profile, envVar)
  return `${CLUSTER_ENV_PREFIX}${encodeSegment(provider)}${SEPARATOR}${encodeSegment(profile)}${SEPARATOR}${envVar}`
}

/** The inverse of clusterEnvName, or null for a name that is not one of ours. */
export function parseClusterEnvName(name: string): ClusterEnvName | null {
  if (!name.startsWith(CLUSTER_ENV_PREFIX)) return null
  const rest = name.slice(CLUSTER_ENV_PREFIX.length)
  // Encoded segments hold no `__` and never end in `_`: the first `__` ends each segment.
  const a = rest.indexOf(SEPARATOR)
  if (a <= 0) return null
  const b = rest.indexOf(SEPARATOR, a + SEPARATOR.length)
  if (b < 0) return null
  const provider = decodeSegment(rest.slice(0, a))
  const profile = decodeSegment(rest.slice(a + SEPARATOR.length, b))
  const envVar = rest.slice(b + SEPARATOR.length)
  if (provider === null || profile === null) return null
  if (!PROVIDER.test(provider) || !PROFILE.test(profile) || !ENV_VAR.test(envVar)) return null
  // Only the canonical spelling counts (no second way to write the same profile).
  if (clusterEnvName(provider, profile, envVar) !== name) return null
  return { provider, profile, envVar }
}

/**
 * One profile's credentials out of the cluster environment, under the names the provider reads:
 * `{ AWS_ACCESS_KEY_ID: <value> }` for (`aws`, `prod`). Nothing of any other profile or provider,
 * and none of the cluster's own variables, is returned. Unset and empty values are left out.
 */
export function profileEnv(
  env: Record<string, string | undefined>,
  provider: string,
  profile: string,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    const parsed = parseClusterEnvName(name)
    if (parsed && parsed.provider === provider && parsed.profile === profile) out[parsed.envVar] = value
  }
  return out
}
