// Profile permissions: an admin restricts a provider's profile to e-mails and groups; everyone else
// is refused runs with it (403, audited), listed people and admins may run; bad entries are 400s.
import postgres from 'postgres'
import t from 'tap'
import { mayUseProfile } from '../src/access/profile-permissions.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const ADMIN = { 'x-forwarded-email': 'admin@example.com' }

t.test('mayUseProfile: unrestricted, listed e-mail, listed group (unicode, any case), admin', async (t) => {
  t.ok(mayUseProfile([], 'x@y.z', [], 'viewer'), 'no rows: open to everyone')
  t.ok(mayUseProfile(['ana@example.com'], 'ANA@example.com', [], 'viewer'))
  t.ok(mayUseProfile(['group:Équipe Sécurité'], 'bo@x.io', ['équipe sécurité'], 'editor'))
  t.notOk(mayUseProfile(['group:Équipe Sécurité'], 'bo@x.io', ['Équipe'], 'editor'))
  t.ok(mayUseProfile(['ana@example.com'], 'root@x.io', [], 'admin'), 'admins always may')
})

t.test('a restricted profile refuses runs of people not listed', async (t) => {
  const { url, session } = await buildTestApp(t, {
    env: {
      APP_ADMINS: 'admin@example.com',
      APP_EDITORS: 'ed@example.com',
      STACKQL_BIN: STANDIN,
      STACKQL_DOWNLOAD_DIR: tempDir(t, 'access-profiles-'),
    },
  })
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  const bad = await session.htmx(
    'POST',
    '/access/profiles',
    { provider: 'aws', principal: 'not an email' },
    ADMIN,
  )
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /neither an e-mail nor group:&lt;name&gt;|neither an e-mail nor group:<name>/)
  const editorTry = await session.htmx(
    'POST',
    '/access/profiles',
    { provider: 'aws', principal: 'ed@example.com' },
    {
      'x-forwarded-email': 'ed@example.com',
    },
  )
  t.equal(editorTry.statusCode, 403, 'only admins restrict profiles')
  t.equal((await sql`select count(*)::int as n from stackql_app.profile_permissions`)[0]!.n, 0)

  const ok = await session.htmx(
    'POST',
    '/access/profiles',
    { provider: 'aws', principal: 'ana@example.com' },
    ADMIN,
  )
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /ana@example\.com/)
  const page = await session.get('/access/profiles', ADMIN)
  t.match(page.body, /Profile permissions/)

  const select = { query_text: "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", provider: 'aws' }
  const bo = await session.htmx('POST', '/run', select, { 'x-forwarded-email': 'bo@example.com' })
  t.equal(bo.statusCode, 403)
  t.match(
    bo.body,
    /Profile aws\/default is restricted: only the users and groups an admin listed for it on the Access page may run queries with it/,
  )
  const ana = await session.htmx('POST', '/run', select, { 'x-forwarded-email': 'ana@example.com' })
  t.not(ana.statusCode, 403, 'a listed user may run')
  const admin = await session.htmx('POST', '/run', select, ADMIN)
  t.not(admin.statusCode, 403, 'an admin may run')
  const denied =
    await sql`select user_email from stackql_app.audit where action = 'query.run' and outcome = 'denied'`
  t.same(
    denied.map((r) => r.user_email),
    ['bo@example.com'],
    'the refusal is audited',
  )

  const removed = await session.htmx(
    'POST',
    '/access/profiles/remove',
    { provider: 'aws', principal: 'ana@example.com' },
    ADMIN,
  )
  t.equal(removed.statusCode, 200)
  const again = await session.htmx('POST', '/run', select, { 'x-forwarded-email': 'bo@example.com' })
  t.not(again.statusCode, 403, 'with nobody listed the profile is open again')
})
