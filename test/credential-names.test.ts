// Issue 12, finding 5: credential mappings can hijack processes. A mapping's value lands in the
// environment of the StackQL child and of the local runner, so names that change what those
// processes do, or that are the app's own settings, are refused; each provider's documented
// credential variables stay allowed and are never read from the app's own environment.
import t from 'tap'
import { AppError } from '../src/errors.js'
import type { SecretsReader } from '../src/secrets.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { QueryService } from '../src/services/query-service.js'
import { buildTestApp } from './helpers/app.js'
import { testDb } from './helpers/db.js'
import { rejection } from './helpers/errors.js'
import { makeRunner, readLog, STANDIN, type Tap, tempDir } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const SCOPE = 'stackql-inventory'

const REFUSED = [
  'PATH',
  'NODE_OPTIONS',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'DYLD_INSERT_LIBRARIES',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'HOME',
  'TMPDIR',
  'PGPASSWORD',
  'PGHOST',
  'DATABASE_URL',
  'STACKQL_BIN',
  'STACKQL_GITHUB_PASSWORD', // allowed for github only (below)
  'DATABRICKS_TOKEN',
  'DATABRICKS_CLIENT_SECRET', // allowed for databricks_* only (below)
  'LAKEBASE_PASSWORD',
  'ANTHROPIC_API_KEY',
  'APP_PLUGINS',
  'DATA_DIR',
]

class Secrets implements SecretsReader {
  async getSecret(scope: string, key: string): Promise<string> {
    if (key === 'k') return 'value-of-k'
    throw new AppError('SECRET_NOT_FOUND', `Secret ${scope}/${key} does not exist.`)
  }
  async secretExists(_scope: string, key: string): Promise<boolean> {
    return key === 'k'
  }
}

async function providersApp(t: Tap) {
  const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => standin.close())
  standin.state.putSecret(SCOPE, 'k', 'value-of-k')
  const built = await buildTestApp(t, {
    env: {
      DATABRICKS_HOST: standin.url,
      DATABRICKS_TOKEN: 'dapi-test',
      STACKQL_LOCAL_DEV: 'false',
      STACKQL_BIN: STANDIN,
      STACKQL_DOWNLOAD_DIR: tempDir(t, 'names-test-'),
    },
  })
  const post = (provider: string, env_var_name: string) =>
    built.session.htmx(
      'POST',
      '/providers',
      { provider, env_var_name, secret_scope: SCOPE, secret_key: 'k' },
      {
        'x-forwarded-email': 'jane@example.com',
      },
    )
  return { ...built, post }
}

t.test(
  'issue 12 finding 5: a mapping named PATH, NODE_OPTIONS, a proxy, PG*, STACKQL_* or an app setting is refused with a 400 and not saved',
  async (t) => {
    const { app, post } = await providersApp(t)
    for (const name of REFUSED) {
      const res = await post('aws', name)
      t.equal(res.statusCode, 400, name)
      t.match(res.body, new RegExp(`Environment variable ${name} cannot hold a credential: it `), name)
    }
    t.same(await app.db.getProviderConfig(), [], 'nothing was saved')
  },
)

t.test(
  "issue 12 finding 5: each provider's documented credential variables stay allowed, for that provider only",
  async (t) => {
    const { app, post } = await providersApp(t)
    for (const [provider, name] of [
      ['databricks_workspace', 'DATABRICKS_CLIENT_ID'],
      ['databricks_workspace', 'DATABRICKS_CLIENT_SECRET'],
      ['databricks_account', 'DATABRICKS_ACCOUNT_ID'],
      ['github', 'STACKQL_GITHUB_USERNAME'],
      ['github', 'STACKQL_GITHUB_PASSWORD'],
      ['aws', 'AWS_ACCESS_KEY_ID'],
    ]) {
      t.equal((await post(provider!, name!)).statusCode, 200, `${provider} ${name}`)
    }
    const refused = await post('aws', 'DATABRICKS_CLIENT_ID')
    t.equal(refused.statusCode, 400)
    t.match(refused.body, /DATABRICKS_CLIENT_ID cannot hold a credential: it is a setting of this app/)
    t.equal((await app.db.getProviderConfig()).length, 6)
  },
)

t.test(
  'issue 12 finding 5: a refused mapping saved before the check is refused when a query uses it, before StackQL starts',
  async (t) => {
    const { db, sql } = await testDb(t)
    await sql`insert into stackql_app.provider_config (provider, env_var_name, secret_scope, secret_key, created_by)
            values ('aws', 'NODE_OPTIONS', 's', 'k', 'old@example.com')`
    const made = makeRunner(t, {}, { logArgv: true })
    const queries = new QueryService({
      runner: made.runner,
      credentials: new CredentialResolver({ source: 'secrets', secrets: new Secrets() }),
      loadProviderConfig: (p) => db.getProviderConfigFor(p),
    })
    await queries.execute('SHOW PROVIDERS') // the stand-in starts at all (its log is kept)
    const before = readLog(made.logFile).length
    const e = await rejection(
      queries.execute("SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'"),
    )
    t.equal(e.status, 400)
    t.match(e.message, /NODE_OPTIONS cannot hold a credential/)
    t.equal(
      readLog(made.logFile).filter((l) => l.argv?.[1]?.startsWith('SELECT')).length,
      0,
      'the SELECT never reached StackQL',
    )
    t.ok(readLog(made.logFile).length >= before)
  },
)

t.test(
  "issue 12 finding 5: in environment mode DATABRICKS_CLIENT_ID of databricks_workspace is never the app's own",
  async (t) => {
    const appEnv: Record<string, string> = { DATABRICKS_CLIENT_ID: 'the-apps-own-service-principal' }
    const resolver = new CredentialResolver({ source: 'environment', readEnv: (n) => appEnv[n] })
    const m = {
      provider: 'databricks_workspace',
      env_var_name: 'DATABRICKS_CLIENT_ID',
      secret_scope: 's',
      secret_key: 'k',
    }
    const e = await rejection(resolver.resolveProviderEnv([m]))
    t.equal(e.code, 'SECRET_NOT_FOUND')
    t.match(e.message, /STACKQL_PROFILE__databricks_Uworkspace__default__DATABRICKS_CLIENT_ID .*is not set/)
    t.notMatch(e.message, /the-apps-own/)
    appEnv.STACKQL_PROFILE__databricks_Uworkspace__default__DATABRICKS_CLIENT_ID = 'the-providers-client-id'
    t.same(await resolver.resolveProviderEnv([m]), { DATABRICKS_CLIENT_ID: 'the-providers-client-id' })
    await t.rejects(resolver.checkMapping({ ...m, provider: 'aws' }), { code: 'VALIDATION' })
  },
)
