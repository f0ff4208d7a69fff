import t from 'tap'
import type { Query } from '../src/models.js'
import { barChart } from '../src/render/sparkline.js'
import { buildTestApp, type TestApp } from './helpers/app.js'
import { addTemplateJob, type Standin, startDatabricksStandin } from './standins/databricks/index.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

const TEMPLATE = 'stackql-inventory-template'
const SELECT_REPOS = "SELECT id, name FROM github.repos.repos WHERE org = 'stackql'"

async function workspaceApp(
  t: Teardown,
  opts: { template?: boolean } = {},
): Promise<TestApp & { standin: Standin }> {
  const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => standin.close())
  if (opts.template !== false) addTemplateJob(standin, { tags: { team: 'platform' } })
  const built = await buildTestApp(t, {
    env: { DATABRICKS_HOST: standin.url, DATABRICKS_TOKEN: 'dapi-test', STACKQL_LOCAL_DEV: 'false' },
  })
  await built.session.get('/schedules')
  return { ...built, standin }
}

async function localApp(t: Teardown): Promise<TestApp> {
  const built = await buildTestApp(t)
  await built.session.get('/schedules')
  return built
}

function saveQuery(app: TestApp['app'], over: Partial<Query> = {}): Promise<Query> {
  return app.db.saveQuery(
    {
      name: over.name ?? 'GitHub repos',
      description: '',
      query_text: over.query_text ?? SELECT_REPOS,
      provider: over.provider ?? 'github',
    },
    'dev@example.com',
  )
}

function form(query: Query, over: Record<string, string> = {}): Record<string, string> {
  return {
    query_id: String(query.id),
    cron_expression: '0 6 * * 1-5',
    target_schema: 'stackql_inventory',
    target_table: 'github_repos',
    ...over,
  }
}

const jobCreates = (standin: Standin) =>
  standin.state.requests.filter((r) => r.method === 'POST' && r.path === '/api/2.2/jobs/create')

t.test(
  'an empty Schedules page says how to start, and the dialog points to the IDE when nothing is saved',
  async (t) => {
    const { session } = await localApp(t)
    const res = await session.get('/schedules')
    t.equal(res.statusCode, 200)
    t.match(
      res.body,
      'No schedules yet. Save a query on the <a href="/">IDE page</a>, then create a schedule with',
    )
    t.match(
      res.body,
      'No Databricks workspace configured: schedules are saved without a job (local development). Run now uses the local runner.',
    )
    t.match(res.body, /<dialog id="new-schedule-dialog"/)
    t.match(res.body, /There are no saved queries yet/)
    t.notMatch(res.body, /id="new-schedule-form"/, 'no form to fill without a saved query')
    t.match(res.body, '<script src="/static/js/schedules.js" defer></script>')
  },
)

t.test('the cron preview describes the schedule and lists the next five runs', async (t) => {
  const { session } = await localApp(t)
  const ok = await session.get('/schedules/preview?for=new&cron_expression=0%206%20*%20*%201-5', {
    'hx-request': 'true',
  })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /^\s*<div id="cron-preview-new"/)
  t.match(ok.body, 'At 06:00, Monday through Friday (UTC)')
  t.match(ok.body, '0 0 6 ? * 2-6', 'shows the Quartz expression Databricks receives')
  t.equal(ok.body.match(/<li><time datetime=/g)?.length, 5)

  const bad = await session.get('/schedules/preview?for=edit&cron_expression=61%20*%20*%20*%20*', {
    'hx-request': 'true',
  })
  t.equal(bad.statusCode, 200, 'an invalid expression is a normal preview state')
  t.match(bad.body, /id="cron-preview-edit"/)
  t.match(bad.body, 'The minute value 61 is out of range (0-59).')
  t.notMatch(bad.body, /<li>/)

  const empty = await session.get('/schedules/preview?for=new&cron_expression=', { 'hx-request': 'true' })
  t.match(empty.body, /Type a schedule to see when it runs/)

  const slot = await session.get('/schedules/preview?for=%22%3E%3Cscript%3E&cron_expression=x')
  t.equal(slot.statusCode, 400, 'the preview slot is one of two names')
})

