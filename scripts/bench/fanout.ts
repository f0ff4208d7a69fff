// Fan-out: the speed-up of running profile slices in parallel (SLICE_CONCURRENCY=8 vs 1, each slice
// a stand-in StackQL process with 500 ms of provider latency), and the runner's peak RSS for a big
// fan-out written with the per-slice rule. Usage: npx tsx scripts/bench/fanout.ts [--small] [--speed-only]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { NO_DELAY } from '../../src/db/connect.js'
import { writeInventory } from '../../src/db/inventory-writer.js'
import { applySchema } from '../../src/db/migrate.js'
import {
  executeSlices,
  removeSliceSpools,
  SLICE_LAUNCH_GAP_MS,
  unionSource,
} from '../../src/fanout/fanout-run.js'
import type { ProviderConfig } from '../../src/models.js'
import { clusterEnvName } from '../../src/profiles/cluster-env.js'
import { CredentialResolver } from '../../src/services/credentials.js'
import { QueryService } from '../../src/services/query-service.js'
import { pickBaseEnvironment, StackqlRunner } from '../../src/stackql/runner.js'
import { freshBenchDatabase } from './lib/support.js'

const STANDIN = fileURLToPath(new URL('../../test/standins/stackql/stackql.mjs', import.meta.url))
const small = process.argv.includes('--small')
const speedOnly = process.argv.includes('--speed-only')
const SPEED = { slices: small ? 8 : 32, rows: 2_000, latencyMs: 500 }
const MEMORY = { slices: small ? 8 : 64, rows: small ? 2_000 : 20_000 }

function service(dir: string, slices: number, latencyMs: number) {
  const profiles = Array.from({ length: slices }, (_, i) => `p${i}`)
  const mappings = profiles.map(
    (profile, i) =>
      ({
        id: i + 1,
        provider: 'stackql_test',
        profile,
        env_var_name: 'BENCH_TOKEN',
        secret_scope: 's',
        secret_key: profile,
        created_by: 'bench',
        created_at: new Date(),
      }) as ProviderConfig,
  )
  const env = Object.fromEntries(
    profiles.map((p) => [clusterEnvName('stackql_test', p, 'BENCH_TOKEN'), `t-${p}`]),
  )
  const runner = new StackqlRunner({
    binary: STANDIN,
    approot: join(dir, 'approot'),
    timeoutMs: 300_000,
    maxOutputBytes: 512 * 1024 * 1024,
    baseEnv: { ...pickBaseEnvironment(), STACKQL_STANDIN_LATENCY_MS: String(latencyMs) },
  })
  const queries = new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: (n) => env[n] }),
    loadProviderConfig: async () => mappings,
  })
  return { queries, slices: profiles.map((profile) => ({ provider: 'stackql_test', profile })) }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'))
const database = await freshBenchDatabase('bench_fanout')
const sql = postgres(database.url, { max: 2, onnotice: () => {}, ...NO_DELAY })
try {
  await applySchema(sql)
  const { queries, slices } = service(dir, SPEED.slices, SPEED.latencyMs)
  await queries.execute('REGISTRY PULL stackql_test', '')
  const text = `SELECT * FROM stackql_test.util.rows WHERE count = '${SPEED.rows}'`
  // Where the time goes: this process's CPU (spawning, parsing the JSON) and the stand-in
  // processes' CPU (reaped children, /proc/self/stat cutime+cstime) per run.
  const childrenCpuMs = () => {
    try {
      const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
      return ((Number(f[13]) + Number(f[14])) * 1000) / 100 // fields 16, 17 in clock ticks (USER_HZ 100)
    } catch {
      return Number.NaN
    }
  }
  const timed = async (concurrency: number, launchGapMs?: number) => {
    const cpu = process.cpuUsage()
    const children = childrenCpuMs()
    const started = performance.now()
    const results = await executeSlices(queries, text, slices, {
      concurrency,
      ...(launchGapMs === undefined ? {} : { launchGapMs }),
    })
    const wall = performance.now() - started
    const failed = results.filter((r) => r.status !== 'SUCCESS')
    if (failed.length) throw new Error(`${failed.length} slices failed: ${failed[0]!.error}`)
    const used = process.cpuUsage(cpu)
    return { wall, parentMs: (used.user + used.system) / 1000, childrenMs: childrenCpuMs() - children }
  }
  const serial = await timed(1)
  const parallel = await timed(8)
  const unspaced = await timed(8, 0)
  const [load] = loadavg()
  const perSlice = (ms: number) => Math.round(ms / SPEED.slices)
  console.log(
    `bench fanout: ${(serial.wall / parallel.wall).toFixed(2)}x (${SPEED.slices} slices x ${SPEED.rows} rows, ${SPEED.latencyMs} ms stand-in latency; SLICE_CONCURRENCY=1 ${Math.round(serial.wall)} ms, =8 ${Math.round(parallel.wall)} ms; target >= 6x; ideal ${SPEED.slices / Math.ceil(SPEED.slices / 8)}x)`,
  )
  console.log(
    `bench fanout-unspaced: ${(serial.wall / unspaced.wall).toFixed(2)}x (=8 with every slot's process launched at once, ${Math.round(unspaced.wall)} ms; the product spaces launches ${SLICE_LAUNCH_GAP_MS} ms apart)`,
  )
  console.log(
    `bench fanout-cpu: per slice ${perSlice(parallel.parentMs)} ms in the runner + ${perSlice(parallel.childrenMs)} ms in its StackQL process (=8; =1: ${perSlice(serial.parentMs)} + ${perSlice(serial.childrenMs)} ms) on ${cpus().length} cores, load average ${load!.toFixed(1)}`,
  )

  if (!speedOnly) await memory()
} finally {
  await sql.end()
  await database.drop()
  rmSync(dir, { recursive: true, force: true })
}

async function memory() {
  // Peak RSS of this process acting as the runner: execute every slice, union, write one table.
  const big = service(dir, MEMORY.slices, 0)
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 20)
  // As a scheduled run does (src/services/slice-run.ts): every slice spooled to a file, the union
  // read slice after slice by the writer.
  const results = await executeSlices(
    big.queries,
    `SELECT * FROM stackql_test.util.rows WHERE count = '${MEMORY.rows}'`,
    big.slices,
    { concurrency: 8, spool: true },
  )
  const data = unionSource(results)
  const written = await writeInventory(sql, { schema: 'stackql_inventory', table: 'bench_fanout' }, data)
  await removeSliceSpools(results)
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  console.log(
    `bench fanout-memory: ${Math.round(peak / 2 ** 20)} MB peak RSS (${MEMORY.slices} slices x ${MEMORY.rows} rows = ${written.rowCount} rows written; target < 400 MB)`,
  )
}
