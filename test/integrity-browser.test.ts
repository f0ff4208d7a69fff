// Browser checks of issue 12's visible parts: the IDE's "incomplete result" warning (finding 1) and
// the shrink-guard field of the New Schedule dialog. Screenshots: integrity-incomplete-result.png,
// integrity-shrink-guard.png.
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const PARTIAL = "SELECT * FROM stackql_test.util.partial WHERE count = '12'"

t.test(
  'finding 1 (partial output): the warning above the rows, and the shrink-guard field',
  { skip },
  async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t)
    const query = await app.db.saveQuery(
      { name: 'EC2 by region', description: '', query_text: PARTIAL, provider: 'stackql_test' },
      'dev@example.com',
    )
    await page.goto(baseUrl)
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.evaluate(`window.stackqlEditor.setValue(${JSON.stringify(PARTIAL)}, 1)`)
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'Incomplete result' })
    await alert.waitFor()
    t.match(await alert.textContent(), /StackQL reported an error[\s\S]*http response status code: 403/)
    t.equal(await page.locator('#row-count').textContent(), '4 rows', 'the rows it got are still shown')
    t.equal(await page.locator('#results tbody tr').count(), 4)
    await screenshot('integrity-incomplete-result')

    await page.goto(`${baseUrl}/schedules`)
    await page.getByRole('button', { name: 'New Schedule' }).click()
    await page.locator('#new-schedule-dialog').waitFor({ state: 'visible' })
    await page.selectOption('#new-schedule-query', String(query.id))
    await page.fill('#new-schedule-cron', '0 6 * * *')
    await page.fill('#new-schedule-table', 'ec2_by_region')
    const guard = page.getByLabel('Shrink guard (%)')
    await guard.fill('90')
    await screenshot('integrity-shrink-guard')
    await page.getByRole('button', { name: 'Create schedule' }).click()
    await page.locator('.shrink-guard', { hasText: 'Shrink guard 90%' }).waitFor()
    const [saved] = await app.db.getSchedules()
    t.equal(saved?.shrink_guard_pct, 90)
    t.same(pageErrors, [])
  },
)
