// Acceptance: three identities in the browser (the proxy's X-Forwarded-Email, trusted in tests). The
// viewer runs a SELECT but sees no Save and no mapping form, and is refused when posting a mapping
// directly; the editor schedules but cannot touch mappings; the admin sees all of it on the Audit page.
import t from 'tap'
import { ProfilePermissionStore } from '../src/db/audit.js'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { addTemplateJob, startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const SELECT_REPOS = "SELECT id, name, stargazers_count FROM github.repos.repos WHERE org = 'stackql'"
const VIEWER = 'viewer@example.com'
const EDITOR = 'editor@example.com'
const ADMIN = 'admin@example.com'

t.test('viewer, editor and admin each see and may do what their role allows', { skip }, async (t) => {
  const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => workspace.close())
  workspace.state.putSecret('team', 'gh', 'ghp_not_needed_by_the_standin')
  addTemplateJob(workspace)
  const {
    app,
    browser,
    baseUrl,
    page: first,
  } = await startBrowserApp(t, {
    env: {
      APP_ADMINS: ADMIN,
      APP_EDITORS: EDITOR,
      STACKQL_LOCAL_DEV: 'false',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-test',
    },
  })
  await first.close()
  await app.db.saveProviderConfig(
    { provider: 'github', env_var_name: 'GITHUB_TOKEN', secret_scope: 'team', secret_key: 'gh' },
    ADMIN,
  )
  await app.db.saveProviderConfig(
    {
      provider: 'github',
      profile: 'prod',
      env_var_name: 'GITHUB_TOKEN',
      secret_scope: 'team',
      secret_key: 'gh',
    },
    ADMIN,
  )
  await new ProfilePermissionStore(app.db).add('github', 'prod', EDITOR, ADMIN)
  const query = await app.db.saveQuery(
    { name: 'GitHub repos', description: '', query_text: SELECT_REPOS, provider: 'github' },
    ADMIN,
  )
  const as = async (email: string) => {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      extraHTTPHeaders: { 'x-forwarded-email': email },
    })
    t.teardown(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    return page
  }
  /** A form POST from inside the page (its CSRF token), as a user bypassing the hidden controls. */
  const post = (page: Awaited<ReturnType<typeof as>>, path: string, form: string) =>
    page.evaluate<{ status: number; body: string }>(`(async () => {
      const token = document.querySelector('meta[name="csrf-token"]').getAttribute('content')
      const res = await fetch(${JSON.stringify(path)}, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': token, accept: 'application/json' },
        body: ${JSON.stringify(form)},
      })
      return { status: res.status, body: await res.text() }
    })()`)
  const postMapping = (page: Awaited<ReturnType<typeof as>>) =>
    post(
      page,
      '/providers',
      'provider=github&env_var_name=GITHUB_TOKEN&secret_scope=stackql-inventory&secret_key=gh',
    )

  await t.test(
    'the viewer runs a SELECT, sees no Save and no mapping form, and is refused a mapping',
    async (t) => {
      const page = await as(VIEWER)
      await page.goto(`${baseUrl}/`)
      await page.locator('#editor[data-state="ready"]').waitFor()
      await page.evaluate(`window.stackqlEditor.setValue(${JSON.stringify(SELECT_REPOS)})`)
      await page.getByRole('button', { name: 'Run', exact: true }).click()
      await page.locator('#results tbody tr').first().waitFor()
      t.ok((await page.locator('#results tbody tr').count()) > 0, 'the SELECT returned rows')
      t.equal(await page.locator('#save-query').isVisible(), false, 'no Save Query button')
      const save = await post(
        page,
        '/queries',
        `name=mine&provider=github&query_text=${encodeURIComponent(SELECT_REPOS)}`,
      )
      t.equal(save.status, 403, 'saving directly is refused')
      t.match(save.body, /You need the editor role to save queries; your role is viewer/)
      t.equal((await app.db.getQueries()).length, 1, 'no query was saved')
      const picker = page.locator('#profile-github')
      await picker.waitFor()
      t.same(
        await picker.locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
        ['github/default'],
        'the IDE profile picker does not offer the restricted github/prod',
      )
      await page.screenshot({ path: 'test-artifacts/screenshots/access-viewer-ide.png' })
      const restricted = await post(
        page,
        '/run',
        `query_text=${encodeURIComponent(SELECT_REPOS)}&profile=github/prod`,
      )
      t.equal(restricted.status, 403, 'running with it directly is refused')
      t.match(restricted.body, /Profile github\/prod is restricted/)
      t.equal(
        await page.locator('#saved-queries .delete-query').first().isVisible(),
        false,
        'no Delete in the library',
      )
      await page.goto(`${baseUrl}/providers`)
      t.equal(
        await page.getByRole('button', { name: 'Add Mapping' }).isVisible(),
        false,
        'no Add Mapping button',
      )
      const direct = await postMapping(page)
      t.equal(direct.status, 403)
      t.match(direct.body, /You need the admin role to add provider mappings; your role is viewer/)
      t.equal((await app.db.getProviderConfig()).length, 2, 'no mapping was saved')
      t.equal(
        await page.locator('#provider-mappings .danger').first().isVisible(),
        false,
        'no Delete on mappings',
      )
      t.equal(await page.locator('.variable-form').first().isVisible(), false, 'no variable form')
      t.ok(
        await page.getByText('restricted: not yours to use').isVisible(),
        'github/prod shows it is restricted instead of its Test buttons',
      )
      t.equal(await page.getByRole('button', { name: 'Test profile github/prod' }).count(), 0)
      await page.screenshot({
        path: 'test-artifacts/screenshots/access-viewer-providers.png',
        fullPage: true,
      })
      t.equal(await page.locator('a[href="/audit"]').count(), 0, 'no Audit entry in the navigation')
    },
  )

  await t.test('the editor creates a schedule but cannot touch mappings', async (t) => {
    const page = await as(EDITOR)
    await page.goto(`${baseUrl}/schedules`)
    await page.getByRole('button', { name: 'New Schedule' }).click()
    await page.selectOption('#new-schedule-query', String(query.id))
    await page.fill('#new-schedule-cron', '0 6 * * *')
    await page.fill('#new-schedule-table', 'github_repos')
    t.same(
      await page
        .locator('#new-schedule-profiles option')
        .evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
      ['github/*', 'github/default', 'github/prod'],
      'the editor is listed on github/prod: the dialog offers it',
    )
    await page.selectOption('#new-schedule-profiles', 'github/default')
    await page.getByRole('button', { name: 'Create schedule' }).click()
    const row = page.locator('tr.schedule-row', { hasText: 'stackql_inventory.github_repos' })
    await row.waitFor()
    t.ok(await row.getByRole('button', { name: /^Pause/ }).isVisible(), 'their own schedule can be paused')
    const [schedule] = await app.db.getSchedules()
    t.equal(schedule!.created_by, EDITOR, 'the schedule belongs to the editor')
    await page.goto(`${baseUrl}/providers`)
    t.equal(
      await page.getByRole('button', { name: 'Add Mapping' }).isVisible(),
      false,
      'no Add Mapping button',
    )
    t.equal(
      await page.locator('#provider-mappings .danger').first().isVisible(),
      false,
      'no Delete on mappings',
    )
    t.ok(
      await page.getByRole('button', { name: 'Test profile github/prod' }).isVisible(),
      'the editor is listed on github/prod: its Test is offered',
    )
    const direct = await postMapping(page)
    t.equal(direct.status, 403)
    t.match(direct.body, /your role is editor/)
    t.equal((await app.db.getProviderConfig()).length, 2, 'no mapping was saved')
  })

  await t.test('the admin sees the audit trail of all of it', async (t) => {
    const page = await as(ADMIN)
    await page.goto(`${baseUrl}/`)
    await page.getByRole('link', { name: 'Audit' }).click()
    await page.locator('#audit-table').waitFor()
    const rows = page.locator('tr.audit-row')
    const seen = await rows.evaluateAll((trs) =>
      trs.map(
        (tr) =>
          `${tr.children[1]!.textContent} ${tr.getAttribute('data-action')} ${tr.getAttribute('data-outcome')}`,
      ),
    )
    for (const want of [
      `${VIEWER} query.run ok`,
      `${VIEWER} mapping.create denied`,
      `${EDITOR} schedule.create ok`,
      `${EDITOR} mapping.create denied`,
      `${VIEWER} query.save denied`,
      `${VIEWER} query.run denied`,
    ]) {
      t.ok(seen.includes(want), `the audit shows: ${want}`)
    }
    await page.selectOption('select[name="outcome"]', 'denied')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.locator('tr.audit-row[data-outcome="ok"]').first().waitFor({ state: 'detached' })
    t.equal(await page.locator('tr.audit-row').count(), 4, 'filtered to the four denied attempts')
    await page.goto(`${baseUrl}/audit`)
    await page.screenshot({ path: 'test-artifacts/screenshots/audit-page.png', fullPage: true })
  })
})

t.test('with no admin configured every page shows that access control is off', { skip }, async (t) => {
  const { page, baseUrl, screenshot } = await startBrowserApp(t)
  await page.goto(`${baseUrl}/schedules`)
  await page.locator('#access-banner').getByText('Access control is off.').waitFor()
  t.ok(await page.getByRole('button', { name: 'New Schedule' }).isVisible(), 'everything stays usable')
  await screenshot('access-off-banner')
})
