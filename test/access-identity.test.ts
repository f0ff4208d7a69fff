// Roles from e-mails and groups; groups from SCIM Me with the user's forwarded token (against the
// stand-in workspace), cached per user for 5 minutes, failing closed on a forged token or a SCIM fault.
import t from 'tap'
import { GROUPS_TTL_MS, GroupCache } from '../src/access/groups.js'
import { accessPolicy, resolveRole } from '../src/access/roles.js'
import { fetchScimMe } from '../src/databricks/scim.js'
import { buildTestApp } from './helpers/app.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const workspace = await startDatabricksStandin({ pats: ['dapi-app'] })
t.teardown(() => workspace.close())
workspace.state.userTokens.set('user-token-ana', {
  id: '42',
  userName: 'ana@example.com',
  groups: ['Platform Admins', 'Ingénieurs données'],
})
workspace.state.userTokens.set('user-token-bo', {
  id: '43',
  userName: 'bo@example.com',
  groups: ['Analysts'],
})

t.test('no admin configured: everyone is admin (access control off)', async (t) => {
  const policy = accessPolicy({ admins: '', editors: 'someone@example.com' })
  t.equal(policy.enabled, false)
  t.equal(resolveRole(policy, 'anyone@example.com', []), 'admin')
})

t.test(
  'with an admin configured everyone else is a viewer unless APP_DEFAULT_ROLE says otherwise',
  async (t) => {
    t.equal(resolveRole(accessPolicy({ admins: 'a@x.io', editors: '' }), 'b@x.io', []), 'viewer')
    t.equal(
      resolveRole(accessPolicy({ admins: 'a@x.io', editors: '', defaultRole: 'editor' }), 'b@x.io', []),
      'editor',
    )
    t.equal(
      resolveRole(accessPolicy({ admins: 'A@X.io', editors: '' }), 'a@x.io', []),
      'admin',
      'e-mails ignore case',
    )
  },
)

t.test('group names with spaces and unicode match however they are written', async (t) => {
  const policy = accessPolicy({
    admins: 'root@x.io, group:Platform Admins',
    // "Ingénieurs" written with a combining accent (NFD) must match SCIM's precomposed form.
    editors: 'group:Inge\u0301nieurs données ,group:数据 团队',
  })
  t.equal(resolveRole(policy, 'u@x.io', ['platform admins']), 'admin')
  t.equal(resolveRole(policy, 'u@x.io', ['Ingénieurs données']), 'editor')
  t.equal(resolveRole(policy, 'u@x.io', ['数据 团队']), 'editor')
  t.equal(resolveRole(policy, 'u@x.io', ['Platform']), 'viewer', 'a part of a name is not the group')
  t.equal(resolveRole(policy, 'u@x.io', ['Ingénieurs']), 'viewer')
})

t.test('SCIM Me with the forwarded token gives the user their groups', async (t) => {
  const me = await fetchScimMe(workspace.url, 'user-token-ana')
  t.same(me.groups, ['Platform Admins', 'Ingénieurs données'])
  t.equal(me.userName, 'ana@example.com')
  const req = workspace.state.requests.at(-1)!
  t.equal(req.path, '/api/2.0/preview/scim/v2/Me')
})

t.test('a forged token or a SCIM failure fails closed: no groups, and the reason', async (t) => {
  const cache = new GroupCache((token) => fetchScimMe(workspace.url, token))
  const forged = await cache.membership('ana@example.com', 'forged-token')
  t.same(forged.groups, [])
  t.match(forged.problem, /refused your forwarded token \(HTTP 401\)/)

  const someoneElses = await new GroupCache((token) => fetchScimMe(workspace.url, token)).membership(
    'ana@example.com',
    'user-token-bo',
  )
  t.same(someoneElses.groups, [], "another user's token does not lend their groups")
  t.match(someoneElses.problem, /belongs to another identity/)

  workspace.faults.add({ method: 'GET', path: '/api/2.0/preview/scim/v2/Me', status: 500 })
  const failed = await new GroupCache((token) => fetchScimMe(workspace.url, token)).membership(
    'ana@example.com',
    'user-token-ana',
  )
  t.same(failed.groups, [])
  t.match(failed.problem, /HTTP 500/)

  const none = await new GroupCache((token) => fetchScimMe(workspace.url, token)).membership(
    'ana@example.com',
    undefined,
  )
  t.match(none.problem, /No user token was forwarded/)
})

t.test('a user removed from a group loses its rights within the 5-minute cache time', async (t) => {
  let now = 1_000_000
  const cache = new GroupCache(
    (token) => fetchScimMe(workspace.url, token),
    () => now,
  )
  const policy = accessPolicy({ admins: 'group:Platform Admins', editors: '' })
  const role = async () =>
    resolveRole(
      policy,
      'ana@example.com',
      (await cache.membership('ana@example.com', 'user-token-ana')).groups,
    )
  t.equal(await role(), 'admin')
  workspace.state.userTokens.set('user-token-ana', { id: '42', userName: 'ana@example.com', groups: [] })
  now += GROUPS_TTL_MS - 1000
  t.equal(await role(), 'admin', 'still cached just before the 5 minutes are up')
  now += 2000
  t.equal(await role(), 'viewer', 'the removal counts once the cache time has passed')
  workspace.state.userTokens.set('user-token-ana', {
    id: '42',
    userName: 'ana@example.com',
    groups: ['Platform Admins', 'Ingénieurs données'],
  })
})

