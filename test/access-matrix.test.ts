// The role matrix: every POST/PUT/PATCH/DELETE route the app registers has a rule, and a viewer,
// an editor and an admin each try every one of them. Those their role does not allow answer 403
// naming the role needed, change nothing in the database, and leave a "denied" audit row.
import postgres from 'postgres'
import t from 'tap'
import { hasRole, type Role } from '../src/access/roles.js'
import { isListed, RULES, ruleFor, ruleKey, UNSAFE_METHODS } from '../src/access/rules.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN, tempDir } from './helpers/stackql.js'

const USERS: Record<Role, string> = {
  viewer: 'viewer@example.com',
  editor: 'editor@example.com',
  admin: 'admin@example.com',
}

const { app, url, session } = await buildTestApp(t, {
  env: {
    APP_ADMINS: USERS.admin,
    APP_EDITORS: USERS.editor,
    STACKQL_BIN: STANDIN,
    STACKQL_DOWNLOAD_DIR: tempDir(t, 'access-matrix-'),
  },
})
const sql = postgres(url, { max: 1, onnotice: () => {} })
t.teardown(() => sql.end())

// Items that belong to the admin: an editor may not change them.
const query = await app.db.saveQuery(
  { name: 'admins query', description: '', query_text: 'SELECT 1 AS one', provider: 'aws' },
  USERS.admin,
)
const schedule = await app.db.saveSchedule(
  {
    query_id: query.id,
    cron_expression: '0 0 * * * ?',
    target_schema: 'stackql_inventory',
    target_table: 'admin_table',
  },
  USERS.admin,
)
const mapping = await app.db.saveProviderConfig(
  {
    provider: 'aws',
    env_var_name: 'AWS_ACCESS_KEY_ID',
    secret_scope: 'stackql-inventory',
    secret_key: 'aws-key',
  },
  USERS.admin,
)

const unsafe = app.routeList.filter((r) => UNSAFE_METHODS.has(r.method) && !r.url.startsWith('/static'))
const routes = [...new Map(unsafe.map((r) => [ruleKey(r.method, r.url), r])).values()]

t.test('every state-changing route has a rule in src/access/rules.ts', async (t) => {
  // Every rule, reads (admin-only pages, pages with profile pickers) included, names a real route.
  const keys = new Set(app.routeList.map((r) => ruleKey(r.method, r.url)))
  for (const key of Object.keys(RULES)) t.ok(keys.has(key), `the rule ${key} belongs to a registered route`)
  for (const r of routes) t.ok(isListed(r.method, r.url), `${r.method} ${r.url} has a rule`)
})

function pathOf(url: string): string {
  const id = url.startsWith('/queries') ? query.id : url.startsWith('/schedules') ? schedule.id : mapping.id
  return url.replace(':id', String(id)).replace(':name', 'admin_table')
}

const BODIES: Record<string, Record<string, string>> = {
  'POST /access/profiles': { provider: 'aws', principal: 'someone@example.com' },
  'POST /access/profiles/remove': { provider: 'aws', principal: 'someone@example.com' },
  'POST /run': { query_text: 'SELECT 1 AS one' },
  'POST /chat': { message: 'hello' },
  'POST /chat/render': { text: 'hello' },
  'POST /queries': { name: 'new one', query_text: 'SELECT 2', provider: 'aws' },
  'POST /schedules': {
    query_id: String(query.id),
    cron_expression: '0 0 * * * ?',
    target_table: 'other_table',
  },
  'POST /schedules/:id/cron': { cron_expression: '0 30 * * * ?' },
  'POST /providers': {
    provider: 'azure',
    env_var_name: 'AZURE_CLIENT_ID',
    secret_scope: 'stackql-inventory',
    secret_key: 'az',
  },
}

async function snapshot(): Promise<string> {
  const [row] = await sql`
    select (select json_agg(q order by id) from stackql_app.queries q) as q,
           (select json_agg(s order by id) from stackql_app.schedules s) as s,
           (select json_agg(p order by id) from stackql_app.provider_config p) as p,
           (select json_agg(r order by principal) from stackql_app.profile_permissions r) as r,
           (select json_agg(v order by id) from stackql_app.profile_variables v) as v,
           (select json_agg(u order by id) from stackql_app.runs u) as u`
  return JSON.stringify(row)
}

function denied(role: Role, method: string, url: string): boolean {
  const rule = ruleFor(method, url)!
  if (!hasRole(role, rule.role)) return true
  return Boolean(rule.owner) && role === 'editor'
}

const send = (role: Role, method: string, url: string) =>
  session.htmx(method as 'POST', pathOf(url), BODIES[ruleKey(method, url)] ?? {}, {
    'x-forwarded-email': USERS[role],
  })

t.test('each role is refused what its role does not allow, with nothing changed', async (t) => {
  await session.get('/')
  for (const r of routes) {
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      if (!denied(role, r.method, r.url)) continue
      const before = await snapshot()
      const auditBefore = (
        await sql`select count(*)::int as n from stackql_app.audit where outcome = 'denied'`
      )[0]!.n
      const res = await send(role, r.method, r.url)
      const rule = ruleFor(r.method, r.url)!
      t.equal(res.statusCode, 403, `${role}: ${r.method} ${r.url} is refused`)
      const needs = rule.owner && role === 'editor' && hasRole(role, rule.role) ? 'admin' : rule.role
      t.match(res.body, new RegExp(`need the ${needs} role`), `${role}: the message names the ${needs} role`)
      t.equal(await snapshot(), before, `${role}: ${r.method} ${r.url} changed nothing`)
      const auditAfter = (
        await sql`select count(*)::int as n from stackql_app.audit where outcome = 'denied'`
      )[0]!.n
      t.equal(auditAfter, auditBefore + 1, `${role}: the denied attempt is audited`)
    }
  }
})

t.test('what a role allows is not refused', async (t) => {
  for (const r of routes) {
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      if (denied(role, r.method, r.url)) continue
      // Deleting would take the items away from the routes still to come: those are tried last.
      if (r.method === 'DELETE' || r.url.endsWith('/delete')) continue
      const res = await send(role, r.method, r.url)
      t.not(res.statusCode, 403, `${role}: ${r.method} ${r.url} is allowed (got ${res.statusCode})`)
    }
  }
  const mine = await session.htmx(
    'POST',
    '/queries',
    { name: 'editors', query_text: 'SELECT 3', provider: 'aws' },
    {
      'x-forwarded-email': USERS.editor,
    },
  )
  t.equal(mine.statusCode, 201, 'an editor saves a query')
  const [own] = await sql`select id from stackql_app.queries where created_by = ${USERS.editor}`
  const del = await session.htmx('DELETE', `/queries/${own!.id}`, undefined, {
    'x-forwarded-email': USERS.editor,
  })
  t.equal(del.statusCode, 200, 'an editor deletes their own query')
  const rows =
    await sql`select action, outcome, user_email from stackql_app.audit where action like 'query.%' and user_email = ${USERS.editor} order by id`
  t.ok(
    rows.some((row) => row.action === 'query.delete' && row.outcome === 'ok'),
    'the delete is audited as ok',
  )
})
