import t from 'tap'
import { AppError } from '../src/errors.js'
import type { ProviderConfig } from '../src/models.js'
import type { SecretsReader } from '../src/secrets.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { QueryService } from '../src/services/query-service.js'
import { ensureProvider } from '../src/stackql/providers.js'
import type { StackqlRunner } from '../src/stackql/runner.js'
import { singleStatement, splitStatements, statementKind } from '../src/stackql/statements.js'
import { rejection } from './helpers/errors.js'
import { awsAccountFor, captureLogger, makeRunner, readLog, STANDIN, type Tap } from './helpers/stackql.js'

/** The Databricks workspace's secret store, as far as the engine sees it (src/secrets.ts). */
class InTestSecrets implements SecretsReader {
  readonly reads: string[] = []
  constructor(private readonly values: Record<string, string>) {}
  async getSecret(scope: string, key: string): Promise<string> {
    this.reads.push(`${scope}/${key}`)
    const v = this.values[`${scope}/${key}`]
    if (v === undefined) throw new AppError('SECRET_NOT_FOUND', `Secret ${scope}/${key} does not exist.`)
    return v
  }
  async secretExists(scope: string, key: string): Promise<boolean> {
    return this.values[`${scope}/${key}`] !== undefined
  }
}

let nextId = 1
function mapping(
  provider: string,
  env_var_name: string,
  secret_key: string,
  secret_scope = 'team',
): ProviderConfig {
  return {
    id: nextId++,
    provider,
    env_var_name,
    secret_scope,
    secret_key,
    created_by: 'me@example.com',
    created_at: new Date(),
  }
}
const AWS_MAPPINGS = [
  mapping('aws', 'AWS_ACCESS_KEY_ID', 'aws-key-id'),
  mapping('aws', 'AWS_SECRET_ACCESS_KEY', 'aws-secret'),
]

function service(
  t: Tap,
  opts: {
    secrets?: SecretsReader
    source?: 'secrets' | 'environment'
    readEnv?: (n: string) => string | undefined
    configs?: ProviderConfig[]
    runner?: StackqlRunner
  } = {},
) {
  const made = makeRunner(t, {}, { logArgv: true })
  const runner = opts.runner ?? made.runner
  const logger = captureLogger()
  const loads: string[] = []
  const queries = new QueryService({
    runner,
    credentials: new CredentialResolver({
      source: opts.source ?? 'secrets',
      secrets: opts.secrets,
      readEnv: opts.readEnv,
    }),
    loadProviderConfig: async (provider) => {
      loads.push(provider)
      return (opts.configs ?? AWS_MAPPINGS).filter((c) => c.provider === provider)
    },
    logger,
  })
  return { queries, runner, logger, loads, logFile: made.logFile }
}

t.test(
  'splits statements on semicolons outside strings and comments; a trailing semicolon is fine',
  async (t) => {
    t.same(splitStatements('SELECT 1;'), ['SELECT 1'])
    t.same(splitStatements('SELECT \'a;b\' AS x, "c;d" FROM t -- e;f\n; ; /* g;h */'), [
      'SELECT \'a;b\' AS x, "c;d" FROM t -- e;f',
    ])
    t.same(splitStatements("SELECT 'it''s; fine'; SELECT 'x\\';y'"), [
      "SELECT 'it''s; fine'",
      "SELECT 'x\\';y'",
    ])
    t.same(splitStatements('  -- only a comment\n'), [])
    t.equal(statementKind('/* why */ -- note\n  describe aws.ec2.instances'), 'DESCRIBE')
    t.equal(statementKind('REGISTRY PULL aws'), 'REGISTRY')
    t.equal(statementKind('WITH x AS (SELECT 1) SELECT * FROM x'), 'SELECT')
  },
)

t.test(
  'rejects multi-statement input with STACKQL_MULTI_STATEMENT and empty input with VALIDATION',
  async (t) => {
    const err = await rejection(
      Promise.resolve().then(() => singleStatement('SHOW PROVIDERS; REGISTRY LIST;')),
    )
    t.equal(err.code, 'STACKQL_MULTI_STATEMENT')
    t.match(err.message, /2 statements.*one statement at a time/)
    const { queries, logFile } = service(t)
    t.equal(
      (await rejection(queries.execute('SHOW PROVIDERS; SHOW PROVIDERS', ''))).code,
      'STACKQL_MULTI_STATEMENT',
    )
    t.equal((await rejection(queries.execute(' ; -- nothing', ''))).code, 'VALIDATION')
    t.same(readLog(logFile), [], 'nothing was run')
  },
)

