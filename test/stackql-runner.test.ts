import { spawnSync } from 'node:child_process'
import t from 'tap'
import { isErrorMessage, parseRows, unwrapNull } from '../src/stackql/output.js'
import { BASE_ENV_NAMES, DEFAULT_FLAGS, pickBaseEnvironment } from '../src/stackql/runner.js'
import { rejection } from './helpers/errors.js'
import {
  awsAccountFor,
  makeRunner,
  processGone,
  pulledRunner,
  readLog,
  STANDIN,
  waitUntil,
} from './helpers/stackql.js'

const AWS = { AWS_ACCESS_KEY_ID: 'AKIATESTKEY1', AWS_SECRET_ACCESS_KEY: 'secret-one' }
const MISSING_PARAMS =
  'cannot find matching operation, possible causes include missing required parameters or an unsupported method for the resource, to find required parameters for supported methods run SHOW METHODS IN github.repos.repos: cannot resolve Method'

t.test(
  'runs exec with the query as ONE argument, --output json, the approot and the pystackql flags',
  async (t) => {
    const { runner, approot, logFile } = makeRunner(t)
    const query = "SELECT id FROM github.repos.repos WHERE org = 'it''s; $(touch /tmp/x) `id` \"q\"'"
    await runner.run('REGISTRY PULL github')
    const result = await runner.run(query, { env: { STACKQL_STANDIN_LOG: logFile } })
    t.same(result.rows, [], 'the odd org matches nothing: the quotes reached StackQL intact')
    const [entry] = readLog(logFile)
    t.same(entry?.argv, ['exec', query, '--output', 'json', '--approot', approot, ...DEFAULT_FLAGS])
  },
)

t.test(
  'parses rows: column order of the first row, later keys appended, NULL wrappers unwrapped, strings kept',
  async (t) => {
    const { runner } = await pulledRunner(t, ['stackql_test', 'github'])
    const nulls = await runner.run('SELECT * FROM stackql_test.util.nulls')
    t.same(nulls.columns, ['name', 'text', 'n', 'f', 'b', 'missing', 'later'])
    t.strictSame(nulls.rows, [
      { name: 'wrapped', text: 'x', n: 5, f: 1.5, b: true, missing: null, later: null },
      { name: 'plain', text: 'y', n: '42', f: '2.5', b: false, missing: null, later: 'z' },
    ])
    t.strictSame(Object.keys(nulls.rows[0]!), nulls.columns, 'each row lists its keys in column order')
    const repos = await runner.run(
      "SELECT id, name, description, language, stargazers_count FROM github.repos.repos WHERE org = 'stackql'",
    )
    t.same(repos.columns, ['id', 'name', 'description', 'language', 'stargazers_count'])
    t.equal(repos.rows[0]!.id, '443987542', 'numbers-as-strings stay strings')
    t.equal(repos.rows[2]!.description, null)
    t.equal(repos.message, undefined, 'no stderr, no message')
    t.type(repos.elapsedMs, 'number')
  },
)

t.test('keeps nested JSON objects that are not NULL wrappers', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const { rows } = await runner.run("SELECT id, owner, tags FROM stackql_test.util.rows WHERE count = '2'")
  t.strictSame(rows, [
    { id: '1', owner: null, tags: { env: 'dev', cost_center: '1000', labels: ['a', 'b'] } },
    { id: '2', owner: 'team-1', tags: { env: 'prod', cost_center: '1001', labels: ['a', 'b'] } },
  ])
})

t.test('treats null, [] and empty stdout as zero rows, not as an error', async (t) => {
  const { runner } = await pulledRunner(t, ['github', 'aws', 'google'])
  const asNull = await runner.run("SELECT id FROM github.repos.repos WHERE org = 'nobody'")
  const asArray = await runner.run("SELECT instance_id FROM aws.ec2.instances WHERE region = 'ap-east-1'", {
    env: AWS,
  })
  const asEmpty = await runner.run(
    "SELECT name FROM google.compute.instances WHERE project = 'empty-project' AND zone = 'us-west1-b'",
    { env: { GOOGLE_CREDENTIALS: '{"type":"service_account"}' } },
  )
  for (const r of [asNull, asArray, asEmpty])
    t.same({ columns: r.columns, rows: r.rows }, { columns: [], rows: [] })
})

t.test('reports a missing required parameter with the raw StackQL message', async (t) => {
  const { runner } = await pulledRunner(t, ['github'])
  const err = await rejection(runner.run('SELECT id FROM github.repos.repos'))
  t.equal(err.code, 'STACKQL_QUERY')
  t.equal(err.message, MISSING_PARAMS)
})

