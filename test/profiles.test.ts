// Profiles (issue 13 items 1-2): the migration from the previous schema, profile variables as
// quoted literals, and credentials that follow the query's providers — checked in the stand-in
// StackQL's own environment (stackql_test.util.env_names lists the NAMES its process saw).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { openDatabase } from '../src/db/connect.js'
import { DbService } from '../src/db/db-service.js'
import { applySchema } from '../src/db/migrate.js'
import { AppError } from '../src/errors.js'
import { profileEnvName } from '../src/profiles/env-names.js'
import { assertProfileName } from '../src/profiles/names.js'
import { findPlaceholders, invalidValueReason, literalFor } from '../src/profiles/variables.js'
import type { SecretsReader } from '../src/secrets.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { QueryService } from '../src/services/query-service.js'
import { createTestDatabase, testDb } from './helpers/db.js'
import { rejection } from './helpers/errors.js'
import { awsAccountFor, makeRunner, readLog, type Tap } from './helpers/stackql.js'

class InTestSecrets implements SecretsReader {
  constructor(private readonly values: Record<string, string>) {}
  async getSecret(scope: string, key: string): Promise<string> {
    const v = this.values[`${scope}/${key}`]
    if (v === undefined) throw new AppError('SECRET_NOT_FOUND', `Secret ${scope}/${key} does not exist.`)
    return v
  }
  async secretExists(scope: string, key: string): Promise<boolean> {
    return this.values[`${scope}/${key}`] !== undefined
  }
}

const SECRETS = {
  'team/aws-default-id': 'AKIA-DEFAULT',
  'team/aws-default-secret': 'default-secret-value',
  'team/aws-prod-id': 'AKIA-PROD',
  'team/aws-prod-secret': 'prod-secret-value',
  'team/gh-user': 'octo',
  'team/gh-pat': 'ghp-canary-value',
  'team/google': '{"type":"service_account"}',
}

/** A DbService with aws (default + prod), github and google mappings, and a QueryService over it. */
async function estate(t: Tap) {
  const { db, sql } = await testDb(t)
  const by = 'me@example.com'
  const m = (provider: string, profile: string, env_var_name: string, secret_key: string) =>
    db.saveProviderConfig({ provider, profile, env_var_name, secret_scope: 'team', secret_key }, by)
  await m('aws', 'default', 'AWS_ACCESS_KEY_ID', 'aws-default-id')
  await m('aws', 'default', 'AWS_SECRET_ACCESS_KEY', 'aws-default-secret')
  await m('aws', 'prod', 'AWS_ACCESS_KEY_ID', 'aws-prod-id')
  await m('aws', 'prod', 'AWS_SECRET_ACCESS_KEY', 'aws-prod-secret')
  await m('github', 'default', 'STACKQL_GITHUB_USERNAME', 'gh-user')
  await m('github', 'default', 'STACKQL_GITHUB_PASSWORD', 'gh-pat')
  await m('google', 'default', 'GOOGLE_CREDENTIALS', 'google')
  await db.setProfileVariable(
    { provider: 'aws', profile: 'prod', name: 'regions', value: 'us-east-1, eu-west-1' },
    by,
  )
  await db.setProfileVariable({ provider: 'aws', profile: 'default', name: 'region', value: 'eu-west-1' }, by)
  const made = makeRunner(t, {}, { logArgv: true })
  const queries = new QueryService({
    runner: made.runner,
    credentials: new CredentialResolver({ source: 'secrets', secrets: new InTestSecrets(SECRETS) }),
    loadProviderConfig: (p) => db.getProviderConfigFor(p),
    loadProfileVariables: (p) => db.getProfileVariablesFor(p),
  })
  return { db, sql, queries, logFile: made.logFile }
}

const ENV_NAMES_JOIN = `SELECT e.name, r.name AS repo, i.instance_id
  FROM stackql_test.util.env_names e
  JOIN github.repos.repos r ON r.org = 'stackql'
  JOIN aws.ec2.instances i ON i.region = 'eu-west-1'
  WHERE r.name = 'stackql'`

const CREDENTIAL_NAMES = /^(AWS_|STACKQL_GITHUB_|GOOGLE_|AZURE_)/

