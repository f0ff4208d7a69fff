// Browser: "Run across" in the IDE runs the statement once per ticked aws profile, each StackQL
// process with only its profile's credentials (workspace secrets), shows progress while the slices
// run, then the union with `_profile` and a per-profile status line (rows, time, error).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { awsAccountFor } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const SCOPE = 'stackql-inventory'

t.test(
  'Run across two good profiles and one with an invalid key: the union with _profile, the failed profile named',
  { skip },
  async (t) => {
    const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => workspace.close())
    const keys: Record<string, string> = {
      prod: `AKIA${randomUUID()}`,
      staging: `AKIA${randomUUID()}`,
      broken: `INVALID${randomUUID()}`,
    }
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
      env: {
        STACKQL_LOCAL_DEV: 'false',
        DATABRICKS_HOST: workspace.url,
        DATABRICKS_TOKEN: 'dapi-test',
        SLICE_CONCURRENCY: '2',
      },
    })
    for (const [profile, key] of Object.entries(keys)) {
      workspace.state.putSecret(SCOPE, `${profile}-key-id`, key)
      workspace.state.putSecret(SCOPE, `${profile}-secret`, `secret-${randomUUID()}`)
      for (const [v, k] of [
        ['AWS_ACCESS_KEY_ID', `${profile}-key-id`],
        ['AWS_SECRET_ACCESS_KEY', `${profile}-secret`],
      ] as const) {
        await app.db.saveProviderConfig(
          { provider: 'aws', profile, env_var_name: v, secret_scope: SCOPE, secret_key: k },
          'dev@example.com',
        )
      }
    }

    await page.goto(`${baseUrl}/`)
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.evaluate(
      `window.stackqlEditor.setValue(${JSON.stringify('SELECT account FROM aws.sts.caller_identity')}, 1)`,
    )
    const toggle = page.getByText('Run across…')
    await toggle.waitFor()
    await toggle.click()
    const all = page.getByRole('checkbox', { name: 'All profiles of aws' })
    await all.check()
    for (const p of ['broken', 'prod', 'staging']) {
      t.ok(await page.getByRole('checkbox', { name: `Run across aws/${p}` }).isChecked(), `aws/${p} ticked`)
    }
    t.ok(await page.getByRole('combobox', { name: 'Profile for aws' }).isDisabled(), 'the single pick is off')
    t.match(await page.locator('#run-button').innerText(), /Run across 3/)
    t.equal(await page.locator('#run-across-toggle').innerText(), 'Run across (3)')
    await screenshot('ide-run-across-picked')

    // Progress: hold the stream's final event back once, so the progress view stays to be looked at.
    let held = false
    await page.route('**/run/across', async (route) => {
      const response = await route.fetch()
      const body = await response.text()
      const progressOnly = body
        .split('\n\n')
        .filter((f) => f.startsWith('event: progress'))
        .slice(0, 2) // all queued, then the first slice running
        .join('\n\n')
      held = true
      await route.fulfill({ response, body: `${progressOnly}\n\n` })
    })
    await page.locator('#run-button').click()
    await page.locator('#across-progress').waitFor()
    t.ok(held)
    const progress = await page.locator('#results').innerText()
    t.match(progress, /Running across 3 profiles of aws: \d of 3 done/)
    t.match(progress, /aws\/prod/)
    t.match(progress, /Waiting for aws\/\w+ \(running for [^)]+\)/, 'it says what it is waiting for')
    await screenshot('ide-run-across-progress')
    await page.unroute('**/run/across')

    // The first progress frame names what the run waits for, before any slice has finished.
    const frames = (await page.evaluate(`(async () => {
      const form = document.getElementById('run-form')
      const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''
      const res = await fetch('/run/across', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': token, 'hx-request': 'true' },
        body: new URLSearchParams(new FormData(form)),
      })
      return { type: res.headers.get('content-type'), text: await res.text() }
    })()`)) as { type: string; text: string }
    t.match(frames.type, /^text\/event-stream/)
    const first = frames.text.split('\n\n')[0]!
    t.match(first, /^event: progress/)
    t.match(first, /0 of 3 done/)
    t.match(
      first,
      /Waiting for aws\/broken \(queued\), aws\/prod \(queued\), aws\/staging \(queued\)|Waiting for .*running for/,
    )
    t.match(frames.text, /event: done/)

    // The real run: union and summary.
    await page.locator('#run-button').click()
    const summary = page.locator('#across-summary')
    await summary.waitFor()
    t.match(await summary.innerText(), /2 of 3 profiles of aws succeeded/)
    t.match(await summary.innerText(), /1 failed/)
    const chart = page.getByRole('img', { name: '3 profile slices: 2 succeeded, 1 failed' })
    t.ok(await chart.isVisible(), 'the picture sums the run up in its accessible name')
    const lines = page.getByRole('table', { name: 'Status per profile' })
    const broken = lines.locator('tr[data-profile="broken"]')
    t.match(await broken.innerText(), /aws\/broken\s+failed[\s\S]*InvalidClientTokenId/)
    t.match(await lines.locator('tr[data-profile="prod"]').innerText(), /aws\/prod\s+succeeded\s+1\s/)
    t.equal(await lines.locator('tbody tr').first().getAttribute('data-profile'), 'broken', 'failed first')
    t.equal(await page.locator('#row-count').innerText(), '2 rows')
    const headers = await page.locator('.results-table thead th').allInnerTexts()
    t.same(headers, ['#', 'account', '_profile'])
    const cells = await page
      .locator('.results-table tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].slice(1).map((c) => c.textContent)),
      )
    t.same(
      cells.sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        [awsAccountFor(keys.prod!), 'prod'],
        [awsAccountFor(keys.staging!), 'staging'],
      ],
      'each profile’s row carries the account of its own key',
    )
    const html = await page.content()
    for (const [profile, key] of Object.entries(keys)) {
      t.notMatch(html, key, `no key of ${profile} on the page`)
    }
    await screenshot('ide-run-across-result')

    // The download has every row of the union.
    const csvHref = await page.locator('a', { hasText: 'Download CSV' }).getAttribute('href')
    const csv = await page.evaluate(async (href) => (await fetch(href!)).text(), csvHref)
    t.match(csv, /^account,_profile\r?\n/)
    t.equal(csv.trim().split(/\r?\n/).length, 3)

    // Unticked again: Run is a normal single-profile run.
    t.notOk(await page.locator('#run-across').getAttribute('open'), 'the panel closed when the run started')
    await page.locator('#run-across-toggle').click()
    await page.getByRole('checkbox', { name: 'All profiles of aws' }).uncheck()
    t.match(await page.locator('#run-button').innerText(), /^Run\s*$/)
    await page.getByRole('combobox', { name: 'Profile for aws' }).selectOption('aws/staging')
    await page.locator('#run-button').click()
    await page.locator('#across-summary').waitFor({ state: 'detached' })
    await page.locator('#row-count').getByText('1 row').waitFor()
    t.same(await page.locator('.results-table thead th').allInnerTexts(), ['#', 'account'])
    t.same(pageErrors, [])
  },
)

