// The pages read a long run history by index: the Inventory page's last successful run of each table
// and the Schedules page's newest runs of each schedule must not scan every run (with 100 tables and
// 100k runs the Inventory page took 2.1 s, then 13 ms). Checked on the plans PostgreSQL chooses for
// the queries the pages run, over a history big enough for the planner to care, and on the answers.
import t from 'tap'
import { formatTime } from '../plugins/schedules/rows.js'
import { inventoryTablesQuery, recentRunsQuery } from '../src/db/runs-inventory.js'
import { testDb } from './helpers/db.js'

type Plan = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: Plan[] }
const nodes = (p: Plan): Plan[] => [p, ...(p.Plans ?? []).flatMap(nodes)]

t.test('a long history: answers as before, and every read of runs goes through an index', async (t) => {
  const { sql, db } = await testDb(t)
  const q = await db.saveQuery(
    { name: 'q', description: '', query_text: 'SELECT 1', provider: 'github' },
    'a@x',
  )
  for (let i = 0; i < 40; i++) {
    await sql`create table ${sql(`stackql_inventory`)}.${sql(`t_${i}`)} (id text)`
    await db.saveSchedule({
      query_id: q.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: `t_${i}`,
    })
  }
  // 500 runs a schedule, hourly, every third FAILED; row counts say which run it was.
  await sql`
    insert into stackql_app.runs (schedule_id, query_id, target_schema, target_table, started_at, finished_at, status, row_count)
    select s.id, s.query_id, s.target_schema, s.target_table,
      timestamptz '2026-01-01' + g * interval '1 hour', timestamptz '2026-01-01' + g * interval '1 hour' + interval '5 minutes',
      case when g % 3 = 0 then 'FAILED' else 'SUCCESS' end, s.id * 1000 + g
    from stackql_app.schedules s cross join generate_series(1, 500) g`
  await sql`analyze stackql_app.runs`

  const tables = await db.getInventoryTables()
  t.equal(tables.length, 40)
  const schedules = await sql<
    { id: number; target_table: string }[]
  >`select id, target_table from stackql_app.schedules`
  const idOf = new Map(schedules.map((s) => [s.target_table, Number(s.id)]))
  t.same(
    tables.slice(0, 3).map((x) => [x.name, Number(x.row_count)]),
    ['t_0', 't_1', 't_10'].map((n) => [n, idOf.get(n)! * 1000 + 500]),
    'each table shows its last successful run',
  )
  // The newest runs (g = 500) fail: the last successful run is then the one before.
  await sql`update stackql_app.runs set status = 'FAILED' where started_at = timestamptz '2026-01-01' + 500 * interval '1 hour'`
  const after = await db.getInventoryTables()
  t.equal(Number(after[0]!.row_count), idOf.get('t_0')! * 1000 + 499, 'a newer failed run does not count')

  const recent = await db.getRecentRunsBySchedule(20)
  t.equal(recent.size, 40)
  const mine = recent.get(idOf.get('t_3')!)!
  t.equal(mine.length, 20)
  t.same(
    mine.map((r) => Number(r.row_count) - idOf.get('t_3')! * 1000),
    Array.from({ length: 20 }, (_, i) => 500 - i),
    'the newest 20, newest first',
  )
  const one = await db.getRecentRunsBySchedule(5, idOf.get('t_3')!)
  t.same([...one.keys()], [idOf.get('t_3')!])
  t.same(
    one.get(idOf.get('t_3')!)!.map((r) => r.id),
    mine.slice(0, 5).map((r) => r.id),
  )

  for (const [name, query] of [
    ['inventory tables', inventoryTablesQuery(sql, 'stackql_inventory')],
    ['recent runs', recentRunsQuery(sql, 20)],
    ['one schedule', recentRunsQuery(sql, 20, idOf.get('t_3')!)],
  ] as const) {
    const [row] = await sql<{ 'QUERY PLAN': [{ Plan: Plan }] }[]>`explain (format json) ${query}`
    const onRuns = nodes(row!['QUERY PLAN'][0].Plan).filter((n) => n['Relation Name'] === 'runs')
    t.ok(onRuns.length > 0, `${name}: the plan reads runs`)
    t.same(
      onRuns.filter((n) => !n['Node Type'].startsWith('Index')).map((n) => n['Node Type']),
      [],
      `${name}: runs is read by index (${onRuns.map((n) => n['Index Name'] ?? n['Node Type'])})`,
    )
  }
})

t.test('time labels are kept per minute: the same text as formatting afresh, in any timezone', async (t) => {
  const fresh = (d: Date, tz: string) => {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: tz,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        weekday: 'short',
        hourCycle: 'h23',
      })
        .formatToParts(d)
        .map((x) => [x.type, x.value]),
    )
    return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
  }
  let checked = 0
  for (const tz of ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/St_Johns']) {
    // Every 17 minutes and 13 seconds over two days around Berlin's autumn DST change, twice each:
    // the second call answers from what the first kept.
    for (
      let ms = Date.parse('2025-10-25T00:00:00Z');
      ms < Date.parse('2025-10-27T00:00:00Z');
      ms += 1_033_000
    ) {
      const d = new Date(ms)
      const want = fresh(d, tz)
      if (formatTime(d, tz) !== want || formatTime(new Date(ms + 999), tz) !== want) {
        t.fail(`${tz} ${d.toISOString()}: ${formatTime(d, tz)} != ${want}`)
        return
      }
      checked++
    }
  }
  t.ok(checked > 600, `${checked} moments in four timezones`)
  t.equal(formatTime(new Date('2025-10-26T00:59:59Z'), 'Europe/Berlin'), 'Sun 2025-10-26 02:59')
  t.equal(formatTime(new Date('2025-10-26T01:00:00Z'), 'Europe/Berlin'), 'Sun 2025-10-26 02:00')
})
