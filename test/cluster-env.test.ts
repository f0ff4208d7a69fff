import t from 'tap'
import {
  CLUSTER_ENV_PREFIX,
  clusterEnvName,
  parseClusterEnvName,
  profileEnv,
} from '../src/profiles/cluster-env.js'

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

t.test(
  'a profile-qualified name reads as prefix, provider, profile and the provider’s own name',
  async (t) => {
    t.equal(
      clusterEnvName('aws', 'prod', 'AWS_ACCESS_KEY_ID'),
      'STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID',
    )
    t.equal(
      clusterEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID'),
      'STACKQL_PROFILE__aws__prod_Deu__AWS_ACCESS_KEY_ID',
    )
    t.equal(clusterEnvName('google_x', 'a_b', 'X'), 'STACKQL_PROFILE__google_Ux__a_Ub__X')
  },
)

t.test('names round-trip for awkward provider, profile and variable names', async (t) => {
  const cases: [string, string, string][] = [
    ['aws', 'default', 'AWS_ACCESS_KEY_ID'],
    ['aws', 'prod-eu-1', 'AWS_SECRET_ACCESS_KEY'],
    ['a__b', 'x__y', '__WEIRD__NAME__'],
    ['a_', '0-', '_'],
    ['z', 'a-_-_b', 'lower_case'],
    ['p'.repeat(63), `a${'-'.repeat(39)}`, `V${'_'.repeat(127)}`],
  ]
  for (const [provider, profile, envVar] of cases) {
    const name = clusterEnvName(provider, profile, envVar)
    t.match(name, SHELL_NAME, `${name} is a shell identifier (spark_env_vars are exported as export X='Y')`)
    t.same(parseClusterEnvName(name), { provider, profile, envVar }, `${provider}/${profile}/${envVar}`)
  }
})

t.test('different profiles, providers or variables never share a name', async (t) => {
  const providers = ['a', 'a_', 'a_b', 'a__b', 'ab']
  const profiles = ['b', 'b-', 'b_', 'b-c', 'b_c', 'b--c', 'b__c', 'b_-c', 'b-_c', 'u', 'd', '0']
  const vars = ['X', '_X', 'X_', '__X', 'U_X', 'D_X']
  const seen = new Map<string, string>()
  for (const p of providers)
    for (const q of profiles)
      for (const v of vars) {
        const name = clusterEnvName(p, q, v)
        const id = `${p}/${q}/${v}`
        t.notOk(seen.has(name), `${id} collides with ${seen.get(name)}`)
        seen.set(name, id)
      }
  t.equal(seen.size, providers.length * profiles.length * vars.length)
})

t.test('invalid names are refused, and foreign or non-canonical names do not parse', async (t) => {
  t.throws(() => clusterEnvName('aws', 'Prod', 'X'), /not a valid profile name/)
  t.throws(() => clusterEnvName('aws', '-prod', 'X'), /not a valid profile name/)
  t.throws(() => clusterEnvName('aws', 'a'.repeat(41), 'X'), /not a valid profile name/)
  t.throws(() => clusterEnvName('AWS', 'prod', 'X'), /not a valid provider name/)
  t.throws(() => clusterEnvName('aws', 'prod', 'A-B'), /not a valid environment variable name/)
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    `${CLUSTER_ENV_PREFIX}aws`,
    `${CLUSTER_ENV_PREFIX}aws__prod`,
    `${CLUSTER_ENV_PREFIX}aws__prod__`,
    `${CLUSTER_ENV_PREFIX}aws__pr_Xod__X`,
    `${CLUSTER_ENV_PREFIX}__prod__X`,
    `${CLUSTER_ENV_PREFIX}aws__PROD__X`,
  ]) {
    t.equal(parseClusterEnvName(name), null, name)
  }
})