t.test(
  'a database made by the previous version keeps its mappings as profile default, applied twice',
  async (t) => {
    const url = await createTestDatabase(t)
    const { sql, target, close } = await openDatabase({ mode: 'url', url }, { max: 2 })
    t.teardown(close)
    await sql.unsafe(oldSchema())
    await sql`insert into stackql_app.provider_config (provider, env_var_name, secret_scope, secret_key, created_by)
            values ('aws', 'AWS_ACCESS_KEY_ID', 's', 'k', 'old@example.com')`
    await applySchema(sql)
    await applySchema(sql)
    const db = new DbService(sql, target)
    const rows = await db.getProviderConfig()
    t.same(
      rows.map((r) => [r.provider, r.profile, r.env_var_name]),
      [['aws', 'default', 'AWS_ACCESS_KEY_ID']],
    )
    const constraints = await sql<{ conname: string }[]>`
    select conname from pg_constraint where conrelid = 'stackql_app.provider_config'::regclass and contype = 'u'`
    t.same(
      constraints.map((c) => c.conname),
      ['provider_config_profile_unique'],
      'old unique constraint replaced',
    )
    await db.saveProviderConfig(
      {
        provider: 'aws',
        profile: 'prod',
        env_var_name: 'AWS_ACCESS_KEY_ID',
        secret_scope: 's',
        secret_key: 'k2',
      },
      'me',
    )
    await t.rejects(
      db.saveProviderConfig(
        { provider: 'aws', env_var_name: 'AWS_ACCESS_KEY_ID', secret_scope: 's', secret_key: 'k3' },
        'me',
      ),
      { code: 'CONFLICT', message: /already has a mapping/ },
    )
    await t.rejects(
      sql`insert into stackql_app.provider_config (provider, profile, env_var_name, secret_scope, secret_key, created_by)
        values ('aws', 'Bad Name', 'X', 's', 'k', 'me')`,
      'the profile name rule holds in the database too',
    )
    const list = await db.getProviderProfiles()
    t.same(
      list.map((p) => [p.provider, p.profiles.map((x) => x.profile)]),
      [['aws', ['default', 'prod']]],
    )
  },
)

/** scripts/init_lakebase.sql as the version before profiles shipped it. */
function oldSchema(): string {
  return readFileSync(new URL('./fixtures/init_lakebase.before-profiles.sql', import.meta.url), 'utf8')
}

t.test('profile names follow [a-z0-9][a-z0-9_-]{0,39}', async (t) => {
  for (const ok of ['default', 'prod', 'eu-west_1', '0', 'a'.repeat(40)]) t.equal(assertProfileName(ok), ok)
  for (const bad of ['', 'Prod', '-x', '_x', 'a b', 'a/b', 'a'.repeat(41), 'prod;drop', "p'"]) {
    t.throws(() => assertProfileName(bad), { code: 'VALIDATION', message: /not a profile name/ }, bad)
  }
})

t.test('a variable becomes quoted literals: a list item each, single quotes doubled', async (t) => {
  t.equal(literalFor('us-east-1, eu-west-1'), "'us-east-1', 'eu-west-1'")
  t.equal(literalFor("O'Brien"), "'O''Brien'")
  t.equal(literalFor('a;b'), "'a;b'")
  t.same(
    findPlaceholders('x {{ a }} {{b}}').map((p) => p.name),
    ['a', 'b'],
  )
  t.throws(() => findPlaceholders('x {{ 1a }}'), { code: 'VALIDATION', message: /does not open a variable/ })
})

t.test("a query using {{ regions }} runs with the picked profile's values as literals", async (t) => {
  const { queries, logFile } = await estate(t)
  const r = await queries.execute(
    'SELECT instance_id, region FROM aws.ec2.instances WHERE region IN ({{ regions }}) ORDER BY instance_id',
    undefined,
    { profiles: { aws: 'prod' } },
  )
  t.same(new Set(r.rows.map((x) => x.region)), new Set(['us-east-1', 'eu-west-1']))
  const argv = readLog(logFile).flatMap((l) => l.argv ?? [])
  t.ok(
    argv.includes(
      "SELECT instance_id, region FROM aws.ec2.instances WHERE region IN ('us-east-1', 'eu-west-1') ORDER BY instance_id",
    ),
    'StackQL received the substituted statement',
  )
  const d = await queries.execute('SELECT instance_id FROM aws.ec2.instances WHERE region = {{ region }}')
  t.same(d.rows, [{ instance_id: 'i-0a1b2c3d4e5f60004' }], "the default profile's variable")
})

t.test('variables that would change the statement are refused before anything runs', async (t) => {
  const { db, queries, logFile } = await estate(t)
  const run = (text: string, profiles?: Record<string, string>) =>
    rejection(queries.execute(text, undefined, { profiles }))
  let e = await run('SELECT instance_id FROM aws.ec2.instances WHERE region = {{ nowhere }}')
  t.equal(e.status, 400)
  t.match(e.message, /uses \{\{ nowhere \}\}, but that variable is not defined for aws\/default/)
  e = await run("SELECT instance_id FROM aws.ec2.instances WHERE region = '{{ region }}'")
  t.match(e.message, /inside a string literal.*without quotes/)
  e = await run('SELECT instance_id FROM aws.ec2.instances -- {{ region }}\nWHERE region = {{ region }}')
  t.match(e.message, /inside a comment/)
  e = await run('SELECT instance_id FROM aws.ec2.instances WHERE region = x{{ region }}')
  t.match(e.message, /touches other characters/)
  e = await run('SELECT instance_id FROM aws.ec2.instances WHERE region = {{ region }}', { aws: 'staging' })
  t.match(e.message, /Provider aws has no profile "staging" \(its profiles: default, prod\)/)
  // Values with a newline, NUL, {{ or a backslash in the database (written past the page) are refused at use.
  for (const [i, bad] of ['a\nb', '{{ x }}', 'a\\', 'a,,b', 'a\u0007'].entries()) {
    await db.setProfileVariable({ provider: 'aws', profile: 'prod', name: `v${i}`, value: bad }, 'me')
    e = await run(`SELECT instance_id FROM aws.ec2.instances WHERE region = {{ v${i} }}`, { aws: 'prod' })
    t.match(e.message, /The value of variable v\d \(aws\/prod\) is not valid/, JSON.stringify(bad))
  }
  t.match(invalidValueReason('a\u0000b'), /NUL/, 'a NUL cannot even be stored')
  t.same(readLog(logFile), [], 'StackQL never started')
})

