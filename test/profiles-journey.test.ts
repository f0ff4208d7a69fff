// Acceptance journey for profiles, in a browser against a Databricks workspace stand-in: map two aws
// profiles (different canary credentials) on the Providers page, save one query in the IDE, schedule
// it across both profiles, Run now (the test runs the job as a job cluster would, with the real
// runner) -> the table has both profiles' rows with _profile; expire one profile's secret, Run now
// -> PARTIAL (amber) and that profile's previous rows are still there.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { runStoredJob } from './helpers/job-executor.js'
import { awsAccountFor, STANDIN, waitUntil } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const SCOPE = 'stackql-inventory'
const TABLE = 'aws_accounts'
const QUERY = 'SELECT account FROM aws.sts.caller_identity'

t.test(
  'profiles journey: two aws accounts in one table, a partial run keeps the failed one’s rows',
  { skip },
  async (t) => {
    const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => workspace.close())
    const ws = workspace.state
    const keys = { prod: `AKIA${randomUUID()}`, staging: `AKIA${randomUUID()}` }
    for (const [p, key] of Object.entries(keys)) {
      ws.putSecret(SCOPE, `aws-${p}-key-id`, key)
      ws.putSecret(SCOPE, `aws-${p}-secret`, `canary-${randomUUID()}`)
    }
    const { app, page, baseUrl, dbUrl, screenshot, pageErrors } = await startBrowserApp(t, {
      env: { STACKQL_LOCAL_DEV: 'false', DATABRICKS_HOST: workspace.url, DATABRICKS_TOKEN: 'dapi-test' },
      timeoutMs: 30_000,
    })
    const clusterDir = mkdtempSync(join(tmpdir(), 'profiles-journey-cluster-'))
    t.teardown(() => rmSync(clusterDir, { recursive: true, force: true }))
    ws.addJob({
      name: 'stackql-inventory-template',
      job_clusters: [
        {
          job_cluster_key: 'runner',
          new_cluster: {
            spark_version: '15.4.x-scala2.12',
            node_type_id: 'i3.xlarge',
            num_workers: 0,
            spark_env_vars: {
              DATABASE_URL: dbUrl,
              STACKQL_BIN: STANDIN,
              STACKQL_DOWNLOAD_DIR: clusterDir,
              LOG_LEVEL: 'warn',
            },
          },
        },
      ],
      tasks: [
        {
          task_key: 'run_query',
          job_cluster_key: 'runner',
          spark_python_task: { python_file: '/Workspace/stackql/jobs/launcher.py', parameters: [] },
        },
      ],
    })

    // 1. Providers: two profiles of aws, two mappings each.
    await page.goto(`${baseUrl}/providers`)
    const dialog = page.locator('#add-mapping-dialog')
    for (const profile of ['prod', 'staging']) {
      for (const [envVar, key] of [
        ['AWS_ACCESS_KEY_ID', `aws-${profile}-key-id`],
        ['AWS_SECRET_ACCESS_KEY', `aws-${profile}-secret`],
      ] as const) {
        await page.locator('.toolbar').getByRole('button', { name: 'Add Mapping' }).click()
        await dialog.waitFor({ state: 'visible' })
        await page.getByLabel('Provider', { exact: true }).fill('aws')
        await page.getByLabel('Profile', { exact: true }).fill(profile)
        await page.getByLabel('Environment variable').fill(envVar)
        await page.getByLabel('Secret key').fill(key)
        await dialog.getByRole('button', { name: 'Save' }).click()
        await dialog.waitFor({ state: 'hidden' })
      }
    }
    await page.locator('#profile-aws--staging').waitFor()
    t.equal(await page.locator('#provider-aws article.profile').count(), 2, 'aws/prod and aws/staging')
    await screenshot('profiles-journey-01-providers')

    // 2. IDE: write and save the query.
    await page.goto(`${baseUrl}/`)
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.evaluate(`window.stackqlEditor.setValue(${JSON.stringify(QUERY)}, 1)`)
    await page.getByRole('button', { name: 'Save Query' }).click()
    const save = page.locator('#save-query-dialog')
    await save.waitFor({ state: 'visible' })
    await page.fill('#save-name', 'AWS accounts')
    await save.getByRole('button', { name: 'Save' }).click()
    await save.waitFor({ state: 'hidden' })
    await page.locator('#saved-queries .library-name', { hasText: 'AWS accounts' }).waitFor()

    // 3. Schedules: New Schedule across both profiles.
    await page.goto(`${baseUrl}/schedules`)
    await page.getByRole('button', { name: 'New Schedule' }).click()
    const create = page.locator('#new-schedule-dialog')
    await create.waitFor({ state: 'visible' })
    const [query] = await app.db.getQueries()
    await page.selectOption('#new-schedule-query', String(query!.id))
    await page.fill('#new-schedule-cron', '0 6 * * *')
    await page.fill('#new-schedule-table', TABLE)
    await page.getByLabel('Run across profiles').selectOption(['aws/prod', 'aws/staging'])
    await page.getByRole('button', { name: 'Create schedule and job' }).click()
    await create.waitFor({ state: 'hidden' })
    const [schedule] = await app.db.getSchedules()
    t.same(schedule!.profiles, ['aws/prod', 'aws/staging'])
    const row = page.locator(`#schedule-${schedule!.id}`)
    await row.waitFor()
    await screenshot('profiles-journey-02-scheduled')

    const runNow = async (jobRunId: string) => {
      const before = ws.runs.size
      await row.getByRole('button', { name: /^Run .* now$/ }).click()
      t.ok(await waitUntil(() => ws.runs.size > before, 30_000), 'the workspace was asked to run the job')
      const runs = await runStoredJob(workspace, Number(schedule!.job_id), {
        baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: clusterDir },
        jobRunId,
      })
      const run = [...ws.runs.values()].at(-1)!
      ws.finishRun(run.run_id, runs.every((r) => r.code === 0) ? 'SUCCESS' : 'FAILED')
      return runs
    }
    const rows = async () =>
      [
        ...(await app.db.sql<{ account: string; _profile: string }[]>`
      select account::text, _profile from stackql_inventory.aws_accounts order by _profile`),
      ].map((r) => ({ ...r }))

    // 4. Run now: both profiles' rows.
    const first = await runNow('5001')
    t.same(
      first.map((r) => r.code),
      [0],
      'the single task ran both slices',
    )
    await page.locator(`#schedule-${schedule!.id}[data-status="SUCCESS"]`).waitFor({ timeout: 60_000 })
    t.same(await rows(), [
      { account: awsAccountFor(keys.prod), _profile: 'prod' },
      { account: awsAccountFor(keys.staging), _profile: 'staging' },
    ])
    await screenshot('profiles-journey-03-success')

    // 5. staging's secret expires (the key is rejected): Run now is PARTIAL, staging's rows stay.
    ws.putSecret(SCOPE, 'aws-staging-key-id', `INVALID${randomUUID()}`)
    const second = await runNow('5002')
    t.same(
      second.map((r) => r.code),
      [3],
      'the runner exits 3 for a partial run',
    )
    await page.locator(`#schedule-${schedule!.id}[data-status="PARTIAL"]`).waitFor({ timeout: 60_000 })
    t.equal(await row.locator('.status-label').textContent(), 'Partial')
    const slices = row.getByRole('list', { name: 'Profile slices of the last run' })
    t.match(await slices.textContent(), /aws\/staging[\s\S]*InvalidClientTokenId/)
    t.same(
      await rows(),
      [
        { account: awsAccountFor(keys.prod), _profile: 'prod' },
        { account: awsAccountFor(keys.staging), _profile: 'staging' },
      ],
      'staging’s previous row is still there',
    )
    t.match(
      await row.locator('.run-changes').textContent(),
      /Last run: \+0 −0 ~0/,
      'the row shows the partial run’s changes (prod’s row did not change), not the first run’s baseline',
    )
    await screenshot('profiles-journey-04-partial')

    // 6. The Edit dialog shows the profiles the schedule runs across, like the New dialog.
    await row.getByRole('button', { name: /^Edit/ }).click()
    const edit = page.getByRole('dialog', { name: 'Edit schedule' }).getByLabel('Run across profiles')
    await edit.waitFor()
    t.same(
      await edit.evaluate((el) =>
        [...(el as unknown as { selectedOptions: { value: string }[] }).selectedOptions].map((o) => o.value),
      ),
      ['aws/prod', 'aws/staging'],
    )
    await screenshot('profiles-journey-05-edit')
    t.same(pageErrors, [])
  },
)
