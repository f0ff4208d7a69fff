import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { addTemplateJob, startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const SELECT_REPOS = "SELECT id, name, stargazers_count FROM github.repos.repos WHERE org = 'stackql'"

t.test(
  'local development: create through the dialog with a live preview, run now, edit, pause, delete',
  { skip },
  async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t)
    const query = await app.db.saveQuery(
      { name: 'GitHub repos', description: '', query_text: SELECT_REPOS, provider: 'github' },
      'dev@example.com',
    )
    // A schedule with some history, so the list shows the run-history picture.
    const history = await app.schedules.create({
      query_id: query.id,
      cron_expression: '0 */6 * * *',
      target_schema: 'stackql_inventory',
      target_table: 'repo_history',
    })
    const counts = [12, 14, 14, null, 15, 17, 16, 18]
    for (const [i, n] of counts.entries()) {
      const run = await app.db.startRun({
        schedule_id: history.id,
        query_id: query.id,
        target_schema: 'stackql_inventory',
        target_table: 'repo_history',
      })
      await app.db.finishRun(
        run.id,
        n === null
          ? { status: 'FAILED', error: `github: 403 API rate limit exceeded (run ${i + 1})` }
          : { status: 'SUCCESS', row_count: n },
      )
    }

    await page.goto(`${baseUrl}/schedules`)
    await page.getByText('No Databricks workspace configured').waitFor()
    await page.getByRole('button', { name: 'New Schedule' }).click()
    const dialog = page.locator('#new-schedule-dialog')
    await dialog.waitFor({ state: 'visible' })
    t.equal(
      await page.evaluate('document.activeElement?.id'),
      'new-schedule-query',
      'focus starts in the form',
    )

    await page.selectOption('#new-schedule-query', String(query.id))
    await page.fill('#new-schedule-cron', '61 6 * * 1-5')
    await page.locator('#cron-preview-new').getByText('The minute value 61 is out of range').waitFor()
    await page.fill('#new-schedule-cron', '0 6 * * 1-5')
    await page
      .locator('#cron-preview-new .cron-description', { hasText: 'At 06:00, Monday through Friday' })
      .waitFor()
    t.equal(await page.locator('#cron-preview-new .next-runs li').count(), 5, 'the next five runs are listed')
    await page.fill('#new-schedule-table', 'repo_history')
    await screenshot('schedules-dialog')

    // A taken table name is refused inside the dialog, which stays open.
    await page.getByRole('button', { name: 'Create schedule' }).click()
    await page
      .locator('#new-schedule-error')
      .getByText('Another schedule already writes to that target table')
      .waitFor()
    t.ok((await dialog.getAttribute('open')) !== null, 'the dialog stays open on an error')

    await page.fill('#new-schedule-table', 'github_repos')
    await page.getByRole('button', { name: 'Create schedule' }).click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.locator('tr.schedule-row', { hasText: 'stackql_inventory.github_repos' })
    await row.waitFor()
    t.equal(await row.getAttribute('data-status'), 'NONE', 'a new schedule has not run: grey')
    t.equal(await row.locator('.dot.NONE').count(), 1)
    t.match(await row.textContent(), /local — no Databricks job/)
    t.equal(await page.inputValue('#new-schedule-table'), '', 'the form is reset for the next schedule')

    // Edit the cron in its dialog, with the same preview.
    await row.getByRole('button', { name: /^Edit the schedule/ }).click()
    await page.locator('#edit-schedule-cron').waitFor()
    await page.fill('#edit-schedule-cron', '*/30 * * * *')
    await page.locator('#cron-preview-edit .cron-description', { hasText: 'Every 30 minutes' }).waitFor()
    await screenshot('schedules-edit')
    await page.getByRole('button', { name: 'Save schedule' }).click()
    await page.locator('#edit-schedule-dialog').waitFor({ state: 'hidden' })
    await row.locator('.cron-text', { hasText: 'Every 30 minutes' }).waitFor()

    await row.getByRole('button', { name: /^Pause/ }).click()
    await row.locator('.badge.off', { hasText: 'Paused' }).waitFor()
    await row.getByRole('button', { name: /^Resume/ }).click()
    await row.locator('.badge.on', { hasText: 'Active' }).waitFor()

    // The failure reason of the older schedule is on hover (title) and on expand.
    const old = page.locator('tr.schedule-row', { hasText: 'repo_history' })
    t.equal(await old.locator('svg.bar-chart rect.bar').count(), counts.length, 'one bar per run')
    await screenshot('schedules-list')

    await old.getByRole('button', { name: /^Delete/ }).click()
    await page.locator('#delete-schedule-body').getByText('Delete the schedule that writes').waitFor()
    await screenshot('schedules-delete-confirm')
    await page.getByRole('button', { name: 'Delete schedule' }).click()
    await page.locator('#delete-schedule-dialog').waitFor({ state: 'hidden' })
    await old.waitFor({ state: 'detached' })
    t.equal(await page.locator('tr.schedule-row').count(), 1)
    // Run now: with the local runner the row turns amber, polls itself, then turns green.
    const id = await row.getAttribute('id')
    await row.getByRole('button', { name: /^Run .* now$/ }).click()
    await page
      .locator(`#schedules-alert .alert, #${id}[data-status="RUNNING"], #${id}[data-status="SUCCESS"]`)
      .first()
      .waitFor()
    const alert = (await page.locator('#schedules-alert').textContent()) ?? ''
    t.equal(alert.trim(), '', `Run now is accepted${alert.trim() ? `, not refused: ${alert.trim()}` : ''}`)
    // Without the local runner wired in, the refusal above is the failure; do not wait for a run.
    if (!alert.trim()) {
      await page.locator(`#${id}[data-status="SUCCESS"]`).waitFor({ timeout: 60_000 })
      t.match(
        (await row.textContent()) ?? '',
        /Succeeded/,
        'the run reported success and the row turned green',
      )
      await screenshot('schedules-after-run')
    }
    t.same(
      pageErrors.filter((m) => !/Failed to load resource/.test(m)),
      [],
      'no script errors',
    )
  },
)

