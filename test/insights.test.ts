// The dashboard (.lvdash.json) and the Genie space the bundle deploys: structure, and every dataset
// that does not need inventory_changes runs on the app's own PostgreSQL after a run, returning rows.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { writeInventory } from '../src/db/inventory-writer.js'
import { testDb } from './helpers/db.js'

const BUNDLE = fileURLToPath(new URL('../infra/bundles/', import.meta.url))
interface Field {
  name: string
  expression: string
}
interface WidgetQuery {
  name: string
  query: { datasetName: string; fields: Field[]; disaggregated: boolean }
}
interface Widget {
  name: string
  queries?: WidgetQuery[]
  spec?: { widgetType: string; version: number; encodings: Record<string, unknown> }
  multilineTextboxSpec?: { lines: string[] }
}
interface Dashboard {
  datasets: { name: string; displayName: string; queryLines: string[] }[]
  pages: {
    name: string
    displayName: string
    layout: { widget: Widget; position: { x: number; y: number; width: number; height: number } }[]
  }[]
}
const dashboard = JSON.parse(
  readFileSync(join(BUNDLE, 'dashboards/stackql_inventory.lvdash.json'), 'utf8'),
) as Dashboard
const sqlOf = (name: string) => dashboard.datasets.find((d) => d.name === name)?.queryLines.join('') ?? ''

// Datasets over the change records of the history issue: kept out of the PostgreSQL run until the
// stackql_inventory.inventory_changes view exists; checked against its agreed columns instead.
/** Datasets that cannot run on PostgreSQL yet (none: inventory_changes exists since the history issue). */
const NEEDS_CHANGES = new Set<string>()
const CHANGES_COLUMNS = [
  'run_id',
  'schedule_id',
  'target_table',
  'change_kind',
  'profile',
  'row_key',
  'changed_columns',
  'before',
  'after',
  'changed_at',
]

/** Fills a fresh database the way runs do: a saved query, two successful runs and a failed one. */
async function filledDatabase(t: { teardown(fn: () => unknown): void }) {
  const { sql, db } = await testDb(t)
  const query = await db.saveQuery(
    {
      name: 'AWS S3 buckets',
      description: '',
      query_text: "SELECT Name FROM aws.s3.buckets WHERE region = 'us-east-1'",
      provider: 'aws',
    },
    'tester@example.com',
  )
  for (const [status, rows] of [
    ['SUCCESS', 12],
    ['FAILED', 0],
    ['SUCCESS', 14],
  ] as const) {
    const run = await db.startRun({
      query_id: query.id,
      target_schema: 'stackql_inventory',
      target_table: 'aws_s3_buckets',
      trigger: 'manual',
    })
    await db.finishRun(
      run.id,
      status === 'SUCCESS' ? { status, row_count: rows } : { status, error: 'AccessDenied' },
    )
  }
  // Two keyed writes of a table: the second records one added, one removed and one modified row.
  const target = { schema: 'stackql_inventory', table: 'aws_s3_buckets' }
  const a = [
    { name: 'a', acl: 'private' },
    { name: 'b', acl: 'private' },
  ]
  const b = [
    { name: 'a', acl: 'public-read' },
    { name: 'c', acl: 'private' },
  ]
  await writeInventory(
    sql,
    target,
    { columns: ['name', 'acl'], rows: a },
    { keys: ['name'], record: { runId: 1, scheduleId: null } },
  )
  await writeInventory(
    sql,
    target,
    { columns: ['name', 'acl'], rows: b },
    { keys: ['name'], record: { runId: 3, scheduleId: null } },
  )
  return sql
}

