// The starter library: every file parses, names real registry columns, and runs on the stand-in.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { assertPlaceholdersInCode, findPlaceholders, substituteVariables } from '../src/profiles/variables.js'
import { loadStarterLibrary, parseStarter } from '../src/starter/library.js'
import { pulledRunner } from './helpers/stackql.js'

const REGISTRY = fileURLToPath(new URL('./standins/stackql/registry/', import.meta.url))
interface RegistryDoc {
  provider: string
  version: string
  services: Record<
    string,
    // `version`: a resource read from the provider's docs (its registry file was not in the snapshot).
    { resources: Record<string, { required: string[]; columns: string[][]; version?: string }> }
  >
}
const registry = new Map<string, RegistryDoc>(
  readdirSync(REGISTRY).map((f) => {
    const doc = JSON.parse(readFileSync(join(REGISTRY, f), 'utf8')) as RegistryDoc
    return [doc.provider, doc]
  }),
)
// What a profile supplies (Providers page variables): plain values, lists comma-separated.
const VARIABLES: Record<string, string> = {
  regions: 'us-east-1, eu-west-1',
  region: 'us-east-1',
  security_group_ids: 'sg-0a1b2c3d, sg-0e4f5a6b',
  project: 'stackql-demo',
  zone: 'us-east1-b',
  subscription_id: '00000000-0000-4000-8000-000000000000',
  org: 'stackql',
  owner: 'stackql',
  repo: 'stackql',
  branch: 'main',
  account_id: 'acc-0001',
  deployment_name: 'dbc-12345678-9abc',
}
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIASTARTER',
  AWS_SECRET_ACCESS_KEY: 'starter-secret',
  GOOGLE_CREDENTIALS: '{"type":"service_account"}',
  AZURE_TENANT_ID: 't',
  AZURE_CLIENT_ID: 'c',
  AZURE_CLIENT_SECRET: 's',
}

const library = loadStarterLibrary()

t.test('the library has 20-30 queries covering aws, google, azure, github and databricks', async (t) => {
  t.ok(library.length >= 20 && library.length <= 30, `${library.length} queries`)
  t.same([...new Set(library.map((q) => q.group))].sort(), ['aws', 'azure', 'databricks', 'github', 'google'])
})

t.test(
  'every starter names a registry resource and only its columns, at the version its file states',
  async (t) => {
    for (const q of library) {
      const [provider = '', service = '', resource = ''] = q.resource.split('.')
      const doc = registry.get(provider)
      const def = doc?.services[service]?.resources[resource]
      if (!doc || !def) {
        t.fail(`${q.id}: ${q.resource} is not in test/standins/stackql/registry`)
        continue
      }
      t.equal(
        q.providerVersion,
        def.version ?? doc.version,
        `${q.id} states the version its columns were read from`,
      )
      const columns = new Set(def.columns.map((c) => c[0]))
      const selectList = /^select\s+([\s\S]*?)\s+from\s/i.exec(q.statement)?.[1] ?? ''
      const selected = selectList.split(',').map((c) => c.trim())
      t.same(
        selected.filter((c) => !columns.has(c)),
        [],
        `${q.id}: every selected column is a field of ${q.resource}`,
      )
      for (const p of def.required) {
        t.match(q.statement, new RegExp(`\\b${p}\\s*(=|IN)`, 'i'), `${q.id} sets required parameter ${p}`)
      }
    }
  },
)

/** The statement as a run sends it: the production check and substitution with VARIABLES. */
function filled(statement: string): string {
  const placeholders = findPlaceholders(statement)
  assertPlaceholdersInCode(statement, placeholders)
  const values = new Map(Object.entries(VARIABLES).map(([k, value]) => [k, { value, from: 'test/default' }]))
  return substituteVariables(statement, placeholders, { values, profiles: ['test/default'] })
}

t.test('every starter query runs on the stand-in with its variables filled and returns rows', async (t) => {
  const providers = [...new Set(library.map((q) => q.provider))]
  const { runner } = await pulledRunner(t, providers)
  for (const q of library) {
    const result = await runner.run(filled(q.statement), { env: CREDENTIALS })
    t.ok(
      result.rows.length > 0 || q.id === 'github/org_public_repos_archived',
      `${q.id} returned ${result.rows.length} rows`,
    )
    if (result.rows.length)
      t.ok(
        q.keys.every((k) => result.columns.includes(k)),
        `${q.id}: key columns are in the result`,
      )
  }
})

t.test(
  'a starter file without front matter or with an undeclared variable is refused with the file named',
  async (t) => {
    t.throws(
      () => parseStarter('aws/x', 'SELECT 1'),
      /starter\/aws\/x\.sql: must start with a front matter block/,
    )
    const head = (vars: string) =>
      `-- ---\n-- name: n\n-- description: d\n-- provider: aws\n-- provider_version: v\n-- resource: aws.s3.buckets\n-- cron: 0 6 * * *\n-- table: t\n-- keys: k\n${vars}-- ---\n`
    t.throws(
      () => parseStarter('aws/y', `${head('')}SELECT a FROM aws.s3.buckets WHERE region = '{{ region }}'`),
      /not declared in "variables": region/,
    )
    t.throws(
      () => parseStarter('aws/z', `${head('-- variables: regions\n')}SELECT a FROM aws.s3.buckets`),
      /not used by the statement: regions/,
    )
    t.throws(() => parseStarter('aws/w', `${head('')}DELETE FROM aws.s3.buckets`), /must be a SELECT/)
    t.throws(
      () =>
        parseStarter(
          'aws/q',
          `${head('-- variables: region\n')}SELECT a FROM aws.s3.buckets WHERE region = '{{ region }}'`,
        ),
      /starter\/aws\/q\.sql: .*inside a string literal/,
    )
    t.equal(
      parseStarter(
        'aws/v',
        `${head('-- variables: region\n')}SELECT a FROM aws.s3.buckets WHERE region = {{ region }}`,
      ).table,
      't',
    )
  },
)

t.test(
  'starter placeholders are filled by the profile substitution: unquoted, each value quoted once',
  async (t) => {
    for (const q of library)
      t.doesNotThrow(() => filled(q.statement), `${q.id} is filled the way a run fills it`)
    t.throws(
      () =>
        assertPlaceholdersInCode(
          "WHERE region = '{{ region }}'",
          findPlaceholders("WHERE region = '{{ region }}'"),
        ),
      /inside a string literal/,
    )
    t.equal(filled('WHERE region IN ({{ regions }})'), "WHERE region IN ('us-east-1', 'eu-west-1')")
  },
)
