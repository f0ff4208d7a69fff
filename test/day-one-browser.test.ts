// Issue 16 acceptance, in Chromium against the real app, from an empty database: Starter queries ->
// add the aws set -> schedule one with the pre-filled values -> Run now -> the Inventory page shows
// the table with column comments, and stackql_inventory.inventory_runs shows the run.
// Screenshots: test-artifacts/screenshots/day-one-*.png.
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'

t.test(
  'day one: a starter query scheduled from the library, run, described and in inventory_runs',
  { skip },
  async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, { timeoutMs: 30_000 })
    // Local development reads a mapped value from the app's environment when it is needed, under its
    // profile-qualified name: set for this test process only, after the app started.
    const creds = {
      STACKQL_PROFILE__aws__default__AWS_ACCESS_KEY_ID: 'AKIADAYONE0000000001',
      STACKQL_PROFILE__aws__default__AWS_SECRET_ACCESS_KEY: 'day-one-secret',
    }
    for (const [k, v] of Object.entries(creds)) process.env[k] = v
    t.teardown(() => {
      for (const k of Object.keys(creds)) delete process.env[k]
    })
    for (const env_var_name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      await app.db.saveProviderConfig(
        {
          provider: 'aws',
          env_var_name,
          secret_scope: 'stackql-inventory',
          secret_key: env_var_name.toLowerCase(),
        },
        'dev@example.com',
      )
    }
    await app.db.setProfileVariable(
      { provider: 'aws', profile: 'default', name: 'region', value: 'us-east-1' },
      'dev@example.com',
    )

    // 1. Starter queries: add the whole aws set to the library.
    await page.goto(`${baseUrl}/starter?group=aws`)
    const addAll = page.locator('#starter-add-all')
    await addAll.click()
    await page
      .locator('#starter-queries .starter-outcome, #starter-queries [role="status"]')
      .first()
      .waitFor()
    const saved = await app.db.getQueries()
    t.ok(
      saved.some((q) => q.name === 'AWS S3 buckets'),
      'the aws starter queries are in the library',
    )
    await screenshot('day-one-starter-added')

    // 2. Schedules: the dialog opens pre-filled from the starter query.
    await page.goto(`${baseUrl}/schedules?starter=aws/s3_buckets`)
    const dialog = page.locator('#new-schedule-dialog')
    await dialog.waitFor({ state: 'visible' })
    t.equal(await page.inputValue('#new-schedule-cron'), '0 6 * * *')
    t.equal(await page.inputValue('#new-schedule-table'), 'aws_s3_buckets')
    t.equal(await page.inputValue('#new-schedule-keys'), 'Name', 'the starter query names its key column')
    await screenshot('day-one-schedule-prefilled')
    await page.getByRole('button', { name: 'Create schedule' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.locator('tr.schedule-row', { hasText: 'stackql_inventory.aws_s3_buckets' })
    await row.waitFor()
    const id = await row.getAttribute('id')

    // 3. Run now, and wait for the row to report the finished run.
    await row.getByRole('button', { name: /^Run .* now$/ }).click()
    await page
      .locator(`#${id}[data-status="SUCCESS"], #${id}[data-status="FAILED"]`)
      .waitFor({ timeout: 90_000 })
      .catch(async (e) => {
        await screenshot('day-one-run-timeout')
        console.error(
          'ROW',
          await row.textContent(),
          await app.sql`select status, error from stackql_app.runs`,
        )
        throw e
      })
    await screenshot('day-one-run')
    const runs0 = await app.sql`select status, error from stackql_app.runs`
    t.equal(runs0[0]?.status, 'SUCCESS', String(runs0[0]?.error))

    // 4. Inventory: the table's detail lists its columns with the comments the run wrote.
    await page.goto(`${baseUrl}/inventory/tables/aws_s3_buckets`)
    const columns = page.locator('#table-columns')
    await page.locator('details.table-columns summary').click()
    await columns.waitFor()
    const bucketRegion = columns.locator('tr', { hasText: /bucket_?region/i })
    t.match(await bucketRegion.textContent(), /from aws\.s3\.buckets/, 'a column says where it comes from')
    await screenshot('day-one-inventory-columns')

    const runs = await app.sql<{ status: string; row_count: string; query_name: string }[]>`
    select status, row_count::text, query_name from stackql_inventory.inventory_runs where target_table = 'aws_s3_buckets'`
    t.same(runs.length, 1)
    t.equal(runs[0]?.status, 'SUCCESS')
    t.equal(runs[0]?.query_name, 'AWS S3 buckets')
    t.ok(Number(runs[0]?.row_count) > 0, 'the run wrote rows')
    t.same(pageErrors, [], 'no script errors')
  },
)
