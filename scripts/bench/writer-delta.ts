// Benchmark: the delta write (history) — a keyed run that changed 1% of a 200k-row table (0.5% modified,
// 0.25% added, 0.25% removed) against a raw `COPY FROM STDIN` of all rows into a new table; also 100%
// churn, and the change records written per second. Prints:
//   bench writer-delta: <ratio>x (delta 1% <ms> ms, raw COPY <ms> ms, rows N; 100% churn <ratio>x <ms> ms,
//   without change records <ratio>x <ms> ms; <n> change records/s; records alone <ratio>x <ms> ms)
// ratio = raw time / delta time (target >= 1.5 at 1%). "records alone" is a floor for 100% churn: a
// COPY of the 200k change records that run writes, prepared in advance, into inventory_changes — what
// writing them costs before anything is compared or the snapshot written.
// Usage: npx tsx scripts/bench/writer-delta.ts [--small]
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

function row(i: number, seed: number): Row {
  return {
    instance_id: `i-${i.toString(16).padStart(17, '0')}`,
    instance_type: (i + seed) % 3 ? 't3.micro' : 'm5.large',
    region: i % 2 ? 'us-east-1' : 'eu-west-1',
    cpu_count: String((i % 8) + 1),
    launch_time: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    tags: { Name: `web-${i}`, env: i % 2 ? 'prod' : 'dev' },
  }
}
const base = (n: number) => Array.from({ length: n }, (_, i) => row(i, 0))

/** 1% churn: every 200th row modified, every 400th removed, as many new rows added. */
function churned(n: number, round: number): Row[] {
  const out: Row[] = []
  for (let i = 0; i < n; i++) {
    if (i % 400 === 1) continue
    out.push(i % 200 === 0 ? { ...row(i, 0), instance_type: `x${round}` } : row(i, 0))
  }
  for (let j = 0; j < n / 400; j++) out.push(row(n * (round + 1) + j, 0))
  return out
}

async function rawCopy(sql: postgres.Sql, data: Row[], columns: string[]): Promise<number> {
  await sql`drop table if exists bench_raw`
  await sql`create table bench_raw (instance_id text, instance_type text, region text, cpu_count bigint,
    launch_time timestamptz, tags jsonb)`
  const started = performance.now()
  const lines = function* () {
    let chunk = ''
    for (const [n, r] of data.entries()) {
      chunk += `${columns.map((c) => (typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]))).join('\t')}\n`
      if (n % 2000 === 1999) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk) yield chunk
  }
  await pipeline(Readable.from(lines()), await sql`copy bench_raw (${sql(columns)}) from stdin`.writable())
  return performance.now() - started
}

const RECORD_COLUMNS = [
  'run_id',
  'target_schema',
  'target_table',
  'change_kind',
  'row_key',
  'changed_columns',
  'before',
  'after',
]
const escapeText = (s: string) =>
  s.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)

/** COPY of one modified record per row (the whole row before and after, as the writer records them). */
async function copyRecords(sql: postgres.Sql, n: number, runId: number): Promise<number> {
  const started = performance.now()
  const lines = function* () {
    let chunk = ''
    for (let i = 0; i < n; i++) {
      const before = row(i, 0)
      const after = { ...before, instance_type: `floor-${i}` }
      const key = JSON.stringify({ instance_id: before.instance_id })
      chunk += `${[runId, 'stackql_inventory', 'bench_floor', 'modified', key, '{instance_type}', JSON.stringify(before), JSON.stringify(after)].map((v) => escapeText(String(v))).join('\t')}\n`
      if (i % 2000 === 1999) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk) yield chunk
  }
  const into = sql`copy stackql_app.inventory_changes (${sql(RECORD_COLUMNS)}) from stdin`
  await pipeline(Readable.from(lines()), await into.writable())
  return performance.now() - started
}

const database = await freshBenchDatabase('bench_writer_delta')
const sql = postgres(database.url, { max: 2, onnotice: () => {}, ...NO_DELAY })
try {
  await applySchema(sql)
  const target = { schema: 'stackql_inventory', table: 'bench_delta' }
  const columns = Object.keys(row(0, 0))
  const keys = ['instance_id']
  await writeInventory(sql, target, { columns, rows: base(ROWS) }, { keys })
  const raw: number[] = []
  const delta: number[] = []
  let records = 0
  let recordMs = 0
  for (let i = 0; i < REPEAT; i++) {
    raw.push(await rawCopy(sql, base(ROWS), columns))
    await sql`vacuum stackql_inventory.bench_delta`
    const data = churned(ROWS, i)
    const started = performance.now()
    const w = await writeInventory(
      sql,
      target,
      { columns, rows: data },
      { keys, record: { runId: i + 1, scheduleId: null } },
    )
    const ms = performance.now() - started
    delta.push(ms)
    records += w.changes!.added + w.changes!.removed + w.changes!.modified
    recordMs += ms
    await writeInventory(sql, target, { columns, rows: base(ROWS) }, { keys })
  }
  await sql`vacuum stackql_inventory.bench_delta`
  const full = base(ROWS).map((r, i) => ({ ...r, instance_type: `churn-${i}` }))
  const startedFull = performance.now()
  await writeInventory(
    sql,
    target,
    { columns, rows: full },
    { keys, record: { runId: 99, scheduleId: null } },
  )
  const fullMs = performance.now() - startedFull
  // The same churn again without change records: what writing the records costs of it.
  await sql`vacuum stackql_inventory.bench_delta`
  const again = base(ROWS).map((r, i) => ({ ...r, instance_type: `again-${i}` }))
  const startedBare = performance.now()
  await writeInventory(sql, target, { columns, rows: again }, { keys })
  const bareMs = performance.now() - startedBare
  await sql`vacuum stackql_app.inventory_changes`
  const floorMs = await copyRecords(sql, ROWS, 100)
  const r = median(raw)
  const d = median(delta)
  console.log(
    `bench writer-delta: ${(r / d).toFixed(2)}x (delta 1% ${Math.round(d)} ms, raw COPY ${Math.round(r)} ms, rows ${ROWS}; 100% churn ${(r / fullMs).toFixed(2)}x ${Math.round(fullMs)} ms, without change records ${(r / bareMs).toFixed(2)}x ${Math.round(bareMs)} ms; ${Math.round(records / (recordMs / 1000))} change records/s; records alone ${(r / floorMs).toFixed(2)}x ${Math.round(floorMs)} ms)`,
  )
} finally {
  await sql.end()
  await database.drop()
}
