import t from 'tap'
import { writeInventory } from '../src/db/inventory-writer.js'
import type { Row } from '../src/models.js'
import { buildTestApp } from './helpers/app.js'

const target = { schema: 'stackql_inventory', table: 'vms' }
const cols = ['instance_id', 'type']

t.test("the Changes view shows exactly a run's added, removed and modified rows, and its CSV", async (t) => {
  const { app, session } = await buildTestApp(t)
  const run = async (rows: Row[]) => {
    const r = await app.db.startRun({
      schedule_id: null,
      query_id: null,
      ...{ target_schema: target.schema, target_table: target.table },
      trigger: 'local',
    })
    const w = await writeInventory(
      app.sql,
      target,
      { columns: cols, rows },
      { keys: ['instance_id'], record: { runId: r.id, scheduleId: null } },
    )
    await app.db.finishRun(r.id, { status: 'SUCCESS', row_count: w.rowCount, changes: w.changes })
    return r.id
  }
  await run([
    { instance_id: 'i-1', type: 'small' },
    { instance_id: 'i-2', type: 'small' },
    { instance_id: 'i-3', type: 'small' },
  ])
  const second = await run([
    { instance_id: 'i-1', type: 'small' },
    { instance_id: 'i-2', type: 'large' },
    { instance_id: 'i-4', type: 'small' },
  ])
  const res = await session.get('/inventory/tables/vms/changes', { 'hx-request': 'true' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /\+1 −1 ~1/)
  const kinds = [...res.body.matchAll(/class="badge kind-(\w+)"/g)].map((m) => m[1])
  t.same(kinds, ['added', 'modified', 'removed'])
  t.match(res.body, /instance_id=i-4/)
  t.match(res.body, /instance_id=i-3/)
  t.match(res.body, /<td><code>type<\/code><\/td><td class="before">small<\/td><td class="after">large<\/td>/)
  t.match(res.body, /<svg[^>]*class="changes-chart"/)
  const only = await session.get(`/inventory/tables/vms/changes?run=${second}&kind=removed`, {
    'hx-request': 'true',
  })
  t.same(
    [...only.body.matchAll(/class="badge kind-(\w+)"/g)].map((m) => m[1]),
    ['removed'],
  )
  const csv = await session.get(`/inventory/tables/vms/changes.csv?run=${second}`)
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(csv.body.trim().split('\n').length, 4, 'a header and three changes')
  const bad = await session.get('/inventory/tables/vms/changes?kind=nope', { 'hx-request': 'true' })
  t.equal(bad.statusCode, 400)
})