t.test(
  'in the app: a forged token gives the default role and the page says why; the token is not kept',
  async (t) => {
    const { app, session } = await buildTestApp(t, {
      env: {
        APP_ADMINS: 'group:Platform Admins',
        DATABRICKS_HOST: workspace.url,
        DATABRICKS_TOKEN: 'dapi-app',
      },
    })
    const good = await session.get('/', {
      'x-forwarded-email': 'ana@example.com',
      'x-forwarded-access-token': 'user-token-ana',
    })
    t.match(good.body, /class="role-badge" title="Your role">admin</)
    t.match(good.body, /href="\/audit"/, 'admins see the Audit page in the navigation')

    const forged = await session.get('/', {
      'x-forwarded-email': 'eve@example.com',
      'x-forwarded-access-token': 'forged-by-eve',
    })
    t.match(forged.body, /class="role-badge" title="Your role">viewer</)
    t.match(
      forged.body,
      /id="access-banner"[^>]*>\s*<strong>Signed in with the viewer role.<\/strong> Your group membership could not be read/,
    )
    t.notMatch(forged.body, /forged-by-eve/, 'the token never reaches the page')
    t.notMatch(forged.body, /href="\/audit"/)
    const audit = await session.get('/audit', {
      'x-forwarded-email': 'eve@example.com',
      'x-forwarded-access-token': 'forged-by-eve',
    })
    t.equal(audit.statusCode, 403, 'the Audit page is for admins only')
    t.match(audit.body, /You need the admin role to see the audit log/)
    t.notOk(JSON.stringify(app.accessPolicy).includes('token'), 'the policy holds no token')
  },
)

t.test('local development (no admins configured) shows the access-off banner on every page', async (t) => {
  const { session } = await buildTestApp(t)
  for (const page of ['/', '/schedules', '/providers', '/inventory']) {
    const res = await session.get(page)
    t.match(res.body, /<strong>Access control is off.<\/strong>/, `${page} says access control is off`)
  }
})

t.test('in the app: a SCIM failure fails closed to the default role and the page says why', async (t) => {
  const { session } = await buildTestApp(t, {
    env: {
      APP_ADMINS: 'group:Platform Admins',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-app',
    },
  })
  workspace.faults.add({ method: 'GET', path: '/api/2.0/preview/scim/v2/Me', status: 500 })
  t.teardown(() => workspace.faults.clear())
  const res = await session.get('/', {
    'x-forwarded-email': 'ana@example.com',
    'x-forwarded-access-token': 'user-token-ana',
  })
  t.match(res.body, /class="role-badge" title="Your role">viewer</, 'an admin by group is only a viewer now')
  t.match(res.body, /id="access-banner"[\s\S]*Your group membership could not be read[\s\S]*HTTP 500/)
  const save = await session.htmx(
    'POST',
    '/queries',
    { name: 'x', query_text: 'SELECT 1', provider: 'aws' },
    { 'x-forwarded-email': 'ana@example.com', 'x-forwarded-access-token': 'user-token-ana' },
  )
  t.equal(save.statusCode, 403, 'and is refused what a viewer may not do')
})

t.test('in the app: group names with spaces and unicode match however APP_EDITORS spells them', async (t) => {
  workspace.state.userTokens.set('user-token-cy', {
    id: '44',
    userName: 'cy@example.com',
    groups: ['Ingénieurs données', '数据 团队'],
  })
  const { session } = await buildTestApp(t, {
    env: {
      APP_ADMINS: 'root@example.com',
      // Decomposed é (e + U+0301), other case, spaces around: still the SCIM group "Ingénieurs données".
      APP_EDITORS: 'group:  INGE\u0301NIEURS DONNÉES ',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-app',
    },
  })
  const res = await session.get('/', {
    'x-forwarded-email': 'cy@example.com',
    'x-forwarded-access-token': 'user-token-cy',
  })
  t.match(res.body, /class="role-badge" title="Your role">editor</)
})

t.test(
  'a profile restricted to a group is usable by its members even when roles name only e-mails',
  async (t) => {
    workspace.state.userTokens.set('user-token-di', {
      id: '45',
      userName: 'di@example.com',
      groups: ['Équipe Sécurité Prod'],
    })
    const { session } = await buildTestApp(t, {
      env: { APP_ADMINS: 'root@example.com', DATABRICKS_HOST: workspace.url, DATABRICKS_TOKEN: 'dapi-app' },
    })
    const root = { 'x-forwarded-email': 'root@example.com' }
    const added = await session.htmx(
      'POST',
      '/access/profiles',
      { provider: 'aws', profile: 'prod', principal: 'group:équipe sécurité prod' },
      root,
    )
    t.equal(added.statusCode, 200)
    const run = (headers: Record<string, string>) =>
      session.htmx(
        'POST',
        '/run',
        { query_text: "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'", profile: 'aws/prod' },
        headers,
      )
    const member = await run({
      'x-forwarded-email': 'di@example.com',
      'x-forwarded-access-token': 'user-token-di',
    })
    t.not(member.statusCode, 403, 'a member of the group may use the profile')
    const forged = await run({ 'x-forwarded-email': 'di@example.com', 'x-forwarded-access-token': 'forged' })
    t.ok(forged.statusCode !== 403, 'the cached membership of this user still holds for the cache time')
    const eve = await run({
      'x-forwarded-email': 'eve@example.com',
      'x-forwarded-access-token': 'forged-by-eve',
    })
    t.equal(eve.statusCode, 403, 'a forged token gives no groups')
    t.match(
      eve.body,
      /Profile aws\/prod is restricted[\s\S]*refused your forwarded token \(HTTP 401\)/,
      'and says why',
    )
  },
)
