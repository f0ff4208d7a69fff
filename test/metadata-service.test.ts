import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { MetadataCache } from '../src/db/metadata-cache.js'
import { MetadataService } from '../src/explorer/metadata-service.js'
import { testDb } from './helpers/db.js'
import { rejection } from './helpers/errors.js'
import { makeRunner, readLog, type Tap } from './helpers/stackql.js'

async function service(t: Tap, opts: { timeoutMs?: number } = {}) {
  const { db, sql } = await testDb(t)
  const made = makeRunner(t, {}, { logArgv: true })
  const metadata = new MetadataService({ runner: made.runner, cache: new MetadataCache(db), ...opts })
  const statements = () =>
    readLog(made.logFile)
      .filter((l) => l.argv)
      .map((l) => String(l.argv![1]))
  const faults = (f: object) => writeFileSync(join(made.approot, 'standin-faults.json'), JSON.stringify(f))
  return { metadata, db, sql, statements, faults, ...made }
}

t.test('lists installed and available providers; pulling one moves it to installed', async (t) => {
  const { metadata } = await service(t)
  const before = await metadata.listProviders()
  t.same(before.installed, [])
  t.ok(before.available.some((p) => p.name === 'aws' && p.version === 'v24.04.00227'))
  t.notOk(before.registryError)
  await metadata.pullProvider('aws')
  const after = await metadata.listProviders()
  t.same(after.installed, [{ name: 'aws', version: 'v24.04.00227' }])
})

t.test('services, resources, columns and methods come from the metadata statements', async (t) => {
  const { metadata, statements } = await service(t)
  await metadata.pullProvider('aws')
  const services = await metadata.listServices('aws')
  t.match(services.slice(0, 2), [
    { name: 'ec2', id: 'ec2:v24.04.00227', title: 'Amazon EC2' },
    { name: 'sts', id: 'sts:v24.04.00227', title: 'AWS STS' },
  ])
  t.ok(
    services.every((s) => s.id === `${s.name}:v24.04.00227` && typeof s.title === 'string'),
    'every service has its id and title (the registry data adds s3, iam, lambda, rds, ...)',
  )
  t.ok(services.some((s) => s.name === 's3'))
  t.same(await metadata.listResources('aws', 'ec2'), [
    { name: 'instances', id: 'aws.ec2.instances', title: '' },
  ])
  const columns = await metadata.describeResource('aws', 'ec2', 'instances')
  t.same(columns[0], {
    name: 'AmiLaunchIndex',
    type: 'integer',
    description: 'The AMI launch index, which can be used to find this instance in the launch group.',
  })
  t.ok(columns.some((c) => c.name === 'InstanceId' && c.description === 'The ID of the instance.'))
  t.ok(columns.some((c) => c.name === 'region'))
  const methods = await metadata.showMethods('aws', 'ec2', 'instances')
  t.same(methods[0], { name: 'describe_instances', requiredParams: ['region'], sqlVerb: 'SELECT' })
  t.ok(statements().includes('DESCRIBE EXTENDED aws.ec2.instances'))
  t.ok(statements().includes('SHOW METHODS IN aws.ec2.instances'))
})

t.test('a second open answers from the cache without running StackQL again', async (t) => {
  const { metadata, statements } = await service(t)
  await metadata.describeResource('aws', 'ec2', 'instances')
  const runs = statements().length
  await metadata.describeResource('aws', 'ec2', 'instances')
  t.equal(statements().length, runs, 'no new stackql process')
})

t.test('the database cache is shared: another service instance reads it without StackQL', async (t) => {
  const { db, runner, statements } = await service(t)
  const first = new MetadataService({ runner, cache: new MetadataCache(db) })
  await first.describeResource('aws', 'ec2', 'instances')
  const second = new MetadataService({ runner, cache: new MetadataCache(db) })
  const before = statements().filter((s) => s?.startsWith('DESCRIBE')).length
  const cols = await second.describeResource('aws', 'ec2', 'instances')
  t.ok(cols.length > 0)
  t.equal(statements().filter((s) => s?.startsWith('DESCRIBE')).length, before, 'no second DESCRIBE')
})

t.test('names are validated before they reach a statement', async (t) => {
  const { metadata, statements } = await service(t)
  for (const bad of [
    () => metadata.listServices('aws; DROP'),
    () => metadata.listResources('aws', "ec2' OR 1"),
    () => metadata.describeResource('aws', 'ec2', 'inst ances'),
    () => metadata.pullProvider('AWS'),
  ]) {
    t.equal((await rejection(bad())).code, 'VALIDATION')
  }
  t.same(statements(), [], 'nothing ran')
})

t.test('an unreachable registry is reported, and installed providers are still listed', async (t) => {
  const { metadata, faults } = await service(t)
  await metadata.pullProvider('github')
  faults({ registry: 'unreachable' })
  const list = await metadata.listProviders()
  t.same(
    list.installed.map((p) => p.name),
    ['github'],
  )
  t.same(list.available, [])
  t.match(list.registryError, /could not be reached.*no such host/)
  const err = await rejection(metadata.pullProvider('aws'))
  t.equal(err.code, 'STACKQL_QUERY')
  t.match(err.message, /Could not pull the provider "aws": the provider registry could not be reached/)
})

t.test('a hanging metadata statement times out and other lookups keep working', async (t) => {
  const { metadata, faults } = await service(t, { timeoutMs: 1500 })
  await metadata.pullProvider('aws')
  faults({ hang: ['DESCRIBE EXTENDED aws.ec2.instances'] })
  const err = await rejection(metadata.describeResource('aws', 'ec2', 'instances'))
  t.equal(err.code, 'STACKQL_TIMEOUT')
  t.same((await metadata.showMethods('aws', 'ec2', 'instances'))[0]?.name, 'describe_instances')
  faults({})
  t.ok((await metadata.describeResource('aws', 'ec2', 'instances')).length > 0, 'a failure is not cached')
})