t.test(
  'with a workspace: a 403 on job creation is shown in the dialog, then a job is created and paused',
  { skip },
  async (t) => {
    const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
    t.teardown(() => standin.close())
    addTemplateJob(standin)
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
      env: { DATABRICKS_HOST: standin.url, DATABRICKS_TOKEN: 'dapi-test', STACKQL_LOCAL_DEV: 'false' },
    })
    const query = await app.db.saveQuery(
      { name: 'GitHub repos', description: '', query_text: SELECT_REPOS, provider: 'github' },
      'dev@example.com',
    )
    standin.faults.add({ method: 'POST', path: '/api/2.2/jobs/create', status: 403 })

    await page.goto(`${baseUrl}/schedules`)
    await page.getByRole('button', { name: 'New Schedule' }).click()
    await page.selectOption('#new-schedule-query', String(query.id))
    await page.fill('#new-schedule-cron', '0 6 * * *')
    await page.fill('#new-schedule-table', 'github_repos')
    await page.getByRole('button', { name: 'Create schedule and job' }).click()
    await page.locator('#new-schedule-error').getByText('permission to create jobs').waitFor()
    await screenshot('schedules-dialog-error')
    t.same(await app.db.getSchedules(), [], 'nothing saved')

    await page.getByRole('button', { name: 'Create schedule and job' }).click()
    await page.locator('#new-schedule-dialog').waitFor({ state: 'hidden' })
    const [s] = await app.db.getSchedules()
    const row = page.locator(`#schedule-${s!.id}`)
    t.equal(await row.locator(`a[href="${standin.url}/jobs/${s!.job_id}"]`).count(), 1, 'links the job')
    await row.getByRole('button', { name: /^Pause/ }).click()
    await row.locator('.badge.off').waitFor()
    const schedule = standin.state.jobs.get(Number(s!.job_id))!.settings.schedule as {
      pause_status: string
    }
    t.equal(schedule.pause_status, 'PAUSED')
    t.same(
      pageErrors.filter((m) => !/Failed to load resource/.test(m)),
      [],
      'no script errors',
    )
  },
)