t.test(
  'creating a schedule with a workspace sends the Quartz schedule and secret references to the job',
  async (t) => {
    const { app, session, standin } = await workspaceApp(t)
    await app.db.saveProviderConfig(
      { provider: 'aws', env_var_name: 'AWS_ACCESS_KEY_ID', secret_scope: 'cloud', secret_key: 'aws-key-id' },
      'dev@example.com',
    )
    await app.db.saveProviderConfig(
      {
        provider: 'aws',
        env_var_name: 'AWS_SECRET_ACCESS_KEY',
        secret_scope: 'cloud',
        secret_key: 'aws-secret',
      },
      'dev@example.com',
    )
    const query = await saveQuery(app, {
      name: 'EC2 instances',
      provider: 'aws',
      query_text: "SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'",
    })

    const page = await session.get('/schedules')
    t.match(page.body, `<option value="${query.id}">EC2 instances (aws)</option>`)
    t.match(page.body, 'Creating job…', 'the busy text names the job creation')
    t.notMatch(page.body, /No Databricks workspace configured/)

    const res = await session.htmx('POST', '/schedules', form(query, { target_table: 'ec2_instances' }))
    t.equal(res.statusCode, 200)
    t.match(res.body, /^\s*<div id="schedules-table"/)

    const creates = jobCreates(standin)
    t.equal(creates.length, 1)
    const body = creates[0]!.body as {
      schedule: { quartz_cron_expression: string; timezone_id: string; pause_status: string }
      job_clusters: { new_cluster: { spark_env_vars: Record<string, string> } }[]
    }
    t.same(body.schedule, {
      quartz_cron_expression: '0 0 6 ? * 2-6',
      timezone_id: 'UTC',
      pause_status: 'UNPAUSED',
    })
    t.same(body.job_clusters[0]!.new_cluster.spark_env_vars, {
      AWS_ACCESS_KEY_ID: '{{secrets/cloud/aws-key-id}}',
      AWS_SECRET_ACCESS_KEY: '{{secrets/cloud/aws-secret}}',
    })

    const [saved] = await app.db.getSchedules()
    t.ok(saved?.job_id, 'the row keeps the job id')
    t.ok(standin.state.jobs.has(Number(saved!.job_id)))
    t.match(res.body, `<tr id="schedule-${saved!.id}" class="schedule-row just-added" data-status="NONE"`)
    t.match(res.body, /class="dot NONE" role="img" aria-label="No runs yet"/, 'grey: never ran')
    t.match(res.body, `<a href="${standin.url}/jobs/${saved!.job_id}"`, 'links the job in the workspace')
    t.match(res.body, 'At 06:00, Monday through Friday (UTC)')
    t.match(res.body, 'stackql_inventory.ec2_instances')
    t.notMatch(res.body, /hx-trigger="every 2s"/, 'an idle row does not poll')
  },
)

t.test('pause and resume set the job schedule pause_status in the workspace', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  await session.htmx('POST', '/schedules', form(query))
  const [s] = await app.db.getSchedules()
  const job = () => standin.state.jobs.get(Number(s!.job_id))!.settings.schedule as { pause_status: string }

  const paused = await session.htmx('POST', `/schedules/${s!.id}/pause`)
  t.equal(paused.statusCode, 200)
  t.match(paused.body, new RegExp(`^\\s*<tr id="schedule-${s!.id}"`))
  t.match(paused.body, '<span class="badge off">Paused</span>')
  t.match(paused.body, `hx-post="/schedules/${s!.id}/resume"`)
  t.equal(job().pause_status, 'PAUSED')
  t.equal((await app.db.getSchedule(s!.id))!.is_active, false)

  const resumed = await session.htmx('POST', `/schedules/${s!.id}/resume`)
  t.match(resumed.body, '<span class="badge on">Active</span>')
  t.equal(job().pause_status, 'UNPAUSED')
})

