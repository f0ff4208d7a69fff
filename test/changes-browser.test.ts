// Issue 14 acceptance journey, in Chromium against the real app: schedule a query with a key picked
// from the dialog's suggestions, Run now (a baseline), change the stand-in's data (one instance added,
// one removed, one with another instance type), Run now again -> the run shows +1 −1 ~1, the Changes
// view shows exactly those three with the right before/after, and "What changed" sends them to the
// assistant (the Anthropic stand-in's recorded request). Screenshots: test-artifacts/screenshots/changes-*.png.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { startAnthropicStandin } from './standins/anthropic.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const QUERY = 'SELECT instance_id, name, instance_type, public_ip FROM stackql_test.util.inventory'
const TABLE = 'vm_inventory'

t.test('history journey: key suggestion, two runs, the Changes view, What changed', { skip }, async (t) => {
  const api = await startAnthropicStandin()
  t.teardown(() => api.close())
  // Local development reads the Anthropic key from the app's own environment: the stand-in's key,
  // for this test process only.
  const previousKey = process.env.ANTHROPIC_API_KEY
  process.env.ANTHROPIC_API_KEY = api.apiKey
  t.teardown(() => {
    if (previousKey === undefined) delete process.env.ANTHROPIC_API_KEY
    else process.env.ANTHROPIC_API_KEY = previousKey
  })
  const { app, page, baseUrl, downloadDir, screenshot, pageErrors } = await startBrowserApp(t, {
    env: { ANTHROPIC_BASE_URL: api.url, ANTHROPIC_MODEL: 'claude-test-model' },
    timeoutMs: 30_000,
  })
  await app.db.saveQuery(
    { name: 'Test instances', description: '', query_text: QUERY, provider: 'stackql_test' },
    'dev@example.com',
  )

  // 1. New Schedule: picking the query suggests its key column; a click puts it in the field.
  await page.goto(`${baseUrl}/schedules`)
  await page.getByRole('button', { name: 'New Schedule' }).click()
  const dialog = page.locator('#new-schedule-dialog')
  await dialog.waitFor({ state: 'visible' })
  const suggestion = dialog.getByRole('button', { name: 'Key column instance_id' })
  await suggestion.waitFor()
  t.same(
    await dialog.locator('.key-suggestion').evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))),
    ['instance_id', 'name'],
    'the key-like columns of the SELECT list, most specific first',
  )
  await suggestion.click()
  t.equal(await page.inputValue('#new-schedule-keys'), 'instance_id', 'the suggestion fills the field')
  t.equal(await suggestion.getAttribute('aria-pressed'), 'true')
  await page.fill('#new-schedule-cron', '0 6 * * *')
  await page.fill('#new-schedule-table', TABLE)
  await screenshot('changes-new-schedule-keys')
  await page.getByRole('button', { name: 'Create schedule' }).click()
  await dialog.waitFor({ state: 'hidden' })
  const row = page.locator('tr.schedule-row', { hasText: `stackql_inventory.${TABLE}` })
  await row.waitFor()
  t.match(await row.locator('.key-columns').textContent(), /Key: instance_id/)
  const id = await row.getAttribute('id')

  // The Edit dialog suggests from the schedule's query too, and shows which suggestion the field holds.
  await row.getByRole('button', { name: /^Edit the schedule of/ }).click()
  const edit = page.locator('#edit-schedule-dialog')
  const pressed = edit.getByRole('button', { name: 'Key column instance_id' })
  await pressed.waitFor()
  t.equal(await pressed.getAttribute('aria-pressed'), 'true', 'the saved key is shown as chosen')
  t.equal(await edit.getByRole('button', { name: 'Key column name' }).getAttribute('aria-pressed'), 'false')
  await screenshot('changes-edit-schedule-keys')
  await edit.getByRole('button', { name: 'Cancel' }).click()
  await edit.waitFor({ state: 'hidden' })

  // 2. Run now: the table's first run is a baseline.
  await row.getByRole('button', { name: /^Run .* now$/ }).click()
  await page.locator(`#${id}[data-status="SUCCESS"] .run-changes`).waitFor({ timeout: 60_000 })
  t.match(await row.locator('.run-changes').textContent(), /Last run: baseline/)

  // 3. The cloud changes: i-0003 is gone, i-0002 is larger, i-0004 is new.
  writeFileSync(
    join(downloadDir, 'approot', 'standin-inventory.json'),
    JSON.stringify([
      { instance_id: 'i-0001', name: 'web-1', instance_type: 't3.small', public_ip: { Valid: false } },
      { instance_id: 'i-0002', name: 'web-2', instance_type: 't3.large', public_ip: { Valid: false } },
      { instance_id: 'i-0004', name: 'web-3', instance_type: 't3.small', public_ip: '203.0.113.9' },
    ]),
  )

  // 4. Run now again: the row shows the run's +added −removed ~modified. The first run's process may
  // still be exiting after it recorded its end: Run now waits up to 3 s for it, and on a machine
  // slower than that it says the run is still in progress and is pressed again.
  for (let attempt = 0; ; attempt++) {
    await page.evaluate("document.getElementById('schedules-alert').textContent = ''")
    await row.getByRole('button', { name: /^Run .* now$/ }).click()
    await page.locator(`#schedules-alert .alert, #${id}[data-status="RUNNING"]`).first().waitFor()
    const alert = ((await page.locator('#schedules-alert').textContent()) ?? '').trim()
    if (!alert) break
    t.match(alert, /still in progress/, 'the only refusal is the first run still exiting')
    if (attempt > 20) throw new Error(`Run now was refused: ${alert}`)
    await page.waitForTimeout(500)
  }
  await row.locator('.run-changes', { hasText: '+1 −1 ~1' }).waitFor({ timeout: 60_000 })
  t.match(await row.locator('.run-changes').textContent(), /Last run: \+1 −1 ~1/)
  await row.getByRole('link', { name: /^What changed in the last run/ }).waitFor()
  await screenshot('changes-schedules-row')

  // 5. Inventory -> the table -> Changes: exactly those three, with the right before/after.
  await page.goto(`${baseUrl}/inventory/tables/${TABLE}`)
  const changes = page.locator('#inventory-changes .change-list')
  await changes.waitFor()
  const items = changes.locator('li.change')
  t.equal(await items.count(), 3, 'three changes')
  t.same(await items.locator('.badge').allTextContents(), ['added', 'modified', 'removed'])
  const added = items.nth(0)
  t.match(await added.locator('.change-key').textContent(), 'instance_id=i-0004')
  t.match(await added.locator('table.change-row').textContent(), /203\.0\.113\.9/)
  const modified = items.nth(1)
  t.match(await modified.locator('.change-key').textContent(), 'instance_id=i-0002')
  const diff = await modified
    .locator('table.change-diff tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())))
  t.same(diff, [['instance_type', 't3.small', 't3.large']], 'only the changed column, before -> after')
  const removed = items.nth(2)
  t.match(await removed.locator('.change-key').textContent(), 'instance_id=i-0003')
  t.match(await removed.locator('table.change-row').textContent(), /batch-1/)
  t.match(await page.locator('#inventory-changes .run-changes').textContent(), '+1 −1 ~1')
  await screenshot('changes-view')

  // 6. What changed: the IDE's assistant gets the summary in Interpret mode.
  const before = api.messageRequests().length
  await page.getByRole('link', { name: /^What changed: ask the assistant about run/ }).click()
  await page.waitForURL(`${baseUrl}/`)
  const answer = page.locator('.chat-msg.chat-assistant:not(.streaming)').last()
  await answer.locator('.chat-body').waitFor()
  t.equal(
    await page.locator('input[name="chat-mode"][value="results"]').isChecked(),
    true,
    'the chat is in Interpret Results mode',
  )
  const sent = api.messageRequests().slice(before)
  t.equal(sent.length, 1, 'one request reached the Anthropic stand-in')
  const body = sent[0]!.body as { system: string; messages: { role: string; content: string }[] }
  const prompt = body.messages.at(-1)!.content
  t.match(prompt, `What changed in the inventory table \`stackql_inventory.${TABLE}\``)
  t.match(prompt, 'Counts: 1 added, 1 removed, 1 modified (key columns instance_id).')
  t.match(prompt, /"kind":"removed","key":\{"instance_id":"i-0003"\}/)
  t.match(
    prompt,
    /"kind":"modified","key":\{"instance_id":"i-0002"\},"changed":\{"instance_type":\{"before":"t3\.small","after":"t3\.large"\}\}/,
  )
  t.match(prompt, /"kind":"added","key":\{"instance_id":"i-0004"\}/)
  t.match(body.system, /When the user shares what changed in an inventory run/)
  t.match(
    await page.locator('.chat-msg.chat-user').last().textContent(),
    /What changed in the inventory table/,
    'the summary shows as the user turn',
  )
  t.notMatch(page.url(), /what_changed/, 'a reload does not ask again')
  await screenshot('changes-what-changed')
  t.same(
    pageErrors.filter((m) => !/Failed to load resource/.test(m)),
    [],
    'no script errors',
  )
})
