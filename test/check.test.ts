import t from 'tap'
import { MetadataCache } from '../src/db/metadata-cache.js'
import { MetadataService } from '../src/explorer/metadata-service.js'
import { testDb } from './helpers/db.js'
import { makeRunner, readLog } from './helpers/stackql.js'

const { db } = await testDb(t)
const made = makeRunner(t, {}, { logArgv: true })
await made.runner.run('REGISTRY PULL aws')
await made.runner.run('REGISTRY PULL google')
const metadata = new MetadataService({ runner: made.runner, cache: new MetadataCache(db) })
const check = (text: string) => metadata.checkStatement(text)

t.test('a correct query passes', async (t) => {
  t.same(await check("SELECT instance_id, state FROM aws.ec2.instances WHERE region = 'us-east-1'"), [])
  t.same(await check("select i.instance_id from aws.ec2.instances AS i where i.region IN ('a', 'b')"), [])
  t.same(await check("SELECT name FROM google.compute.instances WHERE project = 'p' AND zone = 'z'"), [])
})

t.test('an unknown column names the closest real one, at its offsets', async (t) => {
  const text = "SELECT instance_id, instance_typ FROM aws.ec2.instances WHERE region = 'us-east-1'"
  const [w, ...rest] = await check(text)
  t.same(rest, [])
  t.equal(w?.kind, 'unknown_column')
  t.equal(text.slice(w!.start, w!.end), 'instance_typ')
  t.same(w?.suggestions, ['instance_type', 'InstanceType'])
  t.match(w?.message, /did you mean "instance_type" or "InstanceType"\?/)
})

t.test(
  'WHERE columns are checked too; strings, comments, functions and aliases are not columns',
  async (t) => {
    const text =
      "SELECT COUNT(*) AS n, 'stat' AS label /* satte */ FROM aws.ec2.instances WHERE region = 'r' AND satte = 'running'"
    const ws = await check(text)
    t.equal(ws.length, 1)
    t.equal(text.slice(ws[0]!.start, ws[0]!.end), 'satte')
    t.same(ws[0]!.suggestions, ['state', 'State'])
  },
)

t.test('a missing required parameter names it and the method needing it', async (t) => {
  const text = "SELECT name FROM google.compute.instances WHERE zone = 'z'"
  const [w] = await check(text)
  t.equal(w?.kind, 'missing_parameter')
  t.match(w?.message, /needs "project" in WHERE \(required by the list method\)/)
  t.equal(text.slice(w!.start, w!.end), 'google.compute.instances')
  const both = await check('SELECT name FROM google.compute.instances')
  t.match(both[0]?.message, /"project" and "zone"/)
})

t.test('unknown resources and services suggest the real names', async (t) => {
  const [r] = await check("SELECT * FROM aws.ec2.instance WHERE region = 'r'")
  t.equal(r?.kind, 'unknown_resource')
  t.match(r?.message, /aws\.ec2 has no resource "instance" — did you mean "instances"\?/)
  const [s] = await check("SELECT * FROM aws.ecc2.instances WHERE region = 'r'")
  t.match(s?.message, /aws has no service "ecc2" — did you mean "ec2"\?/)
})

t.test('a provider that is not installed is reported unchecked, and nothing is pulled', async (t) => {
  const before = readLog(made.logFile).length
  const [w] = await check("SELECT id FROM github.repos.repos WHERE org = 'x'")
  t.equal(w?.kind, 'unchecked')
  t.match(w?.message, /"github" is not installed/)
  t.notOk(
    readLog(made.logFile)
      .slice(before)
      .some((l) => l.argv?.[1]?.startsWith('REGISTRY PULL')),
    'no pull for a check',
  )
})

t.test('the check runs metadata statements only, never the query', async (t) => {
  const before = readLog(made.logFile).length
  await check("SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'")
  const ran = readLog(made.logFile)
    .slice(before)
    .map((l) => String(l.argv?.[1]))
  t.notOk(
    ran.some((s) => /^SELECT/i.test(s)),
    `ran only: ${ran.join(' | ') || 'nothing (cached)'}`,
  )
})

t.test(
  'statements that are not a SELECT, or input the tokenizer refuses, are not silently passed',
  async (t) => {
    t.same(await check('SHOW SERVICES IN aws'), [])
    const [w] = await check('SELECT /*! 1 */ x FROM aws.ec2.instances')
    t.equal(w?.kind, 'unchecked')
  },
)
