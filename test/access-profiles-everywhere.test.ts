// Profile permissions hold everywhere credentials are used, not only in the IDE: a user not listed
// on a restricted profile cannot create a schedule with it (named, or covered by provider/*), cannot
// Run now, resume or re-time a schedule that uses it, cannot Test it on the Providers page; each
// refusal is a 403 naming the profile and what is needed, changes nothing, and is audited. The
// pickers (IDE, New Schedule dialog, Test buttons) do not offer it; admins and listed users see it.
import postgres from 'postgres'
import t from 'tap'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const as = (email: string) => ({ 'x-forwarded-email': email })
const ADMIN = as('admin@example.com')
const ED = as('ed@example.com') // editor, not listed on aws/prod
const ANA = as('ana@example.com') // editor, listed on aws/prod
const BO = as('bo@example.com') // viewer, not listed

const { app, url, session } = await buildTestApp(t, {
  env: {
    APP_ADMINS: 'admin@example.com',
    APP_EDITORS: 'ed@example.com, ana@example.com',
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'access-profiles-everywhere-'),
  },
})
const sql = postgres(url, { max: 1, onnotice: () => {} })
t.teardown(() => sql.end())

const mapping = (profile: string, env: string) =>
  app.db.saveProviderConfig(
    {
      provider: 'aws',
      profile,
      env_var_name: env,
      secret_scope: 'stackql-inventory',
      secret_key: `k-${profile}`,
    },
    'admin@example.com',
  )
const defaultMapping = await mapping('default', 'AWS_ACCESS_KEY_ID')
const prodMapping = await mapping('prod', 'AWS_ACCESS_KEY_ID')
await mapping('dev', 'AWS_ACCESS_KEY_ID')
const query = await app.db.saveQuery(
  {
    name: 'instances',
    description: '',
    query_text: "SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'",
    provider: 'aws',
  },
  'admin@example.com',
)
const restrict = (principal: string, route = '/access/profiles') =>
  session.htmx('POST', route, { provider: 'aws', profile: 'prod', principal }, ADMIN)
t.equal((await restrict('ana@example.com')).statusCode, 200, 'aws/prod restricted to ana')

const newSchedule = (who: Record<string, string>, table: string, profiles?: string) =>
  session.htmx(
    'POST',
    '/schedules',
    {
      query_id: String(query.id),
      cron_expression: '0 0 6 * * ?',
      target_table: table,
      ...(profiles ? { profiles } : {}),
    },
    who,
  )

async function snapshot(): Promise<string> {
  const [row] = await sql`
    select (select json_agg(s order by id) from stackql_app.schedules s) as s,
           (select json_agg(r order by id) from stackql_app.runs r) as r,
           (select json_agg(p order by id) from stackql_app.provider_config p) as p`
  return JSON.stringify(row)
}
const lastDenial = async () =>
  (
    await sql`select user_email, action, status, details from stackql_app.audit
              where outcome = 'denied' order by id desc limit 1`
  )[0]!

t.test('creating a schedule with a restricted profile, named or under provider/*, is refused', async (t) => {
  const before = await snapshot()
  const named = await newSchedule(ED, 'prod_instances', 'aws/prod')
  t.equal(named.statusCode, 403)
  t.match(named.body, /Profile aws\/prod is restricted: only the users and groups an admin listed/)
  t.match(named.body, /may create schedules with it/, 'the message says what is needed')
  let denial = await lastDenial()
  t.equal(denial.user_email, 'ed@example.com')
  t.equal(denial.action, 'schedule.create')
  t.same(denial.details.refused_profiles, ['aws:prod'], 'the audit row names the refused profile')

  const wildcard = await newSchedule(ED, 'all_instances', 'aws/*')
  t.equal(wildcard.statusCode, 403, 'a wildcard covering a restricted profile is refused')
  t.match(wildcard.body, /aws\/\* covers aws\/prod, which is restricted/)
  t.match(wildcard.body, /pick only profiles you may use instead of aws\/\*/)
  denial = await lastDenial()
  t.same(denial.details.refused_profiles, ['aws:prod'])
  t.same(
    [...(denial.details.profiles as string[])].sort(),
    ['aws:default', 'aws:dev', 'aws:prod'],
    'the audit row lists what aws/* covers',
  )
  t.equal(await snapshot(), before, 'nothing was saved')

  t.equal(
    (await newSchedule(ED, 'default_instances', 'aws/default')).statusCode,
    200,
    'an open profile is fine',
  )
  t.equal((await newSchedule(ED, 'plain_instances')).statusCode, 200, 'no profiles: the open default')
  t.equal((await newSchedule(ANA, 'ana_prod', 'aws/prod')).statusCode, 200, 'a listed user may')
  t.equal((await newSchedule(ADMIN, 'admin_all', 'aws/*')).statusCode, 200, 'an admin may')
})