/** Column names a dataset returns: run on PostgreSQL, or the agreed inventory_changes columns. */
const sources = new Map<string, string[]>()
async function columnsOf(sql: Awaited<ReturnType<typeof filledDatabase>>) {
  const out = new Map<string, string[]>()
  for (const d of dashboard.datasets) {
    if (NEEDS_CHANGES.has(d.name)) {
      const select = /^SELECT\s+([\s\S]*?)\s+FROM/i.exec(sqlOf(d.name))?.[1] ?? ''
      const items = select.split(/,(?![^(]*\))/).map((c) => c.trim())
      out.set(
        d.name,
        items.map((c) => (c.split(/\s+AS\s+/i).pop() ?? '').trim()),
      )
      // What it reads from inventory_changes (before any alias), for the agreed-columns check.
      const read = items.map((c) => c.replace(/\s+AS\s+\w+$/i, ''))
      const words = read.flatMap((c) => [...c.matchAll(/\b([a-z_]+)\b(?!\s*\()/gi)].map((m) => m[1] ?? ''))
      sources.set(
        d.name,
        words.filter((w) => !['AS', 'DATE'].includes(w.toUpperCase())),
      )
      continue
    }
    const rows = await sql.unsafe(sqlOf(d.name))
    out.set(
      d.name,
      rows.columns.map((c) => c.name),
    )
  }
  return out
}

t.test('every dataset without inventory_changes runs on PostgreSQL after runs, returning rows', async (t) => {
  const sql = await filledDatabase(t)
  for (const d of dashboard.datasets.filter((d) => !NEEDS_CHANGES.has(d.name))) {
    const rows = await sql.unsafe(sqlOf(d.name))
    t.ok(rows.length > 0, `${d.name} returns ${rows.length} rows`)
  }
  const [latest] = await sql.unsafe(sqlOf('inventory_tables'))
  t.equal(Number(latest?.row_count), 14, "the tables dataset shows the table's latest successful run")
  const [failing] = await sql.unsafe(sqlOf('failing_schedules'))
  t.equal(Number(failing?.failed_runs), 1)
})

t.test(
  'datasets name stackql_inventory objects without a catalog (dataset_catalog supplies it)',
  async (t) => {
    for (const d of dashboard.datasets) {
      for (const [, ref] of sqlOf(d.name).matchAll(/\bFROM\s+([\w.`]+)/gi)) {
        if (ref === '(') continue
        t.match(ref, /^stackql_inventory\.\w+$/, `${d.name} reads ${ref}`)
      }
    }
    const bundle = parse(readFileSync(join(BUNDLE, 'resources/insights.yml'), 'utf8'))
    const res = bundle.resources.dashboards.stackql_inventory
    t.equal(res.dataset_catalog, `\${var.catalog_name}`)
    t.equal(res.dataset_schema, 'stackql_inventory')
    t.equal(res.file_path, '../dashboards/stackql_inventory.lvdash.json')
  },
)

t.test(
  'the dashboard is structurally valid: pages, widgets on existing datasets and fields, filters on their queries',
  async (t) => {
    const sql = await filledDatabase(t)
    const columns = await columnsOf(sql)
    t.same(
      dashboard.pages.map((p) => p.displayName),
      ['Overview', 'Changes', 'Health'],
    )
    const names = dashboard.datasets.map((d) => d.name)
    t.equal(new Set(names).size, names.length, 'dataset names are unique')
    const widgetNames: string[] = []
    const used = new Set<string>()
    for (const page of dashboard.pages) {
      for (const { widget, position } of page.layout) {
        widgetNames.push(widget.name)
        t.ok(
          position.width > 0 && position.height > 0 && position.x + position.width <= 6,
          `${widget.name} fits the 6-column grid`,
        )
        if (widget.multilineTextboxSpec) continue
        t.ok(widget.spec && widget.queries?.length, `${widget.name} has a spec and queries`)
        const fieldNames = new Set<string>()
        const queryNames = new Set<string>()
        for (const q of widget.queries ?? []) {
          queryNames.add(q.name)
          const cols = columns.get(q.query.datasetName)
          if (!cols) {
            t.fail(`${widget.name} uses a dataset that does not exist: ${q.query.datasetName}`)
            continue
          }
          used.add(q.query.datasetName)
          for (const f of q.query.fields) {
            fieldNames.add(f.name)
            for (const [, col] of f.expression.matchAll(/`([^`]+)`/g)) {
              t.ok(cols.includes(col ?? ''), `${widget.name}: ${q.query.datasetName} has column ${col}`)
            }
          }
        }
        const encodings = widget.spec?.encodings ?? {}
        const refs = Object.values(encodings).flatMap((e) => (Array.isArray(e) ? e : [e])) as {
          fieldName: string
          queryName?: string
        }[]
        const nested = (encodings.columns ?? encodings.fields ?? []) as typeof refs
        for (const r of [...refs.filter((r) => r && 'fieldName' in r), ...nested]) {
          t.ok(fieldNames.has(r.fieldName), `${widget.name}: encoding ${r.fieldName} is a field of its query`)
          if (r.queryName)
            t.ok(queryNames.has(r.queryName), `${widget.name}: filter names its own query ${r.queryName}`)
        }
      }
    }
    t.equal(new Set(widgetNames).size, widgetNames.length, 'widget names are unique')
    t.same([...used].sort(), [...names].sort(), 'every dataset is shown by some widget')
    t.same(
      [...NEEDS_CHANGES].flatMap(
        (n) => sources.get(n)?.filter((c) => !CHANGES_COLUMNS.includes(c)) ?? ['(none)'],
      ),
      [],
      'change datasets use only the agreed inventory_changes columns',
    )
  },
)

t.test(
  'the Genie space: instructions, 10 sample questions naming only tables and views that exist',
  async (t) => {
    const sql = await filledDatabase(t)
    const bundle = parse(readFileSync(join(BUNDLE, 'resources/insights.yml'), 'utf8'))
    const genie = bundle.resources.genie_spaces.stackql_inventory
    const space = genie.serialized_space
    t.equal(space.version, 2)
    t.equal(genie.warehouse_id, `\${var.warehouse_id}`)
    const text = space.instructions.text_instructions
      .flatMap((i: { content: string[] }) => i.content)
      .join('')
    t.match(text, /inventory table/i)
    t.match(text, /_profile column names the account/)
    t.match(text, /added.*removed.*modified/s)
    const questions: string[] = space.config.sample_questions.flatMap(
      (q: { question: string[] }) => q.question,
    )
    t.equal(questions.length, 10)
    for (const q of space.config.sample_questions) t.match(q.id, /^[0-9a-f]{32}$/)
    const existing = new Set(
      (
        await sql`select table_name from information_schema.tables where table_schema in ('stackql_inventory', 'stackql_app')`
      ).map((r) => r.table_name as string),
    )
    t.ok(existing.has('inventory_runs'), 'the inventory_runs view exists')
    for (const { identifier } of space.data_sources.tables as { identifier: string }[]) {
      const name = /^\$\{var\.catalog_name\}\.stackql_inventory\.(\w+)$/.exec(identifier)?.[1] ?? ''
      t.ok(existing.has(name), `${identifier} is <catalog>.stackql_inventory.<an existing view>`)
    }
    for (const q of questions) {
      const named = [...q.matchAll(/\b(inventory_\w+|[a-z]+_[a-z_]+)\b/g)].map((m) => m[1] ?? '')
      for (const n of named) {
        if (n === 'inventory_changes' || q.startsWith('After history:')) continue
        t.ok(existing.has(n), `"${q}" names ${n}, which exists`)
      }
    }
  },
)
