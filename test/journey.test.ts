// The whole journey a person makes, in Chromium against the real app on a real (empty) PostgreSQL
// database, with every outside system a stand-in speaking its real protocol: the StackQL executable,
// a Databricks workspace (secrets, Jobs 2.2) and the Anthropic API. Each step goes through the UI:
// add provider mappings -> ask the assistant for a query and insert it -> run it (Ctrl+Enter) ->
// save it -> schedule it (a Databricks job with {{secrets/..}} references) -> Run now -> the
// inventory shows the table -> a dashboard author's <table>_mv is refreshed -> pause -> delete.
// Screenshots of each page after its step: test-artifacts/screenshots/journey-*.png.
//
// "Run now" with a workspace only asks Databricks to start the job (jobs/run-now); the stand-in
// executes nothing. To get the table the way production does, the test then plays the job cluster:
// it takes the job definition the app sent (the recorded jobs/create payload), resolves its
// {{secrets/scope/key}} references from the workspace's secrets into the environment, as the
// cluster does with spark_env_vars, runs the task's parameters through the runner CLI with
// `--trigger databricks` (what jobs/launcher.py adds), and reports the run's end to the stand-in.
// This is more faithful than switching to a second app without a workspace (local runner): the
// payload the app built is exactly what runs, so a wrong parameter or reference fails the journey.
//
// Secret canary: the provider credentials and the Anthropic key are unique values held only by the
// stand-in workspace. After the journey they must appear in no log line (the app's own logger
// options at level trace, and the runner's output), no HTTP response the browser received, no
// database row, no request sent to the workspace, no error shown, no file the app wrote, nor in the
// server's process.env — while positive controls prove they did reach StackQL and Anthropic.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { projectRoot } from '../src/paths.js'
import { hasChromium, SCREENSHOTS } from './helpers/browser.js'
import {
  captureResponses,
  dumpDatabase,
  filesContaining,
  leaksIn,
  listFiles,
  newEntries,
  startCanaryApp,
} from './helpers/canary.js'
import { runnerArgv } from './helpers/runner-process.js'
import { awsAccountFor, STANDIN, waitUntil } from './helpers/stackql.js'
import { startAnthropicStandin } from './standins/anthropic.js'
import { type StandinState, startDatabricksStandin } from './standins/databricks/index.js'

t.setTimeout(300_000)

const SCOPE = 'stackql-inventory'
const QUERY = 'SELECT account, arn FROM aws.sts.caller_identity'
const QUERY_NAME = 'AWS caller identity'
const TABLE = 'aws_caller_identity'
const ANSWER = [
  'Your credentials belong to the account this query returns:',
  '',
  '```sql',
  QUERY,
  '```',
  '',
  'Run it with the aws provider selected.',
].join('\n')

interface RunnerResult {
  code: number | null
  output: string
}

/**
 * What a Databricks job cluster does with the job the app created: environment from the cluster's
 * spark_env_vars with each {{secrets/scope/key}} replaced by the secret's value, then the task's
 * python file (jobs/launcher.py) — here the runner CLI it launches — with the task parameters.
 */