t.test('classifies errors by content although StackQL exits 0', async (t) => {
  const { runner } = await pulledRunner(t, ['aws'])
  const noCreds = await rejection(
    runner.run("SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'"),
  )
  t.equal(noCreds.code, 'STACKQL_QUERY')
  t.match(noCreds.message, /^http response status code: 403, response body: /)
  const syntax = await rejection(runner.run('SELEC 1'))
  t.equal(syntax.message, "syntax error at position 1 near 'SELEC'")
  const notPulled = await rejection(
    runner.run("SELECT name FROM google.compute.instances WHERE project = 'p' AND zone = 'z'"),
  )
  t.match(notPulled.message, /provider 'google' is not installed/)
})

t.test('reports a crash (non-zero exit, Go panic) as a query error with the panic text', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const err = await rejection(runner.run('SELECT * FROM stackql_test.util.crash'))
  t.equal(err.code, 'STACKQL_QUERY')
  t.match(err.message, /^panic: runtime error: invalid memory address/)
})

t.test('returns the stderr of statements without rows as an info message', async (t) => {
  const { runner } = makeRunner(t)
  const pull = await runner.run('REGISTRY PULL aws')
  t.same(pull.rows, [])
  t.equal(pull.message, "aws provider, version 'v24.04.00227' successfully installed")
  const insert = await runner.run("INSERT INTO aws.ec2.instances (region) SELECT 'us-east-1'", { env: AWS })
  t.equal(insert.message, 'The operation was despatched successfully')
  const shown = await runner.run('SHOW PROVIDERS')
  t.same(shown.rows, [{ name: 'aws', version: 'v24.04.00227' }])
})

t.test('refuses output holding several result sets', async (t) => {
  const { runner } = makeRunner(t)
  const err = await rejection(runner.run('SHOW PROVIDERS; SHOW PROVIDERS'))
  t.equal(err.code, 'STACKQL_QUERY')
  t.match(err.message, /several result sets/)
})

t.test('gives the child only the minimal base environment plus the run credentials', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const { rows } = await runner.run('SELECT name FROM stackql_test.util.env_names', { env: AWS })
  const names = rows.map((r) => String(r.name))
  t.ok(names.includes('PATH'), 'PATH is passed on')
  t.ok(names.includes('AWS_ACCESS_KEY_ID') && names.includes('AWS_SECRET_ACCESS_KEY'))
  const allowed = new Set([...BASE_ENV_NAMES, ...Object.keys(AWS)])
  // tap's coverage hook re-adds NODE_OPTIONS and _TAPJS_* to every process the test spawns.
  const injectedByTap = (n: string) => n === 'NODE_OPTIONS' || n.startsWith('_TAPJS_')
  t.ok(
    process.env.TAP_CHILD_ID !== undefined && !names.includes('TAP_CHILD_ID'),
    "the test process's own variables stay behind",
  )
  t.same(
    names.filter((n) => !allowed.has(n) && !injectedByTap(n)),
    [],
    'nothing else of the server environment reaches StackQL',
  )
  t.same(
    Object.keys(pickBaseEnvironment((n) => (n === 'HOME' ? '/h' : n === 'DATABASE_URL' ? 'x' : undefined))),
    ['HOME'],
  )
})

t.test(
  'two concurrent runs with different credentials each see only their own; process.env untouched',
  async (t) => {
    const { runner } = await pulledRunner(t, ['aws'])
    const before = { ...process.env }
    const keys = ['AKIA-FIRST-KEY', 'AKIA-SECOND-KEY']
    const results = await Promise.all(
      keys.map((k) =>
        runner.run('SELECT account FROM aws.sts.caller_identity', {
          env: { AWS_ACCESS_KEY_ID: k, AWS_SECRET_ACCESS_KEY: `secret-of-${k}` },
        }),
      ),
    )
    t.same(
      results.map((r) => r.rows[0]!.account),
      keys.map(awsAccountFor),
    )
    t.not(awsAccountFor(keys[0]!), awsAccountFor(keys[1]!))
    t.strictSame({ ...process.env }, before)
  },
)

t.test('a timeout kills the whole process group and reports STACKQL_TIMEOUT', async (t) => {
  const { runner, logFile } = await pulledRunner(t, ['stackql_test'])
  const err = await rejection(
    runner.run("SELECT * FROM stackql_test.util.sleep WHERE seconds = '30'", {
      env: { STACKQL_STANDIN_LOG: logFile },
      timeoutMs: 700,
    }),
  )
  t.equal(err.code, 'STACKQL_TIMEOUT')
  t.match(err.message, /longer than 700 ms/)
  const pids = readLog(logFile).find((l) => l.grandchildPid)
  t.ok(pids, 'the slow query started a grandchild')
  t.ok(processGone(pids!.pid), 'stackql itself is gone')
  t.ok(
    await waitUntil(() => processGone(pids!.grandchildPid!)),
    'the grandchild in its process group is gone',
  )
})