t.test('editing the cron re-schedules the job; an invalid cron changes nothing', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  await session.htmx('POST', '/schedules', form(query))
  const [s] = await app.db.getSchedules()

  const edit = await session.htmx('GET', `/schedules/${s!.id}/edit`)
  t.match(edit.body, /^\s*<div id="edit-schedule-body">/)
  t.match(edit.body, 'value="0 6 * * 1-5"')
  t.match(edit.body, `hx-post="/schedules/${s!.id}/cron"`)

  const res = await session.htmx('POST', `/schedules/${s!.id}/cron`, { cron_expression: '*/30 * * * *' })
  t.equal(res.statusCode, 200)
  t.match(res.body, 'Every 30 minutes (UTC)')
  const schedule = standin.state.jobs.get(Number(s!.job_id))!.settings.schedule as {
    quartz_cron_expression: string
  }
  t.equal(schedule.quartz_cron_expression, '0 */30 * * * ?')

  const bad = await session.htmx('POST', `/schedules/${s!.id}/cron`, { cron_expression: '0 25 * * *' })
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /id="error-message"[\s\S]*The hour value 25 is out of range/)
  t.equal((await app.db.getSchedule(s!.id))!.cron_expression, '*/30 * * * *')
})

t.test('delete asks for confirmation, then removes the row and its job', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  await session.htmx('POST', '/schedules', form(query))
  const [s] = await app.db.getSchedules()

  const confirm = await session.htmx('GET', `/schedules/${s!.id}/delete`)
  t.match(confirm.body, /^\s*<div id="delete-schedule-body">/)
  t.match(confirm.body, `Databricks job <span class="mono">${s!.job_id}</span> is deleted too.`)
  t.ok(standin.state.jobs.has(Number(s!.job_id)), 'asking does not delete')

  const res = await session.htmx('POST', `/schedules/${s!.id}/delete`)
  t.equal(res.statusCode, 200)
  t.match(res.body, /No schedules yet/)
  t.notOk(standin.state.jobs.has(Number(s!.job_id)), 'the job is gone from the workspace')
  t.same(await app.db.getSchedules(), [])
  t.equal(
    (await session.htmx('POST', `/schedules/${s!.id}/delete`)).statusCode,
    404,
    'a second delete finds nothing',
  )
})

t.test(
  'a 403 from the workspace on job creation shows the permission message and saves nothing',
  async (t) => {
    const { app, session, standin } = await workspaceApp(t)
    const query = await saveQuery(app)
    standin.faults.add({
      method: 'POST',
      path: '/api/2.2/jobs/create',
      status: 403,
      body: { error_code: 'PERMISSION_DENIED', message: 'User is not allowed to create jobs' },
    })
    const res = await session.htmx('POST', '/schedules', form(query))
    t.equal(res.statusCode, 403)
    t.match(
      res.body,
      /<div id="error-message" class="alert alert-error" role="alert" data-code="DATABRICKS_PERMISSION">/,
    )
    t.match(res.body, 'User is not allowed to create jobs')
    t.match(res.body, 'permission to create jobs')
    t.same(await app.db.getSchedules(), [], 'no row is left behind')
  },
)

t.test('a full job quota and a missing template job are explained and save nothing', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  standin.faults.add({
    method: 'POST',
    path: '/api/2.2/jobs/create',
    status: 400,
    body: { error_code: 'QUOTA_EXCEEDED', message: 'The maximum number of jobs (12000) has been reached.' },
  })
  const quota = await session.htmx('POST', '/schedules', form(query))
  t.equal(quota.statusCode, 429)
  t.match(quota.body, 'job limit is reached: delete unused jobs or schedules')
  t.same(await app.db.getSchedules(), [])

  standin.state.jobs.clear()
  const missing = await session.htmx('POST', '/schedules', form(query))
  t.equal(missing.statusCode, 404)
  t.match(missing.body, `No job named &quot;${TEMPLATE}&quot; was found to use as the template.`)
  t.same(await app.db.getSchedules(), [])
  t.equal(jobCreates(standin).length, 1, 'only the quota attempt reached jobs/create')
})

