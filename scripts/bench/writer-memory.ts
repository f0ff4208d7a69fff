// Benchmark: the runner's memory does not grow with the result. The built runner (dist bundle, plain
// node, as a job runs it) writes a keyed snapshot of N stand-in rows, twice (a baseline, then a run
// compared with it); its peak RSS (VmHWM) is sampled from /proc while it runs. Prints:
//   bench writer-memory: <MB> MB at 1000000 rows, <MB> MB at 100000 rows (target < 250 MB at 1M)
// Usage: npx tsx scripts/bench/writer-memory.ts [--small]
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { NO_DELAY } from '../../src/db/connect.js'
import { applySchema } from '../../src/db/migrate.js'
import { RUNNER_NODE_FLAGS } from '../../src/paths.js'
import { freshBenchDatabase } from './lib/support.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const STANDIN = join(ROOT, 'test/standins/stackql/stackql.mjs')
const SIZES = process.argv.includes('--small') ? [20_000, 100_000] : [100_000, 1_000_000]

/** Peak resident memory of a running process, in bytes (0 once it is gone). */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

async function runOnce(bundle: string, env: Record<string, string>, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...RUNNER_NODE_FLAGS, bundle, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid!))
  }, 25)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearInterval(sampler)
  if (code !== 0) throw new Error(`the runner exited with ${code}: ${stderr.slice(0, 500)}`)
  return peak
}

const work = mkdtempSync(join(tmpdir(), 'bench-writer-memory-'))
const database = await freshBenchDatabase('bench_writer_memory')
const sql = postgres(database.url, { max: 2, onnotice: () => {}, ...NO_DELAY })
try {
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outdir', work], {
    cwd: ROOT,
  })
  await applySchema(sql)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    DATABASE_URL: database.url,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: join(work, 'stackql'),
    STACKQL_MAX_OUTPUT_MB: '2048',
    STACKQL_QUERY_TIMEOUT_S: '3600',
    TMPDIR: work,
    LOG_LEVEL: 'warn',
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  }
  const peaks: string[] = []
  for (const n of [...SIZES].reverse()) {
    const [q] = await sql<{ id: string }[]>`
      insert into stackql_app.queries (name, query_text, provider, created_by)
      values (${`rows ${n}`}, ${`SELECT * FROM stackql_test.util.rows WHERE count = '${n}'`}, 'stackql_test', 'bench')
      returning id::text`
    const [s] = await sql<{ id: string }[]>`
      insert into stackql_app.schedules (query_id, cron_expression, target_schema, target_table, key_columns)
      values (${q!.id}::bigint, '0 6 * * *', 'stackql_inventory', ${`mem_${n}`}, array['id'])
      returning id::text`
    const args = ['--query-id', q!.id, '--schedule-id', s!.id, '--target-schema', 'stackql_inventory']
    const first = await runOnce(join(work, 'run-query.mjs'), env, [...args, '--target-table', `mem_${n}`])
    const second = await runOnce(join(work, 'run-query.mjs'), env, [...args, '--target-table', `mem_${n}`])
    const [{ rows }] =
      (await sql`select count(*)::int as rows from ${sql('stackql_inventory')}.${sql(`mem_${n}`)}`) as unknown as [
        { rows: number },
      ]
    if (rows !== n) throw new Error(`mem_${n} holds ${rows} rows, not ${n}`)
    peaks.push(`${Math.round(Math.max(first, second) / 2 ** 20)} MB at ${n} rows`)
  }
  console.log(
    `bench writer-memory: ${peaks.join(', ')} (peak RSS of the built runner, baseline + compared run; target < 250 MB at 1,000,000 rows)`,
  )
} finally {
  await sql.end()
  await database.drop()
  rmSync(work, { recursive: true, force: true })
}