t.test(
  'runs a query with the provider credentials resolved from secrets and returns a ResultSet',
  async (t) => {
    const secrets = new InTestSecrets({ 'team/aws-key-id': 'AKIA-TEAM', 'team/aws-secret': 'team-secret' })
    const { queries } = service(t, { secrets })
    const result = await queries.execute(
      "SELECT instance_id, instance_type FROM aws.ec2.instances WHERE region = 'eu-west-1';",
      'aws',
    )
    t.same(result.columns, ['instance_id', 'instance_type'])
    t.same(result.rows, [{ instance_id: 'i-0a1b2c3d4e5f60004', instance_type: 'c5.xlarge' }])
    t.type(result.elapsedMs, 'number')
    t.same(secrets.reads.sort(), ['team/aws-key-id', 'team/aws-secret'])
    const who = await queries.execute('SELECT account FROM aws.sts.caller_identity', 'aws')
    t.equal(who.rows[0]!.account, awsAccountFor('AKIA-TEAM'), 'StackQL saw exactly the resolved key')
  },
)

t.test('pulls a provider that SHOW PROVIDERS does not list, once per process, before running', async (t) => {
  const secrets = new InTestSecrets({ 'team/aws-key-id': 'AKIA-TEAM', 'team/aws-secret': 's' })
  const { queries, logFile } = service(t, { secrets })
  await Promise.all([
    queries.execute("SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'", 'aws'),
    queries.execute("SELECT instance_id FROM aws.ec2.instances WHERE region = 'eu-west-1'", 'aws'),
  ])
  await queries.execute('SELECT account FROM aws.sts.caller_identity', 'aws')
  const statements = readLog(logFile).map((l) => l.argv?.[1])
  t.same(statements.filter((s) => s === 'SHOW PROVIDERS').length, 1, 'checked once')
  t.same(statements.filter((s) => s === 'REGISTRY PULL aws').length, 1, 'pulled once')
  t.same((await queries.execute('SHOW PROVIDERS', '')).rows, [{ name: 'aws', version: 'v24.04.00227' }])
})

t.test('a failed pull is not remembered', async (t) => {
  let calls = 0
  const { runner } = makeRunner(t, {
    binary: () => {
      calls++
      if (calls === 1) throw new AppError('STACKQL_BINARY', 'no binary yet')
      return STANDIN
    },
  })
  t.equal((await rejection(ensureProvider(runner, 'github'))).code, 'STACKQL_BINARY')
  await ensureProvider(runner, 'github')
  t.same((await runner.run('SHOW PROVIDERS')).rows, [{ name: 'github', version: 'v24.04.00227' }])
  const unknown = await rejection(ensureProvider(runner, 'nosuchprovider'))
  t.equal(unknown.code, 'STACKQL_QUERY')
  t.match(unknown.message, /REGISTRY PULL nosuchprovider.*could not find provider 'nosuchprovider'/)
  t.equal((await rejection(ensureProvider(runner, 'Bad;Name'))).code, 'VALIDATION')
})

t.test('provider-less statements run without credentials and without a pull', async (t) => {
  const { queries, loads } = service(t)
  const result = await queries.execute('REGISTRY LIST aws', '')
  t.same(result.rows, [{ provider: 'aws', versions: 'v24.04.00227, v24.03.00198' }])
  t.same(loads, [], 'no provider config was loaded')
  t.same((await queries.execute('SHOW PROVIDERS', '')).rows, [], 'nothing was pulled')
})

t.test('SHOW and DESCRIBE against a provider pull it but need no credentials', async (t) => {
  const { queries, loads } = service(t, { secrets: new InTestSecrets({}) })
  const described = await queries.execute('DESCRIBE aws.ec2.instances', 'aws')
  t.same(described.columns, ['name', 'type'])
  const methods = await queries.execute('SHOW METHODS IN aws.ec2.instances', 'aws')
  t.same(methods.columns, ['MethodName', 'RequiredParams', 'SQLVerb'])
  t.same(loads, [])
})

t.test('returns the info message of a statement without rows', async (t) => {
  const { queries } = service(t)
  const result = await queries.execute('REGISTRY PULL google', '')
  t.same(result.rows, [])
  t.equal(result.message, "google provider, version 'v24.04.00227' successfully installed")
})