t.test('the configured timeout applies when the call gives none', async (t) => {
  const { runner } = makeRunner(t, { timeoutMs: 1000 })
  await runner.run('REGISTRY PULL stackql_test', { timeoutMs: 30_000 })
  const err = await rejection(runner.run("SELECT * FROM stackql_test.util.sleep WHERE seconds = '30'"))
  t.equal(err.code, 'STACKQL_TIMEOUT')
})

t.test('output beyond maxOutputBytes stops the process with STACKQL_OUTPUT_TOO_LARGE', async (t) => {
  const { runner, logFile } = makeRunner(t, { maxOutputBytes: 200_000 })
  await runner.run('REGISTRY PULL stackql_test')
  const err = await rejection(
    runner.run("SELECT * FROM stackql_test.util.rows WHERE count = '50000'", {
      env: { STACKQL_STANDIN_LOG: logFile },
    }),
  )
  t.equal(err.code, 'STACKQL_OUTPUT_TOO_LARGE')
  const [entry] = readLog(logFile)
  t.ok(processGone(entry!.pid))
})

t.test('a large result within the bound is parsed completely', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const { rows, columns } = await runner.run("SELECT * FROM stackql_test.util.rows WHERE count = '50000'")
  t.equal(rows.length, 50_000)
  t.same(columns, ['id', 'name', 'region', 'active', 'cpu', 'owner', 'tags'])
  t.equal(rows[49_999]!.id, '50000')
})

t.test('an AbortSignal cancels a run and kills its processes', async (t) => {
  const { runner, logFile } = await pulledRunner(t, ['stackql_test'])
  const ac = new AbortController()
  const run = runner.run("SELECT * FROM stackql_test.util.sleep WHERE seconds = '30'", {
    env: { STACKQL_STANDIN_LOG: logFile },
    signal: ac.signal,
  })
  await waitUntil(() => readLog(logFile).some((l) => l.grandchildPid))
  ac.abort()
  const err = await rejection(run)
  t.equal(err.code, 'STACKQL_CANCELLED')
  const pids = readLog(logFile).find((l) => l.grandchildPid)!
  t.ok(processGone(pids.pid))
  t.ok(await waitUntil(() => processGone(pids.grandchildPid!)))
})

t.test('an already aborted signal starts no process', async (t) => {
  const { runner, logFile } = makeRunner(t)
  const err = await rejection(
    runner.run('SHOW PROVIDERS', { signal: AbortSignal.abort(), env: { STACKQL_STANDIN_LOG: logFile } }),
  )
  t.equal(err.code, 'STACKQL_CANCELLED')
  t.same(readLog(logFile), [])
})

t.test('a binary that cannot start becomes STACKQL_BINARY', async (t) => {
  const { runner } = makeRunner(t, { binary: async () => '/nonexistent/stackql' })
  const err = await rejection(runner.run('SHOW PROVIDERS'))
  t.equal(err.code, 'STACKQL_BINARY')
  t.match(err.message, /\/nonexistent\/stackql \(ENOENT\).*STACKQL_BIN/)
})

t.test('the stand-in rejects flags the real CLI does not know, like the real CLI', async (t) => {
  const r = spawnSync(STANDIN, ['exec', 'SHOW PROVIDERS', '--output', 'json', '--no-such-flag'], {
    encoding: 'utf8',
  })
  t.equal(r.status, 1)
  t.match(r.stderr, /^Error: unknown flag: --no-such-flag/)
  const v = spawnSync(STANDIN, ['--version'], { encoding: 'utf8' })
  t.match(v.stdout, /^stackql v\S+ \S+ \([0-9a-f]{7}\)\nBuildDate: .+\nhttps:\/\/stackql.io\n$/)
})

t.test('recognises every pystackql error pattern and leaves info messages alone', async (t) => {
  for (const text of [
    'http response status code: 404, response body: {}',
    'HTTP RESPONSE STATUS CODE: 503',
    'disparity in fields to insert',
    'invalid query: x',
    'error: something',
    'ERROR: x',
    'Error: unknown flag',
    'FAILED to do it',
    'FAILURE',
    'Get "https://x": dial tcp: lookup x: no such host',
    'dial tcp 127.0.0.1:1: connect: connection refused',
    'context deadline exceeded',
    'dial tcp 10.0.0.1:443: i/o timeout',
    'net/http: request canceled (Client.Timeout exceeded)... timeout',
  ]) {
    t.ok(isErrorMessage(text), text)
  }
  for (const text of [
    "aws provider, version 'v24.04.00227' successfully installed",
    'The operation was despatched successfully',
  ]) {
    t.notOk(isErrorMessage(text), text)
  }
})

