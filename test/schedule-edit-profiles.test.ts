// The schedule Edit dialog has the profiles field the New dialog has: it shows the schedule's
// profiles selected, saving new ones rebuilds the job for the new slices, clearing them goes back
// to the default profile, and an unknown profile is a 400 that changes nothing.
import t from 'tap'
import type { JobSettings } from '../src/databricks/jobs-api.js'
import { buildTestApp } from './helpers/app.js'
import { addTemplateJob, startDatabricksStandin } from './standins/databricks/index.js'

t.test('Edit changes the profiles a schedule runs across, and refuses unknown ones', async (t) => {
  const standin = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => standin.close())
  addTemplateJob(standin)
  const { app, session } = await buildTestApp(t, {
    env: { DATABRICKS_HOST: standin.url, DATABRICKS_TOKEN: 'dapi-test', STACKQL_LOCAL_DEV: 'false' },
  })
  for (const profile of ['prod', 'staging', 'dev']) {
    standin.state.putSecret('inv', `${profile}-key`, `AKIA${profile}`)
    await app.db.saveProviderConfig(
      {
        provider: 'aws',
        profile,
        env_var_name: 'AWS_ACCESS_KEY_ID',
        secret_scope: 'inv',
        secret_key: `${profile}-key`,
      },
      'dev@example.com',
    )
  }
  const query = await app.db.saveQuery(
    {
      name: 'accounts',
      description: '',
      query_text: 'SELECT account FROM aws.sts.caller_identity',
      provider: 'aws',
    },
    'dev@example.com',
  )
  await session.get('/schedules')
  const created = await session.htmx('POST', '/schedules', {
    query_id: String(query.id),
    cron_expression: '0 6 * * *',
    target_schema: 'stackql_inventory',
    target_table: 'accounts',
    profiles: 'aws/prod',
  })
  t.equal(created.statusCode, 200, created.body)
  const [s] = await app.db.getSchedules()
  const job = () => standin.state.jobs.get(Number(s!.job_id))!.settings as JobSettings
  const params = () => job().tasks![0]!.spark_python_task!.parameters!

  const edit = await session.htmx('GET', `/schedules/${s!.id}/edit`)
  t.match(edit.body, /<label for="edit-schedule-profiles">Run across profiles<\/label>/)
  t.match(edit.body, /<option value="aws\/prod" selected>aws\/prod<\/option>/)
  t.match(edit.body, /<option value="aws\/staging">aws\/staging<\/option>/)
  t.match(edit.body, /name="profiles_field" value="1"/)

  const save = (profiles?: string) =>
    session.htmx('POST', `/schedules/${s!.id}/cron`, {
      cron_expression: '0 7 * * *',
      profiles_field: '1',
      ...(profiles ? { profiles } : {}),
    })

  const bad = await save('aws/prod,aws/nope')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /Provider aws has no profile "nope"|has no profile &quot;nope&quot;/)
  t.same((await app.db.getSchedule(s!.id))!.profiles, ['aws/prod'], 'profiles unchanged')
  t.equal((await app.db.getSchedule(s!.id))!.cron_expression, '0 6 * * *', 'cron unchanged')

  const two = await save('aws/prod,aws/staging')
  t.equal(two.statusCode, 200, two.body)
  t.same((await app.db.getSchedule(s!.id))!.profiles, ['aws/prod', 'aws/staging'])
  t.same(params().slice(-2), ['--profiles', 'aws/prod,aws/staging'], 'the job runs the new slices')
  const env = job().job_clusters![0]!.new_cluster.spark_env_vars ?? {}
  t.ok(Object.values(env).includes('{{secrets/inv/staging-key}}'), 'and carries the new profile’s reference')
  t.notOk(Object.values(env).includes('{{secrets/inv/dev-key}}'), 'and no other profile’s')

  const cleared = await save()
  t.equal(cleared.statusCode, 200, cleared.body)
  t.equal((await app.db.getSchedule(s!.id))!.profiles, null, 'none = the default profile')
  t.notOk(params().includes('--profiles'), 'back to the single task')

  const cronOnly = await session.htmx('POST', `/schedules/${s!.id}/cron`, { cron_expression: '0 8 * * *' })
  t.equal(cronOnly.statusCode, 200)
  t.equal((await app.db.getSchedule(s!.id))!.profiles, null, 'a form without the field leaves profiles alone')
})
