import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'

t.test('the Explorer and the check before run, as a person uses them', { skip }, async (t) => {
  // AWS credentials come from a stand-in workspace's secrets, as in production.
  const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => workspace.close())
  workspace.state.putSecret('team', 'aws-key', 'AKIASTANDIN000000001')
  workspace.state.putSecret('team', 'aws-secret', 'standin-secret-value')
  const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
    env: { STACKQL_LOCAL_DEV: 'false', DATABRICKS_HOST: workspace.url, DATABRICKS_TOKEN: 'dapi-test' },
  })
  for (const [env_var_name, secret_key] of [
    ['AWS_ACCESS_KEY_ID', 'aws-key'],
    ['AWS_SECRET_ACCESS_KEY', 'aws-secret'],
  ] as const) {
    await app.db.saveProviderConfig(
      { provider: 'aws', env_var_name, secret_scope: 'team', secret_key },
      'dev@example.com',
    )
  }
  const runs: string[] = []
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/run') runs.push(req.url())
  })
  const editorText = () => page.evaluate<string>('window.stackqlEditor.getValue()')
  const selectedText = () => page.evaluate<string>('window.stackqlEditor.getSelectedText()')

  await page.goto(baseUrl)
  await page.locator('#editor[data-state="ready"]').waitFor()

  await t.test('open aws → ec2 → instances with the keyboard: columns and the required region', async (t) => {
    await page.getByRole('tab', { name: 'Explorer' }).click()
    await page.getByRole('button', { name: 'Pull aws', exact: true }).click()
    const aws = page.getByRole('treeitem', { name: /^aws(\s|$)/ })
    await aws.waitFor()
    await screenshot('explorer-pulled')
    t.equal(await aws.getAttribute('aria-expanded'), 'true', 'the pulled provider opens')
    const ec2 = page.getByRole('treeitem', { name: /^ec2/ })
    await ec2.waitFor()
    await aws.focus()
    await page.keyboard.press('ArrowLeft')
    t.equal(await aws.getAttribute('aria-expanded'), 'false', 'ArrowLeft closes it')
    t.equal(await ec2.isVisible(), false)
    await page.keyboard.press('Enter')
    t.equal(await aws.getAttribute('aria-expanded'), 'true', 'Enter opens it again')
    await page.keyboard.press('ArrowDown')
    t.equal(
      await page.evaluate<string>("document.activeElement?.querySelector('.tree-name')?.textContent"),
      'ec2',
    )
    await page.keyboard.press('ArrowRight')
    const instances = page.getByRole('treeitem', { name: /^instances/ })
    await instances.waitFor()
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    const table = page.locator('.resource-columns')
    await table.waitFor()
    t.match(await table.locator('caption').textContent(), /68 columns of aws\.ec2\.instances/)
    const region = table.locator('tr.required-param')
    t.match(await region.textContent(), /region.*required/s, 'region is marked as required')
    t.match(await page.locator('.resource-methods').textContent(), /describe_instances.*requires region/s)
    await screenshot('explorer-instances')
  })

  await t.test('Insert SELECT, fill the placeholder, Run: rows', async (t) => {
    await page.getByRole('button', { name: 'Insert SELECT' }).click()
    t.match(
      await editorText(),
      /^SELECT\n {2}AmiLaunchIndex,[\s\S]*FROM aws\.ec2\.instances\nWHERE region = '<region>'/,
    )
    t.equal(await selectedText(), '<region>', 'the cursor is on the placeholder')
    // Credentials follow the query: the profile picker lists the provider the template names.
    await page.locator('#profile-aws').waitFor()
    t.equal(await page.locator('#profile-aws').inputValue(), 'aws/default')
    await page.keyboard.type('us-east-1')
    t.match(await editorText(), /WHERE region = 'us-east-1'\n$/)
    await page.keyboard.press('Control+Enter')
    await page.locator('#row-count').waitFor()
    t.equal(await page.locator('#row-count').textContent(), '3 rows')
    t.equal(await page.locator('#check-warnings').count(), 0, 'no warnings for a correct query')
    await screenshot('explorer-insert-run')
  })

  await t.test('a misspelt column: a warning naming the real one before anything runs', async (t) => {
    const before = runs.length
    await page.locator('#editor textarea').focus()
    await page.keyboard.press('Control+A')
    await page.keyboard.press('Delete')
    await page.keyboard.type(
      "SELECT instance_id, instance_typ FROM aws.ec2.instances WHERE region = 'us-east-1'",
    )
    await page.keyboard.press('Control+Enter')
    const warnings = page.locator('#check-warnings')
    await warnings.waitFor()
    t.match(
      await warnings.textContent(),
      /Unknown column "instance_typ".*did you mean "instance_type" or "InstanceType"\?/s,
    )
    t.equal(runs.length, before, 'nothing was sent to /run')
    t.equal(await page.locator('.ace_editor .check-marker').count(), 1, 'the word is marked in the editor')
    t.equal(await page.locator('.ace_gutter-cell.ace_warning').count(), 1, 'a gutter annotation')
    await screenshot('explorer-check-warning')
    await page.getByRole('button', { name: 'Run anyway' }).click()
    await page.locator('#results', { hasText: 'not found' }).waitFor()
    t.equal(runs.length, before + 1, 'Run anyway runs it')
    t.match(await page.locator('#results').textContent(), /column 'instance_typ' not found/)
  })

  t.same(pageErrors, [], 'no errors in the page')
})