t.test(
  'a missing secret fails before StackQL runs, naming scope, key, variable, provider and the page',
  async (t) => {
    const secrets = new InTestSecrets({ 'team/aws-key-id': 'AKIA-TEAM' })
    const { queries, logFile } = service(t, { secrets })
    const err = await rejection(
      queries.execute("SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", 'aws'),
    )
    t.equal(err.code, 'SECRET_NOT_FOUND')
    t.equal(
      err.message,
      'Secret team/aws-secret (mapped to AWS_SECRET_ACCESS_KEY for provider aws) was not found. Add or fix it on the Provider Config page.',
    )
    t.same(err.details, {
      provider: 'aws',
      envVar: 'AWS_SECRET_ACCESS_KEY',
      scope: 'team',
      key: 'aws-secret',
    })
    t.notOk(readLog(logFile).some((l) => l.argv?.[1]?.startsWith('SELECT')))
  },
)

t.test('secrets without a configured workspace is DATABRICKS_NOT_CONFIGURED', async (t) => {
  const { queries } = service(t)
  const err = await rejection(
    queries.execute("SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", 'aws'),
  )
  t.equal(err.code, 'DATABRICKS_NOT_CONFIGURED')
  t.match(err.message, /STACKQL_LOCAL_DEV=true/)
})

t.test('environment mode reads the mapped variables from the own environment', async (t) => {
  const own: Record<string, string> = { AWS_ACCESS_KEY_ID: 'AKIA-LOCAL', AWS_SECRET_ACCESS_KEY: 'local' }
  const { queries } = service(t, { source: 'environment', readEnv: (n) => own[n] })
  const who = await queries.execute('SELECT account FROM aws.sts.caller_identity', 'aws')
  t.equal(who.rows[0]!.account, awsAccountFor('AKIA-LOCAL'))
  delete own.AWS_SECRET_ACCESS_KEY
  const err = await rejection(queries.execute('SELECT account FROM aws.sts.caller_identity', 'aws'))
  t.equal(err.code, 'SECRET_NOT_FOUND')
  t.match(
    err.message,
    /^Environment variable AWS_SECRET_ACCESS_KEY \(mapped to secret team\/aws-secret for provider aws\) is not set/,
  )
})

t.test(
  'two concurrent queries with different credentials each see only their own; process.env untouched',
  async (t) => {
    const before = { ...process.env }
    const first = service(t, {
      secrets: new InTestSecrets({ 'team/aws-key-id': 'AKIA-ALICE', 'team/aws-secret': 'a' }),
    })
    const second = service(t, {
      runner: first.runner,
      secrets: new InTestSecrets({ 'team/aws-key-id': 'AKIA-BOB', 'team/aws-secret': 'b' }),
    })
    const q = 'SELECT account FROM aws.sts.caller_identity'
    const [a, b] = await Promise.all([first.queries.execute(q, 'aws'), second.queries.execute(q, 'aws')])
    t.equal(a.rows[0]!.account, awsAccountFor('AKIA-ALICE'))
    t.equal(b.rows[0]!.account, awsAccountFor('AKIA-BOB'))
    t.strictSame({ ...process.env }, before)
  },
)

t.test('a secret value appears in no log line, error or result', async (t) => {
  const canary = 'INVALID-CANARY-7f3a9c'
  const secretCanary = 'canary-secret-value-51b2'
  const secrets = new InTestSecrets({ 'team/aws-key-id': canary, 'team/aws-secret': secretCanary })
  const { queries, runner, logger } = service(t, { secrets })
  const seen: string[] = []
  // AWS rejects the key and echoes its id in the response body; StackQL prints that on stderr.
  const rejected = await rejection(
    queries.execute("SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", 'aws'),
  )
  t.equal(rejected.code, 'STACKQL_QUERY')
  t.match(rejected.message, /^http response status code: 401, .*invalid: \[redacted\]/)
  seen.push(rejected.message, JSON.stringify(rejected.details ?? {}), rejected.stack ?? '')
  const ok = new InTestSecrets({ 'team/aws-key-id': 'AKIA-OK', 'team/aws-secret': secretCanary })
  const good = service(t, { secrets: ok, runner })
  seen.push(JSON.stringify(await good.queries.execute('SELECT * FROM aws.sts.caller_identity', 'aws')))
  seen.push(JSON.stringify(await good.queries.testMapping(AWS_MAPPINGS[1]!)))
  const missing = service(t, { secrets: new InTestSecrets({ 'team/aws-key-id': canary }) })
  const err = await rejection(missing.queries.execute('SELECT * FROM aws.sts.caller_identity', 'aws'))
  seen.push(err.message, JSON.stringify(err.details), err.stack ?? '')
  const all = [...seen, ...logger.lines, ...good.logger.lines, ...missing.logger.lines].join('\n')
  t.ok(logger.lines.length > 0 && good.logger.lines.length > 0, 'the service did log')
  t.notMatch(all, canary)
  t.notMatch(all, secretCanary)
})

