// The secret canary suite over two profiles of one provider (aws/prod, aws/staging, workspace
// secrets holding canary values): an IDE Run across both, a schedule across both (a for_each job)
// run task by task with the real runner. No value of either profile may appear in the app's log,
// any page or response, the job payloads, the runner's output, the database — nor in the other
// profile's StackQL process (the stand-in records every process's environment).
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { hasChromium } from './helpers/browser.js'
import { captureResponses, dumpDatabase, leaksIn, startCanaryApp } from './helpers/canary.js'
import { runStoredJob } from './helpers/job-executor.js'
import { awsAccountFor, STANDIN, writeExecutable } from './helpers/stackql.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const SCOPE = 'stackql-inventory'
const PROFILES = ['prod', 'staging'] as const

t.test(
  'two aws profiles’ canaries stay in their own StackQL process and nowhere else',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-profiles-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const envLog = join(dir, 'env.log')
    const bin = writeExecutable(
      join(dir, 'stackql'),
      `#!/bin/sh\nSTACKQL_STANDIN_ENV_LOG="${envLog}" exec "${process.execPath}" "${STANDIN}" "$@"\n`,
    )
    const canary = Object.fromEntries(
      PROFILES.map((p) => [p, { key: `AKIA${randomUUID()}`, secret: `canary-${randomUUID()}` }]),
    ) as Record<(typeof PROFILES)[number], { key: string; secret: string }>
    const canaries: Record<string, string> = {}
    for (const p of PROFILES) {
      canaries[`${p} access key id`] = canary[p].key
      canaries[`${p} secret access key`] = canary[p].secret
    }

    const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => workspace.close())
    const ws = workspace.state
    const app = await startCanaryApp(t, {
      env: {
        STACKQL_LOCAL_DEV: 'false',
        DATABRICKS_HOST: workspace.url,
        DATABRICKS_TOKEN: 'dapi-test',
        STACKQL_BIN: bin,
        FOR_EACH_THRESHOLD: '1',
      },
    })
    const clusterDir = join(dir, 'cluster')
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
              DATABASE_URL: app.dbUrl,
              STACKQL_BIN: bin,
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
    for (const p of PROFILES) {
      ws.putSecret(SCOPE, `aws-${p}-key-id`, canary[p].key)
      ws.putSecret(SCOPE, `aws-${p}-secret`, canary[p].secret)
      for (const [v, k] of [
        ['AWS_ACCESS_KEY_ID', `aws-${p}-key-id`],
        ['AWS_SECRET_ACCESS_KEY', `aws-${p}-secret`],
      ] as const) {
        await app.app.db.saveProviderConfig(
          { provider: 'aws', profile: p, env_var_name: v, secret_scope: SCOPE, secret_key: k },
          'dev@example.com',
        )
      }
    }
    const { page, baseUrl } = app
    const captured = await captureResponses(page)

    // 1. The IDE: Run across both profiles.
    await page.goto(`${baseUrl}/`)
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.evaluate(
      `window.stackqlEditor.setValue(${JSON.stringify('SELECT account FROM aws.sts.caller_identity')}, 1)`,
    )
    await page.getByText('Run across…').click()
    await page.getByRole('checkbox', { name: 'All profiles of aws' }).check()
    await page.locator('#run-button').click()
    await page.locator('#across-summary').waitFor()
    t.match(await page.locator('#across-summary').innerText(), /2 of 2 profiles of aws succeeded/)
    const pageText = await page.content()
    for (const p of PROFILES)
      t.match(pageText, awsAccountFor(canary[p].key), `control: ${p}'s account is shown`)

    // 2. A schedule across both: a for_each job, run task by task with the real runner.
    const query = await app.app.db.saveQuery(
      {
        name: 'accounts',
        description: '',
        query_text: 'SELECT account FROM aws.sts.caller_identity',
        provider: 'aws',
      },
      'dev@example.com',
    )
    const schedule = await app.app.schedules.create({
      query_id: query.id,
      cron_expression: '0 6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'canary_accounts',
      profiles: PROFILES.map((p) => `aws/${p}`),
    })
    await page.goto(`${baseUrl}/schedules`)
    await page.locator(`#schedule-${schedule.id}`).waitFor()
    const runs = await runStoredJob(workspace, Number(schedule.job_id), {
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      jobRunId: '77001',
    })
    if (
      !t.same(
        runs.map((r) => r.code),
        [0, 0, 0],
        'both iterations and the finish task succeeded',
      )
    )
      t.comment(runs.map((r) => r.output).join('\n'))
    await page.goto(`${baseUrl}/schedules`)
    await page.locator(`#schedule-${schedule.id}`).waitFor()
    await captured.settle()

    // Every StackQL process saw at most one profile's values, and those in full.
    const processes = readFileSync(envLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid: number; argv: string[]; env: Record<string, string> })
    const withCredentials = processes.filter((p) => p.env.AWS_ACCESS_KEY_ID)
    t.ok(
      withCredentials.length >= 4,
      `control: the IDE and the job each ran both profiles (${withCredentials.length})`,
    )
    for (const proc of processes) {
      const seen = new Set(
        PROFILES.filter(
          (p) => leaksIn(JSON.stringify(proc.env), { k: canary[p].key, s: canary[p].secret }).length,
        ),
      )
      const statement = proc.argv[1]?.slice(0, 60)
      if (!proc.env.AWS_ACCESS_KEY_ID) {
        t.equal(seen.size, 0, `a process without credentials holds no canary (${statement})`)
        continue
      }
      t.equal(seen.size, 1, `process ${proc.pid} holds exactly one profile's values`)
      const [own] = [...seen]
      t.same(
        { key: proc.env.AWS_ACCESS_KEY_ID, secret: proc.env.AWS_SECRET_ACCESS_KEY },
        canary[own!],
        `process ${proc.pid} (${own}) got its own profile's credentials under the provider's names`,
      )
      t.notOk(
        Object.keys(proc.env).some((n) => n.startsWith('STACKQL_PROFILE__')),
        'no profile-qualified variable reaches a StackQL process',
      )
    }

    // Nowhere else.
    t.ok(app.logLines.length > 0, 'control: the log was captured')
    t.same(
      app.logLines.flatMap((l) => leaksIn(l, canaries)),
      [],
      'no app log line carries a canary',
    )
    const responses = captured.responses.map((r) => r.text).join('\n')
    t.match(responses, /across-summary/, 'control: the Run across response was captured')
    t.same(captured.unread, [], 'every response was read')
    t.same(leaksIn(responses, canaries), [], 'no page or response carries a canary')
    t.ok(
      ws.allPayloads().includes(`{{secrets/${SCOPE}/aws-staging-key-id}}`),
      'control: job payloads recorded',
    )
    t.same(leaksIn(ws.allPayloads(), canaries), [], 'no job payload carries a canary')
    const output = runs.map((r) => r.output).join('\n')
    t.ok(output.length > 0, 'control: the runner output was captured')
    t.same(leaksIn(output, canaries), [], "no line of the runner's output carries a canary")
    const dump = await dumpDatabase(app.dbUrl)
    for (const p of PROFILES)
      t.match(dump.text, awsAccountFor(canary[p].key), `control: ${p}'s row is in the database`)
    t.same(leaksIn(dump.text, canaries), [], 'no database row carries a canary')
    t.same(leaksIn(JSON.stringify(process.env), canaries), [], "no canary is in the server's process.env")
  },
)