t.test('profileEnv returns one profile’s values under the provider’s names and nothing else', async (t) => {
  const env: Record<string, string | undefined> = {
    PATH: '/usr/bin',
    AWS_ACCESS_KEY_ID: 'plain-should-not-leak',
    DATABRICKS_CLIENT_SECRET: 'runner-secret',
    [clusterEnvName('aws', 'prod', 'AWS_ACCESS_KEY_ID')]: 'prod-key',
    [clusterEnvName('aws', 'prod', 'AWS_SECRET_ACCESS_KEY')]: 'prod-secret',
    [clusterEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID')]: 'prod-eu-key',
    [clusterEnvName('aws', 'prod_eu', 'AWS_ACCESS_KEY_ID')]: 'prod_eu-key',
    [clusterEnvName('aws', 'staging', 'AWS_ACCESS_KEY_ID')]: 'staging-key',
    [clusterEnvName('aws', 'staging', 'AWS_SESSION_TOKEN')]: '',
    [clusterEnvName('aws_x', 'prod', 'AWS_ACCESS_KEY_ID')]: 'other-provider',
    [clusterEnvName('github', 'prod', 'GITHUB_TOKEN')]: 'gh-token',
    [clusterEnvName('aws', 'default', 'AWS_ACCESS_KEY_ID')]: undefined,
  }
  t.same(profileEnv(env, 'aws', 'prod'), {
    AWS_ACCESS_KEY_ID: 'prod-key',
    AWS_SECRET_ACCESS_KEY: 'prod-secret',
  })
  t.same(profileEnv(env, 'aws', 'prod-eu'), { AWS_ACCESS_KEY_ID: 'prod-eu-key' })
  t.same(profileEnv(env, 'aws', 'prod_eu'), { AWS_ACCESS_KEY_ID: 'prod_eu-key' })
  t.same(profileEnv(env, 'aws', 'staging'), { AWS_ACCESS_KEY_ID: 'staging-key' }, 'empty values are left out')
  t.same(profileEnv(env, 'github', 'prod'), { GITHUB_TOKEN: 'gh-token' })
  t.same(profileEnv(env, 'aws', 'default'), {}, 'unset values and plain names are not picked up')
  t.same(profileEnv(env, 'azure', 'prod'), {})

  // No value of any other profile reaches a profile's environment.
  const ids = [
    ['aws', 'prod'],
    ['aws', 'prod-eu'],
    ['aws', 'prod_eu'],
    ['aws', 'staging'],
    ['aws_x', 'prod'],
    ['github', 'prod'],
  ] as const
  for (const [provider, profile] of ids) {
    const own = new Set(
      Object.entries(env)
        .filter(([k]) => {
          const p = parseClusterEnvName(k)
          return p?.provider === provider && p.profile === profile
        })
        .map(([, v]) => v),
    )
    for (const v of Object.values(profileEnv(env, provider, profile))) {
      t.ok(own.has(v), `${provider}/${profile} got only its own values`)
    }
  }
})

t.test(
  'environment-mode credentials read exactly the names a job definition carries (one naming rule)',
  async (t) => {
    const { CredentialResolver } = await import('../src/services/credentials.js')
    const { profileEnvName } = await import('../src/profiles/env-names.js')
    const mapping = {
      provider: 'aws',
      profile: 'prod-eu',
      env_var_name: 'AWS_ACCESS_KEY_ID',
      secret_scope: 's',
      secret_key: 'k',
    }
    t.equal(
      profileEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID'),
      clusterEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID'),
    )
    // What a job cluster's spark_env_vars resolve to, as the runner's process environment.
    const clusterEnv: Record<string, string> = {
      [clusterEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID')]: 'eu-key',
    }
    const resolver = new CredentialResolver({ source: 'environment', readEnv: (n) => clusterEnv[n] })
    t.same(await resolver.resolveProviderEnv([mapping]), { AWS_ACCESS_KEY_ID: 'eu-key' })
    // What the local runner receives is readable by profileEnv, as on a job cluster.
    const runnerEnv = await resolver.resolveRunnerEnv([mapping])
    t.same(profileEnv(runnerEnv, 'aws', 'prod-eu'), { AWS_ACCESS_KEY_ID: 'eu-key' })
  },
)