t.test('parses rows whose keys come in a different order into column order', async (t) => {
  const parsed = parseRows('[{"a":"1","b":{"Int64":2,"Valid":true}},{"b":"3","a":"4"},{"a":"5"}]')
  t.same(parsed.columns, ['a', 'b'])
  t.strictSame(parsed.rows, [
    { a: '1', b: 2 },
    { a: '4', b: '3' },
    { a: '5', b: null },
  ])
  t.strictSame(
    unwrapNull({ Valid: true, Name: 'x' }),
    { Valid: true, Name: 'x' },
    'objects that only look similar stay',
  )
  t.strictSame(unwrapNull({ Valid: true }), null)
  t.throws(() => parseRows('{"a":1}'), /not an array/)
  t.throws(() => parseRows('[1,2]'), /not an object/)
  t.throws(() => parseRows('<html>'), /not JSON/)
})

t.test(
  'finding 1 (partial output): rows with an error on stderr and exit 1 come back as complete: false with StackQL’s text',
  async (t) => {
    const { runner } = await pulledRunner(t, ['stackql_test'])
    const partial = await runner.run("SELECT * FROM stackql_test.util.partial WHERE count = '9'")
    t.equal(partial.rows.length, 3, 'the rows StackQL printed are kept (for the IDE)')
    t.equal(partial.complete, false)
    t.match(partial.incomplete, /^error: http response status code: 403/)
    const whole = await runner.run("SELECT id FROM stackql_test.util.rows WHERE count = '9'")
    t.equal(whole.complete, true)
    t.equal(whole.incomplete, undefined)
    const noise = await runner.run('SELECT * FROM stackql_test.util.noise')
    t.same(noise.rows, [])
    t.equal(noise.complete, true, 'unrecognised text with exit 0 is no error by itself (the writer decides)')
    t.equal(noise.message, 'level=warn msg="provider page 2 of 5 skipped"')
  },
)

t.test('finding 7 (IDE memory): outputBytes is the exact size of the JSON StackQL printed', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const result = await runner.run("SELECT id, name, region FROM stackql_test.util.rows WHERE count = '500'")
  t.equal(result.outputBytes, Buffer.byteLength(JSON.stringify(result.rows)))
})

t.test('finding 7 (IDE memory): a per-run output bound applies and names its own setting', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const err = await rejection(
    runner.run("SELECT * FROM stackql_test.util.rows WHERE count = '5000'", {
      maxOutputBytes: 64 * 1024,
      maxOutputSetting: 'IDE_MAX_OUTPUT_MB',
    }),
  )
  t.equal(err.code, 'STACKQL_OUTPUT_TOO_LARGE')
  t.match(err.message, /more than 65536 bytes.*raise IDE_MAX_OUTPUT_MB/)
  const within = await runner.run("SELECT id FROM stackql_test.util.rows WHERE count = '5'", {
    maxOutputBytes: 64 * 1024,
  })
  t.equal(within.rows.length, 5)
})

t.test(
  'finding 6 (redaction): stderr is redacted BEFORE the 64 KiB cut, so no prefix of a value survives',
  async (t) => {
    const { runner } = await pulledRunner(t, ['stackql_test'])
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    // 'error: ' + pad + 'key=' puts the cut at 64 KiB six characters into the value.
    const pad = 64 * 1024 - 'error: '.length - 'key='.length - 6
    const err = await rejection(
      runner.run(
        `SELECT * FROM stackql_test.util.echo WHERE name = 'AWS_SECRET_ACCESS_KEY' AND pad = '${pad}'`,
        {
          env: { AWS_SECRET_ACCESS_KEY: secret },
        },
      ),
    )
    t.equal(err.code, 'STACKQL_QUERY')
    t.ok(err.message.length <= 64 * 1024 + 1, 'still cut to 64 KiB')
    t.notMatch(err.message, /wJalr/, 'not even the beginning of the value')
    for (let k = 2; k < secret.length; k++)
      t.notOk(err.message.endsWith(secret.slice(0, k)), `no ${k}-char prefix`)
    const short = await rejection(
      runner.run("SELECT * FROM stackql_test.util.echo WHERE name = 'AWS_SECRET_ACCESS_KEY'", {
        env: { AWS_SECRET_ACCESS_KEY: secret },
      }),
    )
    t.equal(short.message, 'error: key=[redacted] rejected')
  },
)