t.test(
  'invalid cron, a non-SELECT query, a bad or taken table name are refused with clear messages',
  async (t) => {
    const { app, session } = await localApp(t)
    const query = await saveQuery(app)
    const insert = await saveQuery(app, {
      name: 'Insert',
      query_text: "INSERT INTO github.repos.repos (org, name) SELECT 'stackql', 'x'",
    })

    const cron = await session.htmx('POST', '/schedules', form(query, { cron_expression: 'every day' }))
    t.equal(cron.statusCode, 400)
    t.match(cron.body, 'A schedule has 5 fields')

    const write = await session.htmx('POST', '/schedules', form(insert))
    t.equal(write.statusCode, 400)
    t.match(write.body, 'Only SELECT queries can be scheduled (this one starts with &quot;INSERT&quot;)')

    const badName = await session.htmx('POST', '/schedules', form(query, { target_table: 'Repos; drop' }))
    t.equal(badName.statusCode, 400)
    t.match(badName.body, /Invalid target table/)

    const reserved = await session.htmx('POST', '/schedules', form(query, { target_schema: 'stackql_app' }))
    t.equal(reserved.statusCode, 400)
    t.match(reserved.body, 'Schema &quot;stackql_app&quot; is reserved')

    t.same(await app.db.getSchedules(), [], 'nothing was saved')

    const first = await session.htmx('POST', '/schedules', form(query))
    t.equal(first.statusCode, 200)
    t.match(first.body, 'local — no Databricks job')
    const dup = await session.htmx('POST', '/schedules', form(query, { cron_expression: '@hourly' }))
    t.equal(dup.statusCode, 409)
    t.match(dup.body, 'Another schedule already writes to that target table. Choose another table name.')
    t.equal((await app.db.getSchedules()).length, 1)
  },
)

t.test('schedule ids are validated: 400 for a malformed id, 404 for an unknown one', async (t) => {
  const { session } = await localApp(t)
  t.equal((await session.htmx('GET', '/schedules/abc')).statusCode, 400)
  t.equal((await session.htmx('POST', '/schedules/0/pause')).statusCode, 400)
  t.equal((await session.htmx('POST', '/schedules/-1/run')).statusCode, 400)
  for (const [method, url] of [
    ['GET', '/schedules/999'],
    ['GET', '/schedules/999/edit'],
    ['GET', '/schedules/999/delete'],
    ['POST', '/schedules/999/pause'],
    ['POST', '/schedules/999/resume'],
    ['POST', '/schedules/999/run'],
    ['POST', '/schedules/999/delete'],
    ['DELETE', '/schedules/999'],
  ] as const) {
    const res = await session.htmx(method, url)
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.match(res.body, 'Schedule 999 does not exist.')
  }
  const cron = await session.htmx('POST', '/schedules/999/cron', { cron_expression: '0 6 * * *' })
  t.equal(cron.statusCode, 404)
})

t.test('query names and run errors are escaped everywhere they appear', async (t) => {
  const { app, session } = await localApp(t)
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
  const query = await saveQuery(app, { name: evil })
  const created = await session.htmx('POST', '/schedules', form(query))
  t.equal(created.statusCode, 200)
  const [s] = await app.db.getSchedules()
  const run = await app.db.startRun({
    schedule_id: s!.id,
    query_id: query.id,
    target_schema: 'stackql_inventory',
    target_table: 'github_repos',
  })
  await app.db.finishRun(run.id, { status: 'FAILED', error: '<b onmouseover=alert(3)>boom</b>' })

  for (const res of [
    await session.get('/schedules'),
    await session.htmx('GET', `/schedules/${s!.id}`),
    await session.htmx('GET', `/schedules/${s!.id}/delete`),
    await session.htmx('GET', `/schedules/${s!.id}/edit`),
  ]) {
    t.equal(res.statusCode, 200)
    t.notMatch(res.body, '<script>alert(1)')
    t.notMatch(res.body, '<img src=x')
    t.notMatch(res.body, '<b onmouseover')
    t.match(res.body, '&lt;script&gt;alert(1)&lt;/script&gt;')
  }
  const page = (await session.get('/schedules')).body
  t.match(page, '&lt;b onmouseover=alert(3)&gt;boom&lt;/b&gt;')
})