t.test('quotes and semicolons in a value stay inside one literal: still one statement', async (t) => {
  const { db, queries } = await estate(t)
  await db.setProfileVariable(
    { provider: 'aws', profile: 'prod', name: 'odd', value: "x'; DELETE FROM aws.ec2.instances; --" },
    'me',
  )
  const r = await queries.execute(
    'SELECT instance_id FROM aws.ec2.instances WHERE region = {{ odd }}',
    undefined,
    {
      profiles: { aws: 'prod' },
    },
  )
  t.same(r.rows, [], 'the whole value was one region name, matching nothing')
})

t.test(
  "a query joining github and aws gets both providers' credentials and no others, nothing picked",
  async (t) => {
    const { queries } = await estate(t)
    const r = await queries.execute(ENV_NAMES_JOIN)
    const names = r.rows.map((row) => String(row.name)).filter((n) => CREDENTIAL_NAMES.test(n))
    t.same(names.sort(), [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'STACKQL_GITHUB_PASSWORD',
      'STACKQL_GITHUB_USERNAME',
    ])
    t.notOk(
      r.rows.some((row) => row.name === 'GOOGLE_CREDENTIALS'),
      'google is mapped but not referenced',
    )
    t.ok(
      r.rows.every((row) => row.repo === 'stackql' && row.instance_id === 'i-0a1b2c3d4e5f60004'),
      'joined rows',
    )
  },
)

t.test('each referenced provider gets its chosen profile: aws/prod, github/default', async (t) => {
  const { queries } = await estate(t)
  const who = `SELECT c.account, r.name FROM aws.sts.caller_identity c JOIN github.repos.repos r ON r.org = 'stackql' WHERE r.name = 'stackql'`
  t.equal(
    (await queries.execute(who)).rows[0]!.account,
    awsAccountFor('AKIA-DEFAULT'),
    'default unless picked',
  )
  const prod = await queries.execute(who, undefined, { profiles: { aws: 'prod' } })
  t.equal(prod.rows[0]!.account, awsAccountFor('AKIA-PROD'), 'the picked profile')
})

t.test(
  'a query naming github with nothing mapped or picked just works; SHOW needs no credentials',
  async (t) => {
    const made = makeRunner(t)
    const queries = new QueryService({
      runner: made.runner,
      credentials: new CredentialResolver({ source: 'secrets' }),
      loadProviderConfig: async () => [],
    })
    const r = await queries.execute("SELECT name FROM github.repos.repos WHERE org = 'stackql' ORDER BY name")
    t.same(
      r.rows.map((x) => x.name),
      ['pystackql', 'stackql', 'stackql-provider-registry'],
    )
    const shown = await queries.execute('SHOW PROVIDERS')
    t.ok(
      shown.rows.some((x) => x.name === 'github'),
      'github was pulled for the first query',
    )
  },
)

t.test(
  'environment mode reads a profile under its qualified name; the plain name only for default',
  async (t) => {
    t.equal(
      profileEnvName('aws', 'prod-eu', 'AWS_ACCESS_KEY_ID'),
      'STACKQL_PROFILE__aws__prod_Deu__AWS_ACCESS_KEY_ID',
    )
    t.not(profileEnvName('a', 'b_c', 'X'), profileEnvName('a_b', 'c', 'X'), 'unambiguous')
    const env: Record<string, string> = {
      AWS_ACCESS_KEY_ID: 'AKIA-PLAIN',
      STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID: 'AKIA-QUALIFIED-PROD',
    }
    const r = new CredentialResolver({ source: 'environment', readEnv: (n) => env[n] })
    const m = { provider: 'aws', env_var_name: 'AWS_ACCESS_KEY_ID', secret_scope: 's', secret_key: 'k' }
    t.same(await r.resolveProviderEnv([m]), { AWS_ACCESS_KEY_ID: 'AKIA-PLAIN' })
    t.same(await r.resolveProviderEnv([{ ...m, profile: 'prod' }]), {
      AWS_ACCESS_KEY_ID: 'AKIA-QUALIFIED-PROD',
    })
    const e = await rejection(r.resolveProviderEnv([{ ...m, profile: 'staging' }]))
    t.match(e.message, /STACKQL_PROFILE__aws__staging__AWS_ACCESS_KEY_ID .*is not set/)
    t.same(await r.resolveRunnerEnv([{ ...m, profile: 'prod' }]), {
      STACKQL_PROFILE__aws__prod__AWS_ACCESS_KEY_ID: 'AKIA-QUALIFIED-PROD',
    })
  },
)