async function runLikeAJobCluster(
  payload: {
    job_clusters?: { new_cluster: { spark_env_vars?: Record<string, string> } }[]
    tasks?: { spark_python_task?: { parameters?: string[] } }[]
  },
  workspace: StandinState,
): Promise<RunnerResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() }
  for (const [name, value] of Object.entries(payload.job_clusters?.[0]?.new_cluster.spark_env_vars ?? {})) {
    const ref = /^\{\{secrets\/([^/]+)\/([^/}]+)\}\}$/.exec(value)
    if (!ref) {
      env[name] = value
      continue
    }
    const secret = workspace.secrets.get(ref[1]!)?.get(ref[2]!)
    if (secret === undefined) return { code: null, output: `cluster: secret ${ref[1]}/${ref[2]} not found` }
    env[name] = secret
  }
  const params = [...(payload.tasks?.[0]?.spark_python_task?.parameters ?? [])]
  if (!params.includes('--trigger')) params.push('--trigger', 'databricks')
  const child = spawn(process.execPath, [...runnerArgv(), ...params], {
    env,
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (c) => {
    output += c
  })
  child.stderr.on('data', (c) => {
    output += c
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
  clearTimeout(timer)
  return { code, output }
}

/** Text of the error messages visible on the page (alerts, dialog errors, chat errors). */
function shownErrors(page: Page): Promise<string[]> {
  return page
    .locator('[role="alert"], .alert-error, .chat-error, .dialog-error, #error-message, .cron-error')
    .evaluateAll((els) =>
      els
        .filter(
          (e) =>
            (e as unknown as { offsetParent: unknown }).offsetParent !== null &&
            (e.textContent ?? '').trim() !== '',
        )
        .map((e) => (e.textContent ?? '').trim()),
    )
}

if (!hasChromium) {
  t.skip('Chromium is not installed (apt-get install -y chromium)', () => {})
} else {
  t.test('the whole journey in a browser, and the secrets never leave where they belong', async (t) => {
    const tmpBefore = new Set(readdirSync(tmpdir()))
    const envBefore = JSON.stringify(process.env)
    const canaries = {
      'AWS access key id': `canary-${randomUUID()}`,
      'AWS secret access key': `canary-${randomUUID()}`,
      'Anthropic API key': `canary-${randomUUID()}`,
    }
    const keyId = canaries['AWS access key id']
    const account = awsAccountFor(keyId)

    const api = await startAnthropicStandin({ apiKey: canaries['Anthropic API key'] })
    t.teardown(() => api.close())
    const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => workspace.close())
    const ws = workspace.state
    ws.putSecret(SCOPE, 'aws-access-key-id', keyId)
    ws.putSecret(SCOPE, 'aws-secret-access-key', canaries['AWS secret access key'])
    ws.putSecret(SCOPE, 'anthropic-api-key', canaries['Anthropic API key'])

    const app = await startCanaryApp(t, {
      env: {
        STACKQL_LOCAL_DEV: 'false',
        DATABRICKS_HOST: workspace.url,
        DATABRICKS_TOKEN: 'dapi-test',
        ANTHROPIC_BASE_URL: api.url,
        ANTHROPIC_MODEL: 'claude-test-model',
      },
    })
    const { page, baseUrl, pageErrors } = app
    // The job cluster's own disk (its StackQL download dir), searched for leaks like the app's.
    const clusterDir = mkdtempSync(join(tmpdir(), 'stackql-canary-cluster-'))
    t.teardown(() => rmSync(clusterDir, { recursive: true, force: true }))
    // The template job the bundle deploys: the runner on a job cluster whose spark_env_vars carry
    // the database and StackQL settings (the test database and the stand-in executable here).
    ws.addJob({
      name: 'stackql-inventory-template',
      schedule: { quartz_cron_expression: '0 0 0 * * ?', timezone_id: 'UTC', pause_status: 'PAUSED' },
      job_clusters: [
        {
          job_cluster_key: 'runner',
          new_cluster: {
            spark_version: '15.4.x-scala2.12',
            node_type_id: 'i3.xlarge',
            num_workers: 0,
            spark_env_vars: {
              DATABASE_URL: app.dbUrl,
              STACKQL_BIN: STANDIN,
              STACKQL_DOWNLOAD_DIR: clusterDir,
              LOG_LEVEL: 'trace',
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

    const captured = await captureResponses(page)
    const domSnapshots: string[] = []
    const errorsShown: string[] = []
    const runnerOutputs: string[] = []
    const downloads: string[] = []
    /** After each step: the page as the person sees it, its screenshot, and no error on it. */
    const finishStep = async (t: Test, name: string) => {
      domSnapshots.push(await page.content())
      const errors = await shownErrors(page)
      errorsShown.push(...errors)
      t.same(errors, [], 'no error message is shown')
      await app.screenshot(`journey-${name}`)
    }
    const go = async (path: string) => {
      await captured.settle()
      await page.goto(`${baseUrl}${path}`)
    }
    // Each step builds on the one before: after a failure the rest are skipped, not timed out.
    let failedStep = ''
    const step = (name: string, fn: (t: Test) => Promise<void>) =>
      t.test(name, { skip: failedStep ? `step "${failedStep}" failed` : false }, async (t) => {
        try {
          await fn(t)
        } catch (e) {
          failedStep = name
          throw e
        }
        if (!t.passing()) failedStep = name
      })
    const editorText = () => page.evaluate<string>('window.stackqlEditor.getValue()')

    await step('1. Providers: map the AWS credentials to workspace secrets', async (t) => {
      await go('/providers')
      await page.getByText('No provider mappings yet.').waitFor()
      const dialog = page.locator('#add-mapping-dialog')
      for (const [envVar, key] of [
        ['AWS_ACCESS_KEY_ID', 'aws-access-key-id'],
        ['AWS_SECRET_ACCESS_KEY', 'aws-secret-access-key'],
      ] as const) {
        await page.locator('.toolbar').getByRole('button', { name: 'Add Mapping' }).click()
        await dialog.waitFor({ state: 'visible' })
        await page.getByLabel('Provider', { exact: true }).fill('aws')
        await page.getByLabel('Environment variable').fill(envVar)
        t.equal(
          await page.getByLabel('Secret scope').inputValue(),
          SCOPE,
          'the configured scope is the default',
        )
        await page.getByLabel('Secret key').fill(key)
        await dialog.getByRole('button', { name: 'Save' }).click()
        await dialog.waitFor({ state: 'hidden' })
        await page.locator('#provider-mappings tbody tr', { hasText: envVar }).waitFor()
      }
      const rows = page.locator('#provider-mappings tbody tr')
      t.equal(await rows.count(), 2, 'both mappings are listed')
      const first = rows.filter({ hasText: 'AWS_ACCESS_KEY_ID' })
      await first.getByRole('button', { name: 'Test' }).click()
      await page.locator('[id^="mapping-test-"].pass').waitFor()
      t.match(
        await page.locator('[id^="mapping-test-"].pass').textContent(),
        /Pass: Secret stackql-inventory\/aws-access-key-id resolved/,
      )
      const saved = await app.app.db.getProviderConfig()
      t.same(
        saved.map((c) => [c.provider, c.env_var_name, c.secret_scope, c.secret_key]).sort(),
        [
          ['aws', 'AWS_ACCESS_KEY_ID', SCOPE, 'aws-access-key-id'],
          ['aws', 'AWS_SECRET_ACCESS_KEY', SCOPE, 'aws-secret-access-key'],
        ],
        'the database holds the references, the values stay in the workspace',
      )
      await finishStep(t, '01-providers')
    })

    await step('2. IDE: ask the assistant; its answer streams in; Insert into editor', async (t) => {
      api.script({ kind: 'text', text: ANSWER, tokenDelayMs: 80 })
      await go('/')
      await page.locator('#editor[data-state="ready"]').waitFor()
      await page.fill('#chat-input', 'Which AWS account do my credentials belong to?')
      await page.press('#chat-input', 'Enter')
      await page.locator('.chat-msg.chat-user', { hasText: 'Which AWS account' }).waitFor()
      // The answer's bubble while it still streams (it loses .streaming when the answer is complete).
      const streaming = page.locator('.chat-msg.streaming .chat-body', { hasText: 'credentials' })
      await streaming.waitFor({ timeout: 30_000 })
      const partial =
        (await streaming
          .first()
          .textContent({ timeout: 2_000 })
          .catch(() => '')) ?? ''
      t.match(partial, /credentials/, 'part of the answer shows while it streams')
      t.notMatch(partial, /Run it with the aws provider/, 'the answer shows token by token, before it ends')
      const insert = page.getByRole('button', { name: 'Insert into editor' }).last()
      await insert.waitFor()
      t.match(
        await page.locator('.chat-msg.chat-assistant').last().textContent(),
        /Run it with the aws provider selected/,
      )
      await insert.click()
      t.equal(await editorText(), QUERY, 'the SQL without its fences is in the editor')
      await finishStep(t, '02-assistant')
    })

    await step('3. IDE: Ctrl+Enter runs it with the mapped credentials: one row', async (t) => {
      await page.locator('#editor textarea').focus()
      await page.keyboard.press('Control+Enter')
      await page.locator('#row-count').waitFor({ timeout: 60_000 })
      t.equal(await page.locator('#row-count').textContent(), '1 row')
      t.equal(await page.locator('#results tbody tr').count(), 1)
      t.match(
        await page.locator('#results tbody').textContent(),
        account,
        'StackQL saw exactly the access key id from the workspace (the account derives from it)',
      )
      // The downloads are files the app hands out: the same row, no credential.
      for (const name of ['Download CSV', 'Download JSON']) {
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name }).click(),
        ])
        const text = readFileSync(await download.path(), 'utf8')
        t.match(text, account, `${name} holds the row`)
        downloads.push(text)
      }
      await finishStep(t, '03-results')
    })

    await step('4. IDE: Save Query names it and lists it in the sidebar', async (t) => {
      await page.getByRole('button', { name: 'Save Query' }).click()
      const dialog = page.locator('#save-query-dialog')
      await dialog.waitFor({ state: 'visible' })
      await page.fill('#save-name', QUERY_NAME)
      await page.fill('#save-description', 'The account the AWS credentials belong to')
      await dialog.getByRole('button', { name: 'Save' }).click()
      await dialog.waitFor({ state: 'hidden' })
      await page.locator('#saved-queries .library-name', { hasText: QUERY_NAME }).waitFor()
      const queries = await app.app.db.getQueries()
      t.match(queries, [{ name: QUERY_NAME, provider: 'aws', query_text: QUERY }])
      await finishStep(t, '04-saved')
    })

    let scheduleId = 0
    let jobId = 0
    await step('5. Schedules: New Schedule creates a Databricks job with secret references', async (t) => {
      await go('/schedules')
      await page.getByRole('button', { name: 'New Schedule' }).click()
      const dialog = page.locator('#new-schedule-dialog')
      await dialog.waitFor({ state: 'visible' })
      const [query] = await app.app.db.getQueries()
      await page.selectOption('#new-schedule-query', String(query!.id))
      await page.fill('#new-schedule-cron', '0 6 * * *')
      await page.locator('#cron-preview-new .cron-description', { hasText: 'At 06:00' }).waitFor()
      await page.fill('#new-schedule-table', TABLE)
      await page.getByRole('button', { name: 'Create schedule and job' }).click()
      await dialog.waitFor({ state: 'hidden', timeout: 30_000 })
      const [schedule] = await app.app.db.getSchedules()
      t.ok(schedule?.job_id, 'the schedule row holds its job id')
      scheduleId = schedule!.id
      jobId = Number(schedule!.job_id)
      const row = page.locator(`#schedule-${scheduleId}`)
      await row.waitFor()
      t.equal(
        await row.locator(`a[href="${workspace.url}/jobs/${jobId}"]`).count(),
        1,
        'the row links the job',
      )
      const job = ws.jobs.get(jobId)
      t.ok(job, 'the workspace has the job')
      const settings = job!.settings as {
        schedule: Record<string, string>
        job_clusters: { new_cluster: { spark_env_vars: Record<string, string> } }[]
        tasks: { spark_python_task: { parameters: string[] } }[]
      }
      t.same(settings.schedule, {
        quartz_cron_expression: '0 0 6 * * ?',
        timezone_id: 'UTC',
        pause_status: 'UNPAUSED',
      })
      t.match(settings.job_clusters[0]!.new_cluster.spark_env_vars, {
        AWS_ACCESS_KEY_ID: `{{secrets/${SCOPE}/aws-access-key-id}}`,
        AWS_SECRET_ACCESS_KEY: `{{secrets/${SCOPE}/aws-secret-access-key}}`,
      })
      t.same(settings.tasks[0]!.spark_python_task.parameters, [
        '--query-id',
        String(query!.id),
        '--target-schema',
        'stackql_inventory',
        '--target-table',
        TABLE,
        '--schedule-id',
        String(scheduleId),
      ])
      await finishStep(t, '05-scheduled')
    })

    await step(
      '6. Schedules: Run now starts the job; its run fills the table; the row turns green',
      async (t) => {
        const row = page.locator(`#schedule-${scheduleId}`)
        await row.getByRole('button', { name: /^Run .* now$/ }).click()
        t.ok(
          await waitUntil(() => [...ws.runs.values()].some((r) => r.job_id === jobId), 30_000),
          'the workspace was asked to run the job',
        )
        const run = [...ws.runs.values()].find((r) => r.job_id === jobId)!
        await page.locator(`#schedule-${scheduleId}[data-status="RUNNING"]`).waitFor()
        t.equal(
          await row.getByRole('link', { name: 'View the Databricks run' }).getAttribute('href'),
          run.run_page_url,
          "while it runs, the row links the workspace's run",
        )

        // The job cluster runs exactly what the app sent.
        const create = ws.requests.find((r) => r.method === 'POST' && r.path === '/api/2.2/jobs/create')
        const result = await runLikeAJobCluster(JSON.parse(create!.raw), ws)
        runnerOutputs.push(result.output)
        t.equal(result.code, 0, `the runner succeeded: ${result.output.split('\n').slice(-3).join(' | ')}`)
        t.match(result.output, `wrote 1 rows to stackql_inventory.${TABLE}`)
        ws.finishRun(run.run_id, result.code === 0 ? 'SUCCESS' : 'FAILED')

        await page.locator(`#schedule-${scheduleId}[data-status="SUCCESS"]`).waitFor({ timeout: 60_000 })
        t.match(await row.textContent(), /Succeeded/)
        const [written] = await app.app.db.sql<{ account: string | number }[]>`
        select account from stackql_inventory.aws_caller_identity`
        // The writer stores an integer string without leading zeros as bigint: compare the digits.
        t.equal(String(written?.account), account, 'the job cluster run saw the same credentials')
        await finishStep(t, '06-run')
      },
    )

    await step('7. Inventory: the table is listed with its row count and previews', async (t) => {
      await go('/inventory')
      const row = page.locator(`#inventory-row-${TABLE}`)
      await row.waitFor()
      t.equal((await row.locator('td.num').textContent())?.trim(), '1', 'one row')
      t.equal((await page.locator('[data-metric="tables"]').textContent())?.trim(), '1')
      await row.locator('td').nth(1).click()
      const detail = page.locator(`#inventory-detail[data-table="${TABLE}"]`)
      await detail.waitFor()
      t.equal(await detail.locator('table.preview tbody tr').count(), 1)
      t.match(await detail.locator('table.preview').textContent(), account)
      await finishStep(t, '07-inventory')
    })

    await step('8. Inventory: a dashboard author adds <table>_mv; Refresh fills it', async (t) => {
      const author = postgres(app.dbUrl, { max: 1, onnotice: () => {} })
      t.teardown(() => author.end())
      await author.unsafe(
        `create materialized view stackql_inventory.${TABLE}_mv as select account from stackql_inventory.${TABLE} with no data`,
      )
      await captured.settle()
      await page.reload()
      const refresh = page.locator(`#inventory-row-${TABLE}`).getByRole('button', { name: 'Refresh' })
      await refresh.waitFor()
      t.ok(await refresh.isEnabled(), 'the view is found and can be refreshed')
      await refresh.click()
      await page.locator(`#mv-status-${TABLE}`, { hasText: 'Refreshed at' }).waitFor()
      const [mv] = await author<{ populated: boolean }[]>`
        select ispopulated as populated from pg_matviews where matviewname = ${`${TABLE}_mv`}`
      t.equal(mv?.populated, true, 'the view was refreshed')
      const [n] = await author<
        { n: number }[]
      >`select count(*)::int as n from stackql_inventory.aws_caller_identity_mv`
      t.equal(n?.n, 1)
      await finishStep(t, '08-refreshed')
    })

    await step('9. Schedules: Pause pauses the Databricks job', async (t) => {
      await go('/schedules')
      const row = page.locator(`#schedule-${scheduleId}`)
      await row.getByRole('button', { name: /^Pause/ }).click()
      await row.locator('.badge.off', { hasText: 'Paused' }).waitFor()
      const schedule = ws.jobs.get(jobId)?.settings.schedule as { pause_status?: string } | undefined
      t.equal(schedule?.pause_status, 'PAUSED', 'the job is paused in the workspace')
      t.equal((await app.app.db.getSchedule(scheduleId))?.is_active, false)
      await finishStep(t, '09-paused')
    })

    await step('10. Schedules: Delete removes the job and the row', async (t) => {
      const row = page.locator(`#schedule-${scheduleId}`)
      await row.getByRole('button', { name: /^Delete/ }).click()
      await page.locator('#delete-schedule-body').getByText('Delete the schedule that writes').waitFor()
      await page.getByRole('button', { name: 'Delete schedule' }).click()
      await page.locator('#delete-schedule-dialog').waitFor({ state: 'hidden' })
      await row.waitFor({ state: 'detached' })
      t.notOk(ws.jobs.has(jobId), 'the job is deleted in the workspace')
      t.same(await app.app.db.getSchedules(), [], 'the schedule row is gone')
      await page.getByText('No schedules yet.').waitFor()
      t.ok(ws.jobs.size === 1, 'only the template job is left in the workspace')
      await finishStep(t, '10-deleted')
    })

    await t.test('the canary values appear nowhere they must not', async (t) => {
      await captured.settle()
      t.same(captured.unread, [], 'every text response the browser received was read')
      t.ok(
        captured.responses.some(
          (r) => r.contentType.startsWith('text/event-stream') && r.text.includes('credentials'),
        ),
        'control: the streamed chat answer was captured',
      )
      t.ok(
        captured.responses.some((r) => r.text.includes(account)),
        'control: the results page with the account was captured',
      )
      const responseLeaks = captured.responses.flatMap((r) =>
        leaksIn(r.text, canaries).map((what) => `${what} in ${r.status} ${r.url}`),
      )
      t.same(responseLeaks, [], 'no HTTP response carries a canary')
      t.same(leaksIn(domSnapshots.join('\n'), canaries), [], 'no page the person saw shows a canary')
      t.same(leaksIn(downloads.join('\n'), canaries), [], 'no downloaded result carries a canary')
      t.same(leaksIn(errorsShown.join('\n'), canaries), [], 'no error message shown carries a canary')
      t.same(leaksIn(pageErrors.join('\n'), canaries), [], 'no console error carries a canary')

      t.ok(app.logLines.length > 0, 'control: the log was captured')
      t.ok(
        app.logLines.some((l) => l.includes('"schedule created"')),
        'control: the log holds the journey',
      )
      const logLeaks = app.logLines.flatMap((l) => leaksIn(l, canaries))
      t.same(logLeaks, [], 'no app log line carries a canary')
      t.ok(runnerOutputs.join('').length > 0, 'control: the runner output was captured')
      t.same(leaksIn(runnerOutputs.join('\n'), canaries), [], "no line of the job run's log carries a canary")

      const dump = await dumpDatabase(app.dbUrl)
      t.ok(dump.tables.includes(`stackql_inventory.${TABLE}`), 'control: the dump covers the inventory')
      t.match(dump.text, account, 'control: the dump holds the rows')
      // The audit log records every run, Test and mapping change with its request fields: a leak there counts too.
      t.match(dump.text, /^stackql_app\.audit: .*query\.run/m, 'control: the dump holds the audit trail')
      t.match(dump.text, /^stackql_app\.audit: .*mapping\.create/m, 'control: including the mapping changes')
      t.same(leaksIn(dump.text, canaries), [], 'no database row carries a canary')

      t.ok(ws.allPayloads().includes(`{{secrets/${SCOPE}/aws-access-key-id}}`), 'control: payloads recorded')
      t.same(leaksIn(ws.allPayloads(), canaries), [], 'no request to the workspace carries a canary')

      const files = [
        ...listFiles([app.downloadDir, app.dataDir, clusterDir, join(projectRoot, 'test-artifacts')]),
        // Anything else that appeared in the temp folder while the journey ran.
        ...listFiles(newEntries(tmpdir(), tmpBefore)),
      ]
      t.ok(
        files.some((f) => f.startsWith(app.downloadDir) && f.endsWith('provider.json')),
        'control: the files the app wrote (the pulled provider) are searched',
      )
      t.ok(
        files.some((f) => f.startsWith(SCREENSHOTS)),
        'control: the screenshots folder is searched',
      )
      t.same(filesContaining(files, Object.values(canaries)), [], 'no file the app wrote carries a canary')

      t.equal(JSON.stringify(process.env), envBefore, "the server's process.env is unchanged")
      t.same(leaksIn(JSON.stringify(process.env), canaries), [], "no canary is in the server's process.env")
      t.same(pageErrors, [], 'no script errors on the page')
    })

    await t.test('the canary values did reach where they must (the test can fail)', async (t) => {
      const sent = api.messageRequests()
      t.ok(sent.length > 0, 'the assistant was asked')
      const key = canaries['Anthropic API key']
      t.ok(
        sent.every((r) => r.headers['x-api-key'] === key || r.headers.authorization === `Bearer ${key}`),
        'the Anthropic stand-in received the key from the workspace in its auth header',
      )
      t.same(
        leaksIn(sent.map((r) => r.rawBody).join('\n'), canaries),
        [],
        'and only there: no canary (nor an AWS credential) is in what the assistant was sent',
      )
      const awsOnly = Object.fromEntries(Object.entries(canaries).filter(([k]) => k.startsWith('AWS')))
      t.same(
        leaksIn(sent.map((r) => JSON.stringify(r.headers)).join('\n'), awsOnly),
        [],
        'no AWS credential is in the headers sent to Anthropic',
      )
      // The account StackQL answered with derives from the access key id the workspace holds (in the
      // IDE run and in the job cluster run): a different or missing key gives another or none.
      t.not(account, awsAccountFor(`${keyId}-other`))
      t.ok(leaksIn(`x ${keyId} y`, canaries).length === 1, 'the leak search finds a canary where it is')
    })
  })
}