t.test('testMapping resolves only that mapping and reports pass/fail without the value', async (t) => {
  const secrets = new InTestSecrets({ 'team/aws-key-id': 'AKIA-ONE', 'team/aws-secret': 'two' })
  const { queries } = service(t, { secrets })
  const passed = await queries.testMapping(AWS_MAPPINGS[0]!)
  t.equal(passed.ok, true)
  t.match(passed.message, /^Secret team\/aws-key-id resolved and StackQL ran with AWS_ACCESS_KEY_ID set/)
  t.notMatch(passed.message, 'AKIA-ONE')
  t.same(secrets.reads, ['team/aws-key-id'], 'only the tested mapping was read')
  const failed = await queries.testMapping(mapping('aws', 'AWS_SESSION_TOKEN', 'no-such-key'))
  t.same(failed, {
    ok: false,
    message:
      'Secret team/no-such-key (mapped to AWS_SESSION_TOKEN for provider aws) was not found. Add or fix it on the Provider Config page.',
  })
  const broken = service(t, { secrets, runner: makeRunner(t, { binary: '/nonexistent/stackql' }).runner })
  const noBinary = await broken.queries.testMapping(AWS_MAPPINGS[0]!)
  t.equal(noBinary.ok, false)
  t.match(noBinary.message, /Could not start StackQL/)
})

t.test('checkMapping and anthropicKey never return a secret and name what is missing', async (t) => {
  const secrets = new InTestSecrets({
    'team/aws-key-id': 'x',
    'stackql-inventory/anthropic-api-key': 'sk-test',
  })
  const creds = new CredentialResolver({ source: 'secrets', secrets })
  t.equal(await creds.checkMapping(AWS_MAPPINGS[0]!), undefined)
  const missing = await rejection(creds.checkMapping(AWS_MAPPINGS[1]!))
  t.equal(missing.code, 'SECRET_NOT_FOUND')
  t.match(missing.message, /team\/aws-secret.*Provider Config page/)
  t.equal(await creds.anthropicKey('stackql-inventory'), 'sk-test')
  const noKey = await rejection(creds.anthropicKey('other'))
  t.equal(noKey.code, 'SECRET_NOT_FOUND')
  t.match(noKey.message, 'other/anthropic-api-key')

  const env: Record<string, string> = { AWS_ACCESS_KEY_ID: 'x', ANTHROPIC_API_KEY: 'sk-local' }
  const local = new CredentialResolver({ source: 'environment', readEnv: (n) => env[n] })
  await local.checkMapping(AWS_MAPPINGS[0]!)
  t.equal((await rejection(local.checkMapping(AWS_MAPPINGS[1]!))).code, 'SECRET_NOT_FOUND')
  t.equal(await local.anthropicKey('stackql-inventory'), 'sk-local')
  delete env.ANTHROPIC_API_KEY
  t.match(await rejection(local.anthropicKey('stackql-inventory')), {
    code: 'SECRET_NOT_FOUND',
    message: /ANTHROPIC_API_KEY is not set/,
  })
  const noWorkspace = new CredentialResolver({ source: 'secrets' })
  t.equal((await rejection(noWorkspace.checkMapping(AWS_MAPPINGS[0]!))).code, 'DATABRICKS_NOT_CONFIGURED')
  t.equal((await rejection(noWorkspace.anthropicKey('s'))).code, 'DATABRICKS_NOT_CONFIGURED')
})

t.test('a per-call timeout and an abort signal reach the run', async (t) => {
  const { queries } = service(t)
  await queries.execute('REGISTRY PULL stackql_test', '')
  const slow = "SELECT * FROM stackql_test.util.sleep WHERE seconds = '30'"
  t.equal(
    (await rejection(queries.execute(slow, 'stackql_test', { timeoutMs: 500 }))).code,
    'STACKQL_TIMEOUT',
  )
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 300)
  t.equal(
    (await rejection(queries.execute(slow, 'stackql_test', { signal: ac.signal }))).code,
    'STACKQL_CANCELLED',
  )
})
