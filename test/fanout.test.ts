// Fan-out across profile slices: each profile its own StackQL process with only its credentials,
// rows tagged `_profile`, PARTIAL when some slices fail (their previous rows kept), FAILED when all do.
import t from 'tap'
import type { DbService } from '../src/db/db-service.js'
import { executeSlices } from '../src/fanout/fanout-run.js'
import { launchSpacer, parseSliceSpecs, runBounded } from '../src/fanout/slices.js'
import { clusterEnvName } from '../src/profiles/cluster-env.js'
import { CredentialResolver } from '../src/services/credentials.js'
import { runInventory } from '../src/services/inventory-run.js'
import { QueryService } from '../src/services/query-service.js'
import { testDb } from './helpers/db.js'
import { awsAccountFor, makeRunner, type Tap } from './helpers/stackql.js'

const KEYS: Record<string, string> = {
  prod: 'AKIAPRODCANARY0001',
  staging: 'AKIASTAGINGCANARY02',
}

function env(keys: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [profile, key] of Object.entries(keys)) {
    out[clusterEnvName('aws', profile, 'AWS_ACCESS_KEY_ID')] = key
    out[clusterEnvName('aws', profile, 'AWS_SECRET_ACCESS_KEY')] = `secret-of-${profile}`
  }
  return out
}

async function setup(t: Tap) {
  const { db, sql } = await testDb(t)
  for (const profile of Object.keys(KEYS)) {
    for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      await db.saveProviderConfig(
        { provider: 'aws', profile, env_var_name: v, secret_scope: 'inv', secret_key: `${profile}-${v}` },
        'me@example.com',
      )
    }
  }
  const keys = { ...KEYS }
  const processEnv = () => env(keys)
  const { runner } = makeRunner(t)
  const queries = new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: (n) => processEnv()[n] }),
    loadProviderConfig: (p) => db.getProviderConfigFor(p),
    loadProfileVariables: (p) => db.getProfileVariablesFor(p),
  })
  const log = { info() {}, warn() {}, error() {} }
  const query = await db.saveQuery(
    {
      name: 'accounts',
      description: '',
      query_text: 'SELECT account FROM aws.sts.caller_identity',
      provider: 'aws',
    },
    'me@example.com',
  )
  const schedule = await db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'accounts',
    profiles: ['aws/prod', 'aws/staging'],
  })
  const args = {
    queryId: query.id,
    scheduleId: schedule.id,
    targetSchema: 'stackql_inventory',
    targetTable: 'accounts',
  }
  const rows = async () =>
    [
      ...(await sql<{ account: string; _profile: string }[]>`
      select account, _profile from stackql_inventory.accounts order by _profile`),
    ].map((r) => ({ ...r }))
  return { db, sql, keys, d: { db, sql, queries, log, sliceConcurrency: 4 }, query, schedule, args, rows }
}

async function slicesOf(db: DbService, runId: number) {
  return (await db.getRunSlices([runId])).get(runId) ?? []
}

t.test('slice specs: provider/profile or provider/*, one provider, names checked', async (t) => {
  t.same(parseSliceSpecs('aws/prod, aws/staging,aws/prod'), [
    { provider: 'aws', profile: 'prod' },
    { provider: 'aws', profile: 'staging' },
  ])
  t.same(parseSliceSpecs(['aws/*']), [{ provider: 'aws', profile: '*' }])
  t.throws(() => parseSliceSpecs('aws/Prod'), /not a profile slice/)
  t.throws(() => parseSliceSpecs('aws/prod;drop'), /not a profile slice/)
  t.throws(() => parseSliceSpecs('aws/prod,github/x'), /one provider/)
})

t.test('a schedule across two profiles writes both accounts, each tagged with its _profile', async (t) => {
  const { db, d, args, rows } = await setup(t)
  const out = await runInventory(d, args)
  t.match(out, { status: 'SUCCESS', rowCount: 2 })
  t.same(await rows(), [
    { account: awsAccountFor(KEYS.prod!), _profile: 'prod' },
    { account: awsAccountFor(KEYS.staging!), _profile: 'staging' },
  ])
  t.match(await slicesOf(db, out.runId!), [
    { profile: 'prod', status: 'SUCCESS', rows: 1 },
    { profile: 'staging', status: 'SUCCESS', rows: 1 },
  ])
})