t.test(
  'last run status: grey, green, amber while running (polling), red with the reason on hover and expand',
  async (t) => {
    const { app, session } = await localApp(t)
    const query = await saveQuery(app)
    await session.htmx('POST', '/schedules', form(query))
    const [s] = await app.db.getSchedules()
    const target = {
      schedule_id: s!.id,
      query_id: query.id,
      target_schema: 'stackql_inventory',
      target_table: 'github_repos',
    }

    t.match((await session.htmx('GET', `/schedules/${s!.id}`)).body, /class="dot NONE"/)

    const ok = await app.db.startRun(target)
    const running = await session.htmx('GET', `/schedules/${s!.id}`)
    t.match(
      running.body,
      /data-status="RUNNING" hx-get="\/schedules\/\d+" hx-trigger="every 2s" hx-swap="outerHTML"/,
    )
    t.match(running.body, /class="dot RUNNING"/)

    await app.db.finishRun(ok.id, { status: 'SUCCESS', row_count: 42 })
    const green = await session.htmx('GET', `/schedules/${s!.id}`)
    t.match(green.body, /class="dot SUCCESS"/)
    t.notMatch(green.body, /every 2s/, 'polling stops once the run finished')
    t.match(green.body, /SUCCESS · 42 rows<\/title>/, 'the history bar tells the row count')

    const bad = await app.db.startRun(target)
    await app.db.finishRun(bad.id, { status: 'FAILED', error: 'github: 401 Bad credentials' })
    const red = await session.htmx('GET', `/schedules/${s!.id}`)
    t.match(
      red.body,
      /class="dot FAILED" role="img" aria-label="Failed" title="Failed: github: 401 Bad credentials"/,
    )
    t.match(
      red.body,
      /<details class="run-error">\s*<summary>Why it failed<\/summary>\s*<pre>github: 401 Bad credentials<\/pre>/,
    )
    t.equal(red.body.match(/<rect class="bar /g)?.length, 2, 'two runs in the history picture')
    t.match(red.body, /<rect class="bar FAILED"/)
  },
)

t.test('a row whose stored cron no longer parses shows the reason instead of failing the page', async (t) => {
  const { app, session } = await localApp(t)
  const query = await saveQuery(app)
  await app.db.saveSchedule({
    query_id: query.id,
    cron_expression: '0 0 * * * * 2030',
    target_schema: 'stackql_inventory',
    target_table: 'legacy',
  })
  const res = await session.get('/schedules')
  t.equal(res.statusCode, 200)
  t.match(res.body, /<div class="cron-error" role="note">[^<]+<\/div>/)
  t.match(res.body, 'stackql_inventory.legacy')
})

t.test('Run now with a workspace starts the job, polls the row, and shows the outcome', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  await session.htmx('POST', '/schedules', form(query))
  const [s] = await app.db.getSchedules()

  const res = await session.htmx('POST', `/schedules/${s!.id}/run`)
  t.equal(res.statusCode, 200)
  const [run] = [...standin.state.runs.values()]
  t.equal(run?.job_id, Number(s!.job_id), 'jobs/run-now reached the workspace')
  t.match(res.body, `Started Databricks run ${run!.run_id} of job ${s!.job_id}.`)
  t.match(res.body, 'Run started: waiting for the runner to report.')
  t.match(res.body, /class="dot RUNNING"/)
  t.match(res.body, 'View the Databricks run')
  const poll = /hx-get="(\/schedules\/\d+\?after=0&amp;until=\d+)" hx-trigger="every 2s"/.exec(res.body)
  t.ok(poll, 'the row polls itself while the run has not reported')
  const pollUrl = poll![1]!.replace(/&amp;/g, '&')

  t.match((await session.htmx('GET', pollUrl)).body, /every 2s/, 'still waiting')

  // The runner on the cluster records its run; then it finishes.
  const target = {
    schedule_id: s!.id,
    query_id: query.id,
    target_schema: 'stackql_inventory',
    target_table: 'github_repos',
    trigger: 'databricks',
  }
  const r = await app.db.startRun(target)
  t.match(
    (await session.htmx('GET', pollUrl)).body,
    /data-status="RUNNING" hx-get="\/schedules\/\d+\?after=\d+&amp;until=\d+" hx-trigger="every 2s"/,
    'the row keeps following the run it started',
  )
  await app.db.finishRun(r.id, { status: 'SUCCESS', row_count: 3 })
  standin.state.finishRun(run!.run_id, 'SUCCESS')
  const done = await session.htmx('GET', pollUrl)
  t.match(done.body, /class="dot SUCCESS"/)
  t.notMatch(done.body, /every 2s/)
  t.match(done.body, /View the Databricks run/, 'the finished row still links the run it followed')

  // A run that ends in the workspace without the runner ever reporting shows Databricks' reason.
  const again = await session.htmx('POST', `/schedules/${s!.id}/run`)
  const second = [...standin.state.runs.values()].at(-1)!
  standin.state.finishRun(second.run_id, 'FAILED', { message: 'Cluster failed to start: quota' })
  const url = /hx-get="([^"]+)" hx-trigger="every 2s"/.exec(again.body)![1]!.replace(/&amp;/g, '&')
  const failed = await session.htmx('GET', url)
  t.match(failed.body, /class="dot FAILED"/)
  t.match(failed.body, `Databricks run ${second.run_id} ended FAILED: Cluster failed to start: quota`)
  t.notMatch(failed.body, /every 2s/)
})

