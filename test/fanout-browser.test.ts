// The Schedules page shows a PARTIAL fan-out run in amber, with every slice of the run (rows, time)
// and the failed profiles' StackQL errors.
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'

t.test(
  'a PARTIAL run is amber and lists its slices with the failed profiles’ errors',
  { skip },
  async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t)
    for (const profile of ['prod', 'staging']) {
      await app.db.saveProviderConfig(
        {
          provider: 'aws',
          profile,
          env_var_name: 'AWS_ACCESS_KEY_ID',
          secret_scope: 'inv',
          secret_key: `${profile}-key`,
        },
        'dev@example.com',
      )
    }
    const query = await app.db.saveQuery(
      {
        name: 'AWS accounts',
        description: '',
        query_text: 'SELECT account FROM aws.sts.caller_identity',
        provider: 'aws',
      },
      'dev@example.com',
    )
    const schedule = await app.schedules.create({
      query_id: query.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'aws_accounts',
      profiles: ['aws/prod', 'aws/staging'],
    })
    const run = await app.db.startRun({
      schedule_id: schedule.id,
      query_id: query.id,
      target_schema: 'stackql_inventory',
      target_table: 'aws_accounts',
    })
    const stackqlError = 'aws/staging: http response status code: 403, response body: AuthFailure'
    await app.db.recordRunSlices(run.id, [
      { provider: 'aws', profile: 'prod', status: 'SUCCESS', rows: 41, elapsed_ms: 1830, error: null },
      {
        provider: 'aws',
        profile: 'staging',
        status: 'FAILED',
        rows: null,
        elapsed_ms: 640,
        error: stackqlError,
      },
    ])
    await app.db.finishRun(run.id, {
      status: 'PARTIAL',
      row_count: 41,
      error: `1 of 2 profile slices failed (aws/staging); their previous rows are kept. ${stackqlError}`,
    })

    await page.goto(`${baseUrl}/schedules`)
    const row = page.locator(`#schedule-${schedule.id}`)
    t.equal(await row.getAttribute('data-status'), 'PARTIAL')
    t.equal(await row.locator('.status-label').textContent(), 'Partial')
    const amber = await row
      .locator('.status-label')
      .evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color)
    t.equal(amber, 'rgb(178, 106, 0)', 'amber')
    const slices = row.getByRole('list', { name: 'Profile slices of the last run' })
    t.match(await slices.textContent(), /aws\/staging[\s\S]*no rows written[\s\S]*403/)
    t.match(await slices.textContent(), /aws\/prod · 41 rows · 1\.8 s/)
    await row.locator('details.run-error summary').click()
    t.match(await row.locator('details.run-error pre').textContent(), /previous rows are kept/)
    await screenshot('schedules-partial-run')
    t.same(pageErrors, [])
  },
)