t.test('aws/* runs every profile of the provider', async (t) => {
  const { d, args, rows } = await setup(t)
  const out = await runInventory(d, { ...args, profiles: 'aws/*' })
  t.equal(out.status, 'SUCCESS')
  t.same(
    (await rows()).map((r) => r._profile),
    ['prod', 'staging'],
  )
})

t.test(
  'one profile with expired credentials: PARTIAL, the other profile replaced, its own previous rows kept',
  async (t) => {
    const { db, d, args, rows, keys } = await setup(t)
    t.equal((await runInventory(d, args)).status, 'SUCCESS')
    const before = await rows()
    keys.staging = 'INVALIDEXPIREDKEY'
    keys.prod = 'AKIAPRODROTATED0003'
    const out = await runInventory(d, args)
    t.equal(out.status, 'PARTIAL')
    t.match(out.error, /1 of 2 profile slices failed \(aws\/staging\)/)
    t.match(out.error, /InvalidClientTokenId/, "StackQL's error of the failed slice")
    t.notMatch(out.error, /INVALIDEXPIREDKEY/, 'the rejected key id is not recorded')
    t.same(await rows(), [
      { account: awsAccountFor('AKIAPRODROTATED0003'), _profile: 'prod' },
      before.find((r) => r._profile === 'staging'),
    ])
    const slices = await slicesOf(db, out.runId!)
    t.match(slices, [
      { profile: 'staging', status: 'FAILED', rows: null, error: /aws\/staging: .*401/ },
      { profile: 'prod', status: 'SUCCESS', rows: 1 },
    ])
    t.equal((await db.getSchedule(args.scheduleId))!.last_run_status, 'PARTIAL')
  },
)

t.test('every slice failing is FAILED and leaves the table untouched', async (t) => {
  const { d, args, rows, keys } = await setup(t)
  await runInventory(d, args)
  const before = await rows()
  keys.prod = 'INVALIDA'
  keys.staging = 'INVALIDB'
  const out = await runInventory(d, args)
  t.equal(out.status, 'FAILED')
  t.match(out.error, /All 2 profile slices failed; the table is unchanged/)
  t.same(await rows(), before)
})

t.test(
  'a variable one profile does not define fails that slice, naming the variable; others run',
  async (t) => {
    const { db, d, query, args } = await setup(t)
    await db.setProfileVariable(
      { provider: 'aws', profile: 'prod', name: 'region', value: 'us-east-1' },
      'me',
    )
    await db.updateQuery(query.id, {
      name: 'accounts',
      description: '',
      query_text: 'SELECT instance_id FROM aws.ec2.instances WHERE region = {{ region }}',
      provider: 'aws',
    })
    const out = await runInventory(d, args)
    t.equal(out.status, 'PARTIAL', out.error ?? '')
    t.match(out.error, /aws\/staging: .*\{\{ region \}\}/)
    const got = await d.sql<{ _profile: string }[]>`select distinct _profile from stackql_inventory.accounts`
    t.same(
      got.map((r) => r._profile),
      ['prod'],
    )
  },
)

t.test(
  'removing the last mapping of a profile a schedule names is refused, naming the schedule',
  async (t) => {
    const { db } = await setup(t)
    const staging = (await db.getProviderConfigFor('aws')).filter((m) => m.profile === 'staging')
    await db.deleteProviderConfig(staging[0]!.id)
    await t.rejects(db.deleteProviderConfig(staging[1]!.id), {
      code: 'CONFLICT',
      message: /Profile aws\/staging is used by 1 schedule\(s\) \(stackql_inventory\.accounts\)/,
    })
    t.equal((await db.getProviderConfigFor('aws')).filter((m) => m.profile === 'staging').length, 1)
  },
)