t.test('failures of row actions are shown in the page alert slot', async (t) => {
  const { app, session, standin } = await workspaceApp(t)
  const query = await saveQuery(app)
  await session.htmx('POST', '/schedules', form(query))
  const page = await session.get('/schedules')
  t.match(
    page.body,
    /<div id="schedules-table" class="schedules-table" hx-status:4xx:inherited="target:#schedules-alert, swap:innerHTML"/,
  )
  const [s] = await app.db.getSchedules()
  standin.faults.add({ path: '/api/2.2/jobs/update', status: 403 })
  const res = await session.htmx('POST', `/schedules/${s!.id}/pause`)
  t.equal(res.statusCode, 403)
  t.match(res.body, /data-code="DATABRICKS_PERMISSION"/)
  t.equal((await app.db.getSchedule(s!.id))!.is_active, true, 'the row is unchanged')
})

t.test(
  'the run-history picture scales bars to row counts, colours them by outcome and escapes every label',
  async (t) => {
    const svg = barChart(
      [
        { value: 10, status: 'SUCCESS', label: 'ten <rows>' },
        { value: 5, status: 'SUCCESS', label: 'five' },
        { value: null, status: 'FAILED', label: `boom "quoted" & <script>` },
        { value: 0, label: 'zero' },
      ],
      { title: 'History of <img src=x onerror=alert(1)>', height: 21, barWidth: 4, gap: 1, slots: 6 },
    )
    t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="bar-chart" width="29" height="21"/)
    t.match(svg, 'aria-label="History of &lt;img src=x onerror=alert(1)&gt;"')
    t.notMatch(svg, /<img|<script|<rows>/)
    const rects = [
      ...svg.matchAll(
        /<rect class="bar ?(\w*)" x="([\d.]+)" y="([\d.]+)" width="4" height="([\d.]+)" fill="(#\w+)"/g,
      ),
    ]
    t.same(
      rects.map((m) => [m[1], Number(m[2]), Number(m[4]), m[5]]),
      [
        ['SUCCESS', 10, 20, '#1a7f37'],
        ['SUCCESS', 15, 10, '#1a7f37'],
        ['FAILED', 20, 20, '#c62828'],
        ['', 25, 2, '#0b5cad'],
      ],
      'right-aligned in 6 slots; heights relative to the largest value; no value = full height',
    )
    t.match(
      svg,
      /fill="#c62828" fill-opacity="0.35"><title>boom &quot;quoted&quot; &amp; &lt;script&gt;<\/title>/,
    )
    t.match(
      barChart([], { title: 'nothing' }),
      /<title>nothing<\/title><line /,
      'an empty history is just the baseline',
    )
  },
)