t.test('Run across refuses bad input with a 4xx in the results area, nothing run', async (t) => {
  const { app, baseUrl, page } = await startBrowserApp(t)
  await app.db.saveProviderConfig(
    {
      provider: 'aws',
      profile: 'prod',
      env_var_name: 'AWS_ACCESS_KEY_ID',
      secret_scope: 's',
      secret_key: 'k',
    },
    'dev@example.com',
  )
  await page.goto(`${baseUrl}/`)
  const post = async (fields: [string, string][]) =>
    (await page.evaluate(`(async () => {
      const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''
      const res = await fetch('/run/across', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': token, 'hx-request': 'true' },
        body: new URLSearchParams(${JSON.stringify(fields)}),
      })
      return { status: res.status, text: await res.text() }
    })()`)) as { status: number; text: string }
  const aws = 'SELECT account FROM aws.sts.caller_identity'
  for (const [fields, status, message] of [
    [[['query_text', aws]], 400, /tick at least one profile/],
    [
      [
        ['query_text', aws],
        ['across', 'aws/nope'],
      ],
      400,
      /Provider aws has no profile &quot;nope&quot;|no profile "nope"/,
    ],
    [
      [
        ['query_text', aws],
        ['across', 'aws/prod'],
        ['across', 'github/default'],
      ],
      400,
      /one provider, not aws and github/,
    ],
    [
      [
        ['query_text', aws],
        ['across', 'aws/*'],
      ],
      400,
      /one by one/,
    ],
    [
      [
        ['query_text', 'SELECT name FROM github.repos.repos'],
        ['across', 'aws/prod'],
      ],
      400,
      /does not use aws/,
    ],
    [
      [
        ['query_text', 'SHOW PROVIDERS'],
        ['across', 'aws/prod'],
      ],
      400,
      /SELECT statements only/,
    ],
    [
      [
        ['query_text', ' '],
        ['across', 'aws/prod'],
      ],
      400,
      /editor is empty/,
    ],
  ] as const) {
    const r = await post(fields as unknown as [string, string][])
    t.equal(r.status, status, JSON.stringify(fields))
    t.match(r.text, message)
    t.match(r.text, /id="results"/, 'rendered in the results area')
  }
})