t.test('one slice hanging past the timeout fails alone: PARTIAL, the other slice written', async (t) => {
  const { db, sql } = await testDb(t)
  for (const profile of ['fast', 'slow']) {
    await db.saveProviderConfig(
      {
        provider: 'stackql_test',
        profile,
        env_var_name: 'TEST_TOKEN',
        secret_scope: 's',
        secret_key: profile,
      },
      'me',
    )
    await db.setProfileVariable(
      { provider: 'stackql_test', profile, name: 'secs', value: profile === 'fast' ? '0' : '60' },
      'me',
    )
  }
  const { runner } = makeRunner(t, { timeoutMs: 4000 })
  const envOf: Record<string, string> = {
    [clusterEnvName('stackql_test', 'fast', 'TEST_TOKEN')]: 'fast-token',
    [clusterEnvName('stackql_test', 'slow', 'TEST_TOKEN')]: 'slow-token',
  }
  const queries = new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: (n) => envOf[n] }),
    loadProviderConfig: (p) => db.getProviderConfigFor(p),
    loadProfileVariables: (p) => db.getProfileVariablesFor(p),
  })
  const query = await db.saveQuery(
    {
      name: 'sleepy',
      description: '',
      query_text: 'SELECT slept FROM stackql_test.util.sleep WHERE seconds = {{ secs }}',
      provider: 'stackql_test',
    },
    'me',
  )
  const log = { info() {}, warn() {}, error() {} }
  const started = Date.now()
  const out = await runInventory(
    { db, sql, queries, log },
    {
      queryId: query.id,
      targetSchema: 'stackql_inventory',
      targetTable: 'sleepy',
      profiles: 'stackql_test/fast,stackql_test/slow',
    },
  )
  t.ok(Date.now() - started < 30_000, 'the hanging slice is stopped by the timeout')
  t.equal(out.status, 'PARTIAL', out.error ?? '')
  t.match(out.error, /stackql_test\/slow/)
  const rows = await sql<{ _profile: string }[]>`select _profile from stackql_inventory.sleepy`
  t.same(
    rows.map((r) => r._profile),
    ['fast'],
  )
})

t.test(
  'slice launches are spaced: never two starts closer than the gap, never more than the bound at once',
  async (t) => {
    const pool = async (launchGapMs: number) => {
      const t0 = performance.now()
      const starts: number[] = []
      const spaced = launchSpacer(launchGapMs)
      let inFlight = 0
      let most = 0
      const results = await runBounded([0, 1, 2, 3, 4, 5, 6], 3, async (item, i) => {
        starts[i] = (await spaced()) - t0
        most = Math.max(most, ++inFlight)
        await new Promise((r) => setTimeout(r, item === 3 ? 10 : 400))
        inFlight--
        return item * 10
      })
      const ordered = [...starts].sort((a, b) => a - b)
      const gaps = ordered.slice(1).map((s, i) => s - ordered[i]!)
      return { results, most, gaps, starts }
    }
    const spaced = await pool(40)
    t.same(spaced.results, [0, 10, 20, 30, 40, 50, 60], 'results in input order')
    t.equal(spaced.most, 3, 'at most the bound at once')
    // Measured from the actual launches (a timer that fires early waits again), so never closer.
    t.ok(
      Math.min(...spaced.gaps) >= 39.5,
      `starts at least 40 ms apart (gaps ${spaced.gaps.map(Math.round)})`,
    )
    const unspaced = await pool(0)
    t.equal(unspaced.most, 3)
    // Together: spaced by 40 ms they would be at least 80 ms apart.
    t.ok(unspaced.starts[2]! - unspaced.starts[0]! < 40, 'without a gap the first three start together')
  },
)

t.test(
  'a cancelled fan-out does not wait out the launch spacing of the slices it never starts',
  async (t) => {
    const slices = Array.from({ length: 40 }, (_, i) => ({ provider: 'aws', profile: `p${i}` }))
    const controller = new AbortController()
    let executed = 0
    const queries = {
      async execute() {
        executed++
        controller.abort()
        return { columns: ['a'], rows: [{ a: 1 }], complete: true }
      },
    }
    const started = performance.now()
    const results = await executeSlices(queries, 'SELECT 1', slices, {
      concurrency: 2,
      signal: controller.signal,
      launchGapMs: 100,
    })
    const ms = performance.now() - started
    t.equal(results.length, 40)
    t.ok(executed <= 2, `at most the slices already launched ran (${executed})`)
    t.equal(
      results.filter((r) => r.status === 'FAILED').length,
      40 - executed,
      'the others failed as cancelled',
    )
    t.ok(ms < 1_000, `the rest failed at once, not 40 x 100 ms later (${Math.round(ms)} ms)`)
  },
)