t.test('a wildcard also covers a restricted profile that has no mapping yet', async (t) => {
  await session.htmx(
    'POST',
    '/access/profiles',
    { provider: 'aws', profile: 'audit', principal: 'ana@example.com' },
    ADMIN,
  )
  t.teardown(() =>
    session.htmx(
      'POST',
      '/access/profiles/remove',
      { provider: 'aws', profile: 'audit', principal: 'ana@example.com' },
      ADMIN,
    ),
  )
  const res = await newSchedule(ANA, 'ana_everything', 'aws/*')
  t.equal(res.statusCode, 200, 'ana is listed on both restricted profiles')
  await session.htmx(
    'POST',
    '/access/profiles',
    { provider: 'aws', profile: 'audit', principal: 'admin@example.com' },
    ADMIN,
  )
  const ed = await newSchedule(ED, 'ed_everything', 'aws/*')
  t.equal(ed.statusCode, 403)
  t.match(ed.body, /aws\/\* covers aws\/prod/)
})

t.test(
  'a schedule made while allowed keeps running; its owner, once removed, may only pause or delete it',
  async (t) => {
    t.equal((await restrict('ed@example.com')).statusCode, 200)
    const made = await newSchedule(ED, 'ed_prod', 'aws/prod')
    t.equal(made.statusCode, 200, 'ed was listed when creating it')
    t.equal(
      (await restrict('ed@example.com', '/access/profiles/remove')).statusCode,
      200,
      'ed is taken off the list',
    )
    const [s] =
      await sql`select id, is_active, cron_expression from stackql_app.schedules where target_table = 'ed_prod'`
    t.equal(s!.is_active, true, 'the schedule is not stopped by the restriction: the job runs as the app')

    const before = await snapshot()
    const run = await session.htmx('POST', `/schedules/${s!.id}/run`, {}, ED)
    t.equal(run.statusCode, 403)
    t.match(run.body, /Profile aws\/prod is restricted: .* may run schedules now with it/)
    const cron = await session.htmx(
      'POST',
      `/schedules/${s!.id}/cron`,
      { cron_expression: '0 30 6 * * ?' },
      ED,
    )
    t.equal(cron.statusCode, 403)
    t.match(cron.body, /may change schedules with it/)
    t.equal(await snapshot(), before, 'no run started, the cron is unchanged')
    t.equal((await lastDenial()).action, 'schedule.update')

    t.equal(
      (await session.htmx('POST', `/schedules/${s!.id}/pause`, {}, ED)).statusCode,
      200,
      'pausing stops using it: allowed',
    )
    const resume = await session.htmx('POST', `/schedules/${s!.id}/resume`, {}, ED)
    t.equal(resume.statusCode, 403, 'resuming would use it again: refused')
    t.match(resume.body, /may resume schedules with it/)
    const [after] = await sql`select is_active from stackql_app.schedules where id = ${s!.id}`
    t.equal(after!.is_active, false, 'still paused')
    t.not(
      (await session.htmx('POST', `/schedules/${s!.id}/run`, {}, ADMIN)).statusCode,
      403,
      'an admin may run it now',
    )
  },
)

t.test('Test on the Providers page is refused for a restricted profile', async (t) => {
  const before = await snapshot()
  const mappingTest = await session.htmx('POST', `/providers/${prodMapping.id}/test`, {}, BO)
  t.equal(mappingTest.statusCode, 403)
  t.match(mappingTest.body, /Profile aws\/prod is restricted: .* may test provider mappings with it/)
  const profileTest = await session.htmx(
    'POST',
    '/providers/profiles/test',
    { provider: 'aws', profile: 'prod' },
    BO,
  )
  t.equal(profileTest.statusCode, 403)
  t.match(profileTest.body, /may test profiles with it/)
  t.equal((await lastDenial()).action, 'profile.test')
  t.equal(await snapshot(), before)
  t.not(
    (await session.htmx('POST', `/providers/${defaultMapping.id}/test`, {}, BO)).statusCode,
    403,
    'the open profile tests',
  )
  t.not(
    (await session.htmx('POST', '/providers/profiles/test', { provider: 'aws', profile: 'prod' }, ANA))
      .statusCode,
    403,
  )
})

