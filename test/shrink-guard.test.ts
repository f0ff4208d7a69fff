// The schedule's shrink guard end to end: the New Schedule and edit dialogs, the stored setting,
// bad input refused with nothing changed, and the row showing it.
import t from 'tap'
import { buildTestApp } from './helpers/app.js'

const SELECT_REPOS = "SELECT id, name FROM github.repos.repos WHERE org = 'stackql'"

t.test('finding 1 (shrink guard): set in the New Schedule and edit dialogs, off by default', async (t) => {
  const { app, session } = await buildTestApp(t)
  const query = await app.db.saveQuery(
    { name: 'repos', description: '', query_text: SELECT_REPOS, provider: 'github' },
    'dev@example.com',
  )
  const page = await session.get('/schedules')
  t.match(page.body, /<label for="new-schedule-shrink-guard">Shrink guard \(%\)<\/label>/)
  t.match(page.body, /id="new-schedule-shrink-guard" name="shrink_guard_pct" type="number" min="1" max="100"/)
  t.match(page.body, /aria-describedby="new-schedule-shrink-guard-hint"/)

  const base = {
    query_id: String(query.id),
    cron_expression: '0 6 * * *',
    target_schema: 'stackql_inventory',
  }
  const off = await session.htmx('POST', '/schedules', { ...base, target_table: 'off_by_default' })
  t.equal(off.statusCode, 200)
  const plain = await session.htmx('POST', '/schedules', {
    ...base,
    target_table: 'empty_field',
    shrink_guard_pct: '',
  })
  t.equal(plain.statusCode, 200)
  const guarded = await session.htmx('POST', '/schedules', {
    ...base,
    target_table: 'guarded',
    shrink_guard_pct: '90',
  })
  t.equal(guarded.statusCode, 200)
  t.match(guarded.body, /class="hint shrink-guard"[^>]*>Shrink guard 90%</)
  const byTable = Object.fromEntries((await app.db.getSchedules()).map((s) => [s.target_table, s]))
  t.equal(byTable.off_by_default!.shrink_guard_pct, null)
  t.equal(byTable.empty_field!.shrink_guard_pct, null)
  t.equal(byTable.guarded!.shrink_guard_pct, 90)

  for (const bad of ['0', '101', '12.5', 'lots', '-5']) {
    const res = await session.htmx('POST', '/schedules', {
      ...base,
      target_table: 'bad',
      shrink_guard_pct: bad,
    })
    t.equal(res.statusCode, 400, `"${bad}" refused`)
    t.match(res.body, /Shrink guard: .* is not a percentage\. Enter a whole number from 1 to 100/)
  }
  t.equal((await app.db.getSchedules()).length, 3, 'nothing saved for bad input')

  const id = byTable.guarded!.id
  const edit = await session.htmx('GET', `/schedules/${id}/edit`)
  t.match(edit.body, /id="edit-schedule-shrink-guard" name="shrink_guard_pct"[\s\S]*?value="90"/)
  const badEdit = await session.htmx('POST', `/schedules/${id}/cron`, {
    cron_expression: '*/5 * * * *',
    shrink_guard_pct: '150',
  })
  t.equal(badEdit.statusCode, 400)
  t.match(
    (await app.db.getSchedule(id))!,
    { cron_expression: '0 6 * * *', shrink_guard_pct: 90 },
    'nothing changed',
  )
  const lowered = await session.htmx('POST', `/schedules/${id}/cron`, {
    cron_expression: '0 6 * * *',
    shrink_guard_pct: '50%',
  })
  t.equal(lowered.statusCode, 200)
  t.match(lowered.body, /Shrink guard 50%/)
  t.equal((await app.db.getSchedule(id))!.shrink_guard_pct, 50)
  const cleared = await session.htmx('POST', `/schedules/${id}/cron`, {
    cron_expression: '0 6 * * *',
    shrink_guard_pct: '',
  })
  t.equal(cleared.statusCode, 200)
  t.notMatch(cleared.body, /Shrink guard \d/)
  t.equal((await app.db.getSchedule(id))!.shrink_guard_pct, null)
  const cronOnly = await session.htmx('POST', `/schedules/${byTable.off_by_default!.id}/cron`, {
    cron_expression: '0 7 * * *',
  })
  t.equal(cronOnly.statusCode, 200, 'a cron-only edit (older page) leaves the guard as it is')
})
