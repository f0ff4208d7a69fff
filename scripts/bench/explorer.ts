// Benchmark: the Explorer's metadata cache. Opens every level of the tree (services, a page of a
// 5,000-resource service, a resource's columns + methods) once cold (StackQL runs), then again
// (this process's cache), and in a second app on the same database (the shared table, no StackQL);
// and filters the 5,000 resources by name/title. Server time = app.inject round trip (in process).
// Production mode (templates cached). Prints:
//   bench explorer: <ratio>x (second open p50 <ms> ms vs first open <ms> ms; other instance <ms> ms;
//   5,000-resource filter p50 <ms> ms)   (targets: second open < 50 ms, filter < 100 ms)
// `--small`: fewer repetitions (CI smoke). Usage: npx tsx scripts/bench/explorer.ts [--small]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../plugins/app.js'
import { loadConfig } from '../../src/config.js'
import { STANDIN } from '../../test/helpers/stackql.js'
import { freshBenchDatabase, median } from './lib/support.js'

const SMALL = process.argv.includes('--small')
const REPEAT = SMALL ? 5 : 30
const NODES = [
  '/explorer/p/stackql_bulk',
  '/explorer/p/stackql_bulk/s/many',
  '/explorer/p/stackql_bulk/s/many/r/queues_0006',
  '/explorer/p/aws/s/ec2/r/instances',
]

async function open(app: FastifyInstance, url: string): Promise<number> {
  const t0 = performance.now()
  const res = await app.inject({ method: 'GET', url, headers: { 'hx-request': 'true' } })
  const ms = performance.now() - t0
  if (res.statusCode !== 200 || res.body.includes('tree-error')) {
    throw new Error(`${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  }
  return ms
}

async function main(): Promise<void> {
  const database = await freshBenchDatabase('bench_explorer')
  const downloadDir = mkdtempSync(join(tmpdir(), 'bench-explorer-'))
  const make = () =>
    buildApp(
      loadConfig({
        DATABASE_URL: database.url,
        LOG_LEVEL: 'silent',
        STACKQL_LOCAL_DEV: 'true',
        STACKQL_BIN: STANDIN,
        STACKQL_DOWNLOAD_DIR: downloadDir,
        NODE_ENV: 'production', // templates compiled once, as deployed
      }),
      { logger: false },
    )
  const app = await make()
  const other = await make()
  try {
    await app.metadata.pullProvider('stackql_bulk')
    await app.metadata.pullProvider('aws')
    await app.metadata.listProviders() // the installed versions, as the tab's first view reads them
    await other.metadata.listProviders()
    const first: number[] = []
    for (const url of NODES) first.push(await open(app, url))
    const second: number[] = []
    for (let i = 0; i < REPEAT; i++) for (const url of NODES) second.push(await open(app, url))
    // A second app instance: its memory is empty, the database has every node. Its templates and
    // routes are warmed on other nodes first (not measured), so only the cache read is timed.
    for (const url of [
      '/explorer/p/aws',
      '/explorer/p/aws/s/sts',
      '/explorer/p/aws/s/sts/r/caller_identity',
    ]) {
      await open(other, url)
    }
    const fromDb: number[] = []
    for (const url of NODES) fromDb.push(await open(other, url))
    const filter: number[] = []
    await open(app, '/explorer/p/stackql_bulk/search?q=warm')
    for (let i = 0; i < REPEAT; i++)
      filter.push(await open(app, `/explorer/p/stackql_bulk/search?q=number%20${i}9`))
    const p50 = median(second)
    const cold = median(first)
    const db = Math.max(...fromDb)
    if (process.env.BENCH_VERBOSE) console.log({ first, fromDb, second: second.slice(0, 8) })
    const f50 = median(filter)
    console.log(
      `bench explorer: ${(p50 / cold).toFixed(3)}x (second open p50 ${p50.toFixed(1)} ms, max ${Math.max(...second).toFixed(1)} ms vs first open ${cold.toFixed(0)} ms; other instance from the database, slowest node ${db.toFixed(1)} ms; 5,000-resource filter p50 ${f50.toFixed(1)} ms)   (targets: second open < 50 ms, filter < 100 ms)`,
    )
    if (!SMALL && (p50 >= 50 || db >= 50 || f50 >= 100)) process.exitCode = 1
  } finally {
    await app.close()
    await other.close()
    await database.drop()
    rmSync(downloadDir, { recursive: true, force: true })
  }
}

await main()
