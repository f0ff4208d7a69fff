// Benchmark: the inventory writer (type inference + REPLACE in one transaction + COPY) against a raw
// `COPY FROM STDIN` of the same rows into a bare table on the same server. Prints one line:
//   bench writer-vs-copy: <ratio>x (writer <ms> ms, raw COPY <ms> ms, rows N)
// ratio = raw time / writer time (throughput relative to raw COPY; target >= 0.7). The writer replaces
// a snapshot (DELETE + COPY in one transaction) in the steady state of a schedule: the table was
// vacuumed since the previous run, as autovacuum does between runs.
// Database: TEST_DATABASE_URL (set by npm run bench), else a throw-away embedded PostgreSQL.
// Usage: npx tsx scripts/bench/writer.ts [--small]
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import postgres from 'postgres'
import { NO_DELAY } from '../../src/db/connect.js'
import { writeInventory } from '../../src/db/inventory-writer.js'
import { applySchema } from '../../src/db/migrate.js'
import type { Row } from '../../src/models.js'
import { freshBenchDatabase, median } from './lib/support.js'

const ROWS = process.argv.includes('--small') ? 20_000 : 200_000
const REPEAT = 5

/** Rows shaped like a StackQL EC2 inventory: numbers as strings, ISO timestamps, a JSON column. */
function rows(n: number, seed: number): Row[] {
  const out: Row[] = []
  for (let i = 0; i < n; i++) {
    out.push({
      instance_id: `i-${(i * 7919 + seed).toString(16).padStart(17, '0')}`,
      instance_type: i % 3 ? 't3.micro' : 'm5.large',
      region: i % 2 ? 'us-east-1' : 'eu-west-1',
      cpu_count: String((i % 8) + 1),
      memory_gib: String(((i % 16) + 1) * 0.5),
      ebs_optimized: i % 2 ? 'true' : 'false',
      launch_time: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
      private_ip_address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      tags: { Name: `web-${i}`, env: i % 2 ? 'prod' : 'dev' },
    })
  }
  return out
}

const escapeText = (s: string) =>
  s.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)

async function rawCopy(sql: postgres.Sql, data: Row[], columns: string[]): Promise<number> {
  await sql`drop table if exists bench_raw`
  await sql`create table bench_raw (instance_id text, instance_type text, region text, cpu_count bigint,
    memory_gib double precision, ebs_optimized boolean, launch_time timestamptz, private_ip_address text, tags jsonb)`
  const started = performance.now()
  function* lines() {
    let chunk = ''
    let n = 0
    for (const row of data) {
      chunk += `${columns
        .map((c) => {
          const v = row[c]
          return v === null || v === undefined
            ? '\\N'
            : escapeText(typeof v === 'object' ? JSON.stringify(v) : String(v))
        })
        .join('\t')}\n`
      if (++n % 2000 === 0) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk) yield chunk
  }
  const copy = await sql`copy bench_raw (${sql(columns)}) from stdin`.writable()
  await pipeline(Readable.from(lines()), copy)
  return performance.now() - started
}

const database = await freshBenchDatabase('bench_writer')
const sql = postgres(database.url, { max: 2, onnotice: () => {}, ...NO_DELAY })
try {
  await applySchema(sql) // the writer keeps each table's column mapping in stackql_app
  const first = rows(ROWS, 1)
  const second = rows(ROWS, 2)
  const columns = Object.keys(first[0]!)
  // The writer replaces an existing snapshot (the steady state of a schedule).
  await writeInventory(sql, { schema: 'stackql_inventory', table: 'bench' }, { columns, rows: first })
  const raw: number[] = []
  const writer: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    raw.push(await rawCopy(sql, i % 2 ? first : second, columns))
    const started = performance.now()
    await writeInventory(
      sql,
      { schema: 'stackql_inventory', table: 'bench' },
      { columns, rows: i % 2 ? first : second },
    )
    writer.push(performance.now() - started)
    // Scheduled runs are at least a minute apart, time enough for autovacuum to reclaim the replaced
    // snapshot's dead rows; back-to-back writes here would otherwise scan a table growing by one
    // snapshot per iteration. Outside the timed part, as autovacuum works outside the run.
    await sql`vacuum stackql_inventory.bench`
  }
  const w = median(writer)
  const r = median(raw)
  console.log(
    `bench writer-vs-copy: ${(r / w).toFixed(2)}x (writer ${Math.round(w)} ms, raw COPY ${Math.round(r)} ms, rows ${ROWS})`,
  )
} finally {
  await sql.end()
  await database.drop()
}
