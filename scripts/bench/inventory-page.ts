// Benchmark: server time of GET /inventory with many large inventory tables. The page must read the
// row counts the writer recorded (stackql_app.runs), never COUNT(*) over every table. Prints:
//   bench inventory-page-200-tables: <median> ms server time (tables 200, rows/table 100000, target < 300 ms)
// Server time = app.inject round trip (routing, DB reads, rendering; no network), median of the
// measured requests after a warm-up. `--small`: 20 tables x 10k rows (CI smoke size).
// Database: TEST_DATABASE_URL (set by npm run bench), else a throw-away embedded PostgreSQL.
// Usage: npx tsx scripts/bench/inventory-page.ts [--small]
import { buildApp } from '../../plugins/app.js'
import { loadConfig } from '../../src/config.js'
import { freshBenchDatabase, median } from './lib/support.js'

const SMALL = process.argv.includes('--small')
const TABLES = SMALL ? 20 : 200
const ROWS = SMALL ? 10_000 : 100_000
const WARMUP = 5
const MEASURED = SMALL ? 15 : 30
const TARGET_MS = 300
const SCHEMA = 'stackql_inventory'

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

async function main(): Promise<number> {
  const database = await freshBenchDatabase('bench_inventory')
  const app = await buildApp(
    loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', STACKQL_LOCAL_DEV: 'true' }),
    { logger: false },
  )
  try {
    await app.ready()
    await app.db.ping() // applies the schema
    const sql = app.db.sql
    const names = Array.from({ length: TABLES }, (_, i) => `bench_table_${String(i).padStart(3, '0')}`)
    const started = performance.now()
    await inParallel(names, 4, async (name) => {
      await sql`create table ${sql(SCHEMA)}.${sql(name)} as
        select g as id, 'resource-' || g as name, g % 7 = 0 as flagged from generate_series(1, ${ROWS}::int) g`
      // Every tenth table has a dashboard view, as a real inventory would.
      if (name.endsWith('0')) {
        await sql`create materialized view ${sql(SCHEMA)}.${sql(`${name}_mv`)} as
          select flagged, count(*) as n from ${sql(SCHEMA)}.${sql(name)} group by flagged`
      }
      const run = await app.db.startRun({ query_id: null, target_schema: SCHEMA, target_table: name })
      await app.db.finishRun(run.id, { status: 'SUCCESS', row_count: ROWS })
    })
    const setupS = ((performance.now() - started) / 1000).toFixed(1)

    const request = async () => {
      const t0 = performance.now()
      const res = await app.inject({ method: 'GET', url: '/inventory', headers: { accept: 'text/html' } })
      const ms = performance.now() - t0
      if (res.statusCode !== 200)
        throw new Error(`GET /inventory answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
      const listed = res.body.match(/<tr id="inventory-row-/g)?.length ?? 0
      if (listed !== TABLES) throw new Error(`GET /inventory listed ${listed} tables, expected ${TABLES}`)
      return ms
    }
    for (let i = 0; i < WARMUP; i++) await request()
    const times: number[] = []
    for (let i = 0; i < MEASURED; i++) times.push(await request())
    const med = median(times)
    console.log(
      `bench inventory-page-${TABLES}-tables: ${med.toFixed(1)} ms server time (tables ${TABLES}, rows/table ${ROWS}, target < ${TARGET_MS} ms)`,
    )
    console.log(
      `  min ${Math.min(...times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms over ${MEASURED} requests; setup ${setupS} s`,
    )
    if (med >= TARGET_MS) console.log(`  ABOVE TARGET: ${med.toFixed(1)} ms >= ${TARGET_MS} ms`)
    return 0
  } finally {
    await app.close()
    await database.drop()
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`bench inventory-page failed: ${(e as Error).message}`)
    process.exit(1)
  },
)
