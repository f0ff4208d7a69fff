// What a person does on the Inventory and Provider Config pages, in Chromium against the real app:
// add a provider mapping through the dialog (Databricks stand-in), Test it without the value ever
// reaching the page; pick an inventory table, preview it, refresh its materialised view.
import type { Page } from 'playwright-core'
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const SCOPE = 'stackql-inventory'
const CANARY = 'canary-secret-9d41b7e2-never-on-a-page'

/** Failed HTTP responses the page saw, as "<status> <method> <path>". */
function failedResponses(page: Page): string[] {
  const list: string[] = []
  page.on('response', (r) => {
    if (r.status() >= 400) list.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)
  })
  return list
}

/** Console errors other than Chromium's "Failed to load resource" lines (checked via failedResponses). */
function noise(errors: string[]): string[] {
  return errors.filter((m) => !/^Failed to load resource/.test(m))
}

if (!hasChromium) {
  t.skip('Chromium is not installed (apt-get install -y chromium)', () => {})
} else {
  t.test('Provider Config: add a mapping through the dialog, Test it, delete it', async (t) => {
    const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => standin.close())
    standin.state.putSecret(SCOPE, 'aws-access-key-id', CANARY)
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
      env: { DATABRICKS_HOST: standin.url, DATABRICKS_TOKEN: 'dapi-test', STACKQL_LOCAL_DEV: 'false' },
    })
    const failed = failedResponses(page)

    await page.goto(`${baseUrl}/providers`)
    await page.getByText('No provider mappings yet.').waitFor()
    t.equal(await page.locator('#local-dev-note').count(), 0, 'secrets come from the workspace')
    await screenshot('providers-empty')

    await page.locator('.toolbar').getByRole('button', { name: 'Add Mapping' }).click()
    const dialog = page.locator('#add-mapping-dialog')
    await dialog.waitFor({ state: 'visible' })
    t.equal(await page.evaluate('document.activeElement?.id'), 'mapping-provider', 'focus starts in the form')
    await page.getByLabel('Provider', { exact: true }).fill('aws')
    t.same(
      await page
        .locator('#env-var-suggestions option')
        .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value)),
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'],
      'the variable suggestions follow the provider',
    )
    t.match(await page.locator('#env-var-hint').textContent(), /aws usually reads: AWS_ACCESS_KEY_ID/)
    await page.getByLabel('Environment variable').fill('AWS_ACCESS_KEY_ID')
    t.equal(await page.getByLabel('Secret scope').inputValue(), SCOPE, 'the configured scope is the default')
    t.equal(await page.getByLabel('Secret key').getAttribute('placeholder'), 'aws-access-key-id')

    // A secret that does not exist: the error shows inside the dialog, nothing is saved.
    await page.getByLabel('Secret key').fill('no-such-key')
    await page.getByRole('button', { name: 'Save' }).click()
    await dialog.locator('#mapping-form-error').getByText('Secret stackql-inventory/no-such-key').waitFor()
    t.ok(await dialog.isVisible(), 'the dialog stays open')
    t.same(await app.db.getProviderConfig(), [], 'nothing saved')
    t.equal(await page.locator('#provider-mappings tbody tr').count(), 0)
    await screenshot('providers-dialog-error')

    // The real key: saved, dialog closed, the row listed with the key hidden.
    await page.getByLabel('Secret key').fill('aws-access-key-id')
    await page.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.locator('#provider-mappings tbody tr')
    await row.first().waitFor()
    t.equal(await row.count(), 1)
    t.match(await row.first().textContent(), /aws\s+AWS_ACCESS_KEY_ID\s+stackql-inventory\s+\*\*\*/)
    const [saved] = await app.db.getProviderConfig()
    t.match(saved, { provider: 'aws', secret_key: 'aws-access-key-id', created_by: 'developer@localhost' })

    // Test: pass, and the value is nowhere in the DOM.
    await row.first().getByRole('button', { name: 'Test' }).click()
    const result = page.locator(`#mapping-test-${saved!.id}.pass`)
    await result.waitFor()
    t.match(await result.textContent(), /Pass: Secret stackql-inventory\/aws-access-key-id resolved/)
    t.notMatch(await page.content(), CANARY, 'the secret value appears nowhere in the page')
    await screenshot('providers-tested')

    // Reopening the dialog shows no stale error.
    await page.locator('.toolbar').getByRole('button', { name: 'Add Mapping' }).click()
    await dialog.waitFor({ state: 'visible' })
    t.equal(await page.locator('#mapping-form-error').innerHTML(), '', 'a fresh form')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })

    // Delete with a confirmation step (keyboard: the confirm button takes focus).
    await row.first().getByRole('button', { name: 'Delete' }).click()
    await page.getByText('Delete the mapping of AWS_ACCESS_KEY_ID for aws?').waitFor()
    t.equal(await page.evaluate('document.activeElement?.textContent?.trim()'), 'Delete')
    await screenshot('providers-confirm-delete')
    await page.keyboard.press('Enter')
    await page.getByText('No provider mappings yet.').waitFor()
    t.same(await app.db.getProviderConfig(), [])
    t.same(failed, ['422 POST /providers'], 'the only failed request is the refused save')
    t.same(noise(pageErrors), [], 'no errors in the page')
  })

  t.test('Inventory: select a table (mouse and keyboard), preview it, refresh its view', async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t)
    const failed = failedResponses(page)
    const sql = app.db.sql
    await app.db.ping()
    await sql`create table stackql_inventory.github_repos (id bigint, name text, stargazers_count bigint, topics jsonb)`
    await sql`insert into stackql_inventory.github_repos
      select g, 'repo-' || g, g * 7, jsonb_build_array('cloud', 'sql') from generate_series(1, 140) g`
    await sql`insert into stackql_inventory.github_repos values (999, '<img src=x onerror=alert(1)>', 0, null)`
    await sql`create table stackql_inventory.aws_buckets (name text, region text)`
    await sql`insert into stackql_inventory.aws_buckets values ('logs', 'us-east-1'), ('assets', 'eu-west-1')`
    await sql`create materialized view stackql_inventory.aws_buckets_mv as select * from stackql_inventory.aws_buckets`
    const runs: Array<[string, 'SUCCESS' | 'FAILED', number | undefined]> = [
      ['github_repos', 'SUCCESS', 120],
      ['github_repos', 'FAILED', undefined],
      ['github_repos', 'SUCCESS', 135],
      ['github_repos', 'SUCCESS', 141],
      ['aws_buckets', 'SUCCESS', 2],
    ]
    for (const [table, status, rows] of runs) {
      const run = await app.db.startRun({
        query_id: null,
        target_schema: 'stackql_inventory',
        target_table: table,
      })
      await app.db.finishRun(
        run.id,
        status === 'SUCCESS'
          ? { status, row_count: rows }
          : { status, error: 'github: 403 API rate limit exceeded' },
      )
    }

    await page.goto(`${baseUrl}/inventory`)
    await page.locator('[data-metric="tables"]', { hasText: '2' }).waitFor()
    t.equal(await page.locator('[data-metric="rows"]').textContent(), '143')
    t.ok(
      await page.locator('#inventory-row-github_repos button.refresh-mv').isDisabled(),
      'no view, no refresh',
    )
    await screenshot('inventory')

    await page.locator('#inventory-row-github_repos td').nth(1).click()
    const detail = page.locator('#inventory-detail[data-table="github_repos"]')
    await detail.waitFor()
    t.equal(await detail.locator('table.preview tbody tr').count(), 100, 'the first 100 rows')
    t.match(await detail.locator('table.preview').textContent(), /<img src=x onerror=alert\(1\)>|repo-1/)
    t.equal(await page.locator('#inventory-detail img').count(), 0, 'cell values are text, not markup')
    t.equal(await detail.locator('svg.chart-runs rect.run-failed').count(), 1, 'the failed run is marked')
    t.match(page.url(), /\/inventory\/tables\/github_repos$/, 'the address names the selection')
    t.equal(await page.locator('#inventory-row-github_repos').getAttribute('aria-current'), 'true')
    await screenshot('inventory-selected')

    await page.locator('#inventory-row-aws_buckets').focus()
    await page.keyboard.press('Enter')
    await page.locator('#inventory-detail[data-table="aws_buckets"]').waitFor()
    t.equal(await page.locator('#inventory-detail table.preview tbody tr').count(), 2)
    t.equal(await page.locator('#inventory-row-github_repos').getAttribute('aria-current'), null)

    await sql`insert into stackql_inventory.aws_buckets values ('backups', 'us-west-2')`
    await page.locator('#inventory-row-aws_buckets').getByRole('button', { name: 'Refresh' }).click()
    await page.locator('#mv-status-aws_buckets', { hasText: 'Refreshed at' }).waitFor()
    const [mv] = await sql`select count(*)::int as n from stackql_inventory.aws_buckets_mv`
    t.equal(mv!.n, 3, 'the materialised view was refreshed')
    t.equal(
      await page.locator('#inventory-detail').getAttribute('data-table'),
      'aws_buckets',
      'clicking Refresh does not change the selection',
    )
    await screenshot('inventory-refreshed')
    t.same(failed, [], 'no request failed')
    t.same(noise(pageErrors), [], 'no errors in the page')
  })
}