t.test('runs with a restricted profile are refused: picked, or under a fan-out provider/*', async (t) => {
  const text = "SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'"
  const picked = await session.htmx('POST', '/run', { query_text: text, profile: 'aws/prod' }, BO)
  t.equal(picked.statusCode, 403)
  t.match(picked.body, /id="results"[\s\S]*Profile aws\/prod is restricted: .* may run queries with it/)
  const fanOut = await session.htmx('POST', '/run', { query_text: text, profiles: 'aws/*' }, BO)
  t.equal(fanOut.statusCode, 403)
  t.match(fanOut.body, /aws\/\* covers aws\/prod/)
  t.not(
    (await session.htmx('POST', '/run', { query_text: text, profile: 'aws/default' }, BO)).statusCode,
    403,
  )
})

t.test('pickers offer only the profiles a user may use; admins and listed users see all', async (t) => {
  const picker = (who: Record<string, string>) =>
    session.htmx('POST', '/profiles/picker', { query_text: 'SELECT * FROM aws.ec2.instances' }, who)
  const boPicker = (await picker(BO)).body
  t.match(boPicker, /value="aws\/default"/)
  t.notMatch(boPicker, /value="aws\/prod"/, 'the IDE picker hides aws/prod from bo')
  t.match((await picker(ANA)).body, /value="aws\/prod"/)
  t.match((await picker(ADMIN)).body, /value="aws\/prod"/)

  const edSchedules = (await session.get('/schedules', ED)).body
  t.match(edSchedules, /<option value="aws\/dev">/, 'the New Schedule dialog offers the open profiles')
  t.notMatch(edSchedules, /value="aws\/prod"/, 'the New Schedule dialog hides aws/prod')
  t.notMatch(edSchedules, /value="aws\/\*"/, 'and "every aws profile", which would cover it')
  const adminSchedules = (await session.get('/schedules', ADMIN)).body
  t.match(adminSchedules, /value="aws\/prod"/)
  t.match(adminSchedules, /value="aws\/\*"/)

  const boProviders = (await session.get('/providers', BO)).body
  t.match(boProviders, /aria-label="Test profile aws\/default"/)
  t.notMatch(boProviders, /aria-label="Test profile aws\/prod"/, 'no Test profile button for aws/prod')
  t.notMatch(boProviders, new RegExp(`hx-post="/providers/${prodMapping.id}/test"`), 'no Test on its mapping')
  t.match(boProviders, new RegExp(`hx-post="/providers/${defaultMapping.id}/test"`))
  t.match(boProviders, /restricted: not yours to use/)
  const anaProviders = (await session.get('/providers', ANA)).body
  t.match(anaProviders, /aria-label="Test profile aws\/prod"/)
})

t.test(
  'with default restricted, a schedule without profiles is refused and the picker offers the rest or says why',
  async (t) => {
    await session.htmx('POST', '/access/profiles', { provider: 'aws', principal: 'ana@example.com' }, ADMIN)
    t.teardown(() =>
      session.htmx(
        'POST',
        '/access/profiles/remove',
        { provider: 'aws', principal: 'ana@example.com' },
        ADMIN,
      ),
    )
    const res = await newSchedule(ED, 'ed_plain')
    t.equal(res.statusCode, 403)
    t.match(res.body, /Profile aws\/default is restricted/)
    const picker = await session.htmx(
      'POST',
      '/profiles/picker',
      { query_text: 'SELECT * FROM aws.ec2.instances' },
      ED,
    )
    t.match(picker.body, /<option value="aws\/dev" selected>/, 'the first open profile is picked instead')
    t.notMatch(picker.body, /value="aws\/default"/)

    await session.htmx(
      'POST',
      '/access/profiles',
      { provider: 'github', principal: 'ana@example.com' },
      ADMIN,
    )
    const github = await session.htmx(
      'POST',
      '/profiles/picker',
      { query_text: 'SELECT * FROM github.repos.repos' },
      ED,
    )
    t.match(
      github.body,
      /github<\/span>\s*<span class="hint">no profile you may use/,
      'nothing to pick: it says why',
    )
    t.notMatch(github.body, /<select id="profile-github"/)
  },
)
