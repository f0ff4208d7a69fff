import t from 'tap'
import { pruneChanges } from '../src/db/changes.js'
import { applySchema } from '../src/db/migrate.js'
import { testDb } from './helpers/db.js'

const query = { name: 'EC2 instances', description: 'all of them', query_text: 'SELECT 1', provider: 'aws' }

t.test('the schema applies twice without error and keeps existing rows', async (t) => {
  const { sql, db } = await testDb(t)
  const saved = await db.saveQuery(query, 'a@example.com')
  await applySchema(sql)
  await applySchema(sql)
  t.equal((await db.getQuery(saved.id))?.name, 'EC2 instances')
  const tables =
    await sql`select table_name from information_schema.tables where table_schema = 'stackql_app' order by 1`
  t.same(
    tables.map((r) => r.table_name),
    [
      'audit',
      'inventory_changes',
      'inventory_columns',
      'inventory_digest_packs',
      'inventory_digest_sets',
      'inventory_digests',
      'inventory_edits',
      'metadata_cache',
      'profile_permissions',
      'profile_variables',
      'provider_config',
      'queries',
      'run_slices',
      'runs',
      'schedules',
    ],
  )
})

t.test(
  "a previous version's (table, time) index on change records goes, an interim BRIN one too; records stay",
  async (t) => {
    const { sql } = await testDb(t)
    // As earlier versions left them: a btree by table and time, a BRIN by time; and two records.
    await sql`create index inventory_changes_target_idx
    on stackql_app.inventory_changes (target_schema, target_table, changed_at desc)`
    await sql`create index inventory_changes_time_brin on stackql_app.inventory_changes using brin (changed_at)`
    await sql`insert into stackql_app.inventory_changes (run_id, target_schema, target_table, change_kind, changed_at)
    values (1, 'stackql_inventory', 't', 'added', now() - interval '100 days'), (2, 'stackql_inventory', 't', 'added', now())`
    await applySchema(sql)
    await applySchema(sql)
    const indexes = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes where schemaname = 'stackql_app' and tablename = 'inventory_changes'
    order by 1`
    t.same(
      indexes.map((i) => i.indexname),
      ['inventory_changes_pkey', 'inventory_changes_run_idx', 'inventory_changes_time_idx'],
    )
    t.match(indexes[2]?.indexdef, /USING btree \(changed_at\)/)
    t.equal(await pruneChanges(sql, 90), 1, 'retention still prunes by time')
    const left = await sql`select run_id::int from stackql_app.inventory_changes`
    t.same(left, [{ run_id: 2 }])
  },
)

t.test('queries: save, get, list, update, delete', async (t) => {
  const { db } = await testDb(t)
  const a = await db.saveQuery(query, 'a@example.com')
  const b = await db.saveQuery({ ...query, name: 'another', provider: 'github' }, 'b@example.com')
  t.equal(a.created_by, 'a@example.com')
  t.ok(a.created_at instanceof Date)
  t.same(
    (await db.getQueries()).map((q) => q.name),
    ['another', 'EC2 instances'],
  )
  const updated = await db.updateQuery(a.id, { ...query, name: 'renamed', query_text: 'SELECT 2' })
  t.equal(updated.query_text, 'SELECT 2')
  t.ok(updated.updated_at.getTime() >= a.updated_at.getTime())
  await db.deleteQuery(b.id)
  t.equal(await db.getQuery(b.id), null)
  await t.rejects(db.deleteQuery(b.id), { code: 'NOT_FOUND' })
  await t.rejects(db.updateQuery(9999, query), { code: 'NOT_FOUND' })
  t.equal(await db.getQuery(-1), null)
})

t.test('a query with schedules cannot be deleted, and nothing changes', async (t) => {
  const { db } = await testDb(t)
  const q = await db.saveQuery(query, 'a@example.com')
  await db.saveSchedule({
    query_id: q.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'ec2',
  })
  await t.rejects(db.deleteQuery(q.id), {
    code: 'CONFLICT',
    message: /used by 1 schedule.*stackql_inventory\.ec2/,
  })
  t.ok(await db.getQuery(q.id))
  t.equal((await db.getSchedules()).length, 1)
})

t.test('schedules: unique target per schema, update, delete, joined view', async (t) => {
  const { db } = await testDb(t)
  const q = await db.saveQuery(query, 'a@example.com')
  const s = await db.saveSchedule({
    query_id: q.id,
    cron_expression: '0 6 * * *',
    target_schema: 'stackql_inventory',
    target_table: 'instances',
  })
  t.equal(s.is_active, true)
  t.equal(s.job_id, null)
  await t.rejects(
    db.saveSchedule({
      query_id: q.id,
      cron_expression: '0 * * * *',
      target_schema: 'stackql_inventory',
      target_table: 'instances',
    }),
    { code: 'CONFLICT', message: /already writes to that target table/ },
  )
  const other = await db.saveSchedule({
    query_id: q.id,
    cron_expression: '0 * * * *',
    target_schema: 'other_schema',
    target_table: 'instances',
  })
  t.ok(other.id)
  const updated = await db.updateSchedule(s.id, { is_active: false, job_id: '123456789012' })
  t.equal(updated.is_active, false)
  t.equal(updated.job_id, '123456789012')
  const [view] = await db.getSchedules()
  t.equal(view?.query_name, 'EC2 instances')
  t.equal(view?.provider, 'aws')
  t.equal((await db.findScheduleByTarget('stackql_inventory', 'instances'))?.id, s.id)
  await db.deleteSchedule(s.id)
  t.equal(await db.getSchedule(s.id), null)
  await t.rejects(db.deleteSchedule(s.id), { code: 'NOT_FOUND' })
  await t.rejects(
    db.saveSchedule({
      query_id: 4242,
      cron_expression: '0 * * * *',
      target_schema: 'stackql_inventory',
      target_table: 'x',
    }),
    { code: 'NOT_FOUND' },
  )
})

t.test('provider config: unique (provider, env var), providers list, delete', async (t) => {
  const { db } = await testDb(t)
  const m = {
    provider: 'aws',
    env_var_name: 'AWS_ACCESS_KEY_ID',
    secret_scope: 'stackql-inventory',
    secret_key: 'aws-key',
  }
  const saved = await db.saveProviderConfig(m, 'a@example.com')
  await db.saveProviderConfig(
    { ...m, env_var_name: 'AWS_SECRET_ACCESS_KEY', secret_key: 'aws-secret' },
    'a@example.com',
  )
  await db.saveProviderConfig(
    { ...m, provider: 'github', env_var_name: 'STACKQL_GITHUB_PASSWORD' },
    'a@example.com',
  )
  await t.rejects(db.saveProviderConfig(m, 'b@example.com'), {
    code: 'CONFLICT',
    message: /already has a mapping/,
  })
  t.same(await db.getProviders(), ['aws', 'github'])
  t.same(
    (await db.getProviderConfigFor('aws')).map((c) => c.env_var_name),
    ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  )
  t.equal((await db.getProviderConfigById(saved.id))?.secret_key, 'aws-key')
  await db.deleteProviderConfig(saved.id)
  t.equal((await db.getProviderConfig()).length, 2)
  await t.rejects(db.deleteProviderConfig(saved.id), { code: 'NOT_FOUND' })
})

t.test('runs link to the schedule writing the same target and update its last run', async (t) => {
  const { db } = await testDb(t)
  const q = await db.saveQuery(query, 'a@example.com')
  const s = await db.saveSchedule({
    query_id: q.id,
    cron_expression: '0 * * * *',
    target_schema: 'stackql_inventory',
    target_table: 'ec2',
  })
  const run = await db.startRun({ query_id: q.id, target_schema: 'stackql_inventory', target_table: 'ec2' })
  t.equal(run.schedule_id, s.id, 'linked by target although no schedule id was given')
  t.equal((await db.getSchedule(s.id))?.last_run_status, 'RUNNING')
  await db.finishRun(run.id, { status: 'FAILED', error: 'boom' })
  let after = await db.getSchedule(s.id)
  t.equal(after?.last_run_status, 'FAILED')
  t.equal(after?.last_error, 'boom')
  t.ok(after?.last_run_at)
  const ok = await db.startRun({ query_id: q.id, target_schema: 'stackql_inventory', target_table: 'ec2' })
  await db.finishRun(ok.id, { status: 'SUCCESS', row_count: 3 })
  after = await db.getSchedule(s.id)
  t.equal(after?.last_run_status, 'SUCCESS')
  t.equal(after?.last_error, null)
  const history = (await db.getRecentRunsBySchedule()).get(s.id)
  t.same(
    history?.map((r) => r.status),
    ['SUCCESS', 'FAILED'],
  )
  const orphan = await db.startRun({
    query_id: q.id,
    target_schema: 'stackql_inventory',
    target_table: 'nobody',
  })
  t.equal(orphan.schedule_id, null)
  t.equal((await db.getRunsForTable('stackql_inventory', 'ec2')).length, 2)
})

t.test('inventory: tables with recorded row counts, preview, materialised view refresh', async (t) => {
  const { sql, db } = await testDb(t)
  await sql`create table stackql_inventory.buckets as select g as id, 'b' || g as name from generate_series(1, 250) g`
  await sql`create materialized view stackql_inventory.buckets_mv as select count(*) as n from stackql_inventory.buckets`
  await sql`create table stackql_inventory.plain (x int)`
  const run = await db.startRun({
    query_id: null,
    target_schema: 'stackql_inventory',
    target_table: 'buckets',
  })
  await db.finishRun(run.id, { status: 'SUCCESS', row_count: 250 })
  const tables = await db.getInventoryTables()
  t.same(
    tables.map((x) => [x.name, x.row_count, x.has_mv]),
    [
      ['buckets', 250, true],
      ['plain', 0, false],
    ],
  )
  t.ok(tables[0]?.last_updated instanceof Date)
  const preview = await db.getInventoryPreview('buckets', 100)
  t.equal(preview.rows.length, 100)
  t.same(preview.columns, ['id', 'name'])
  await sql`insert into stackql_inventory.buckets values (251, 'new')`
  await db.refreshMaterialisedView('buckets_mv')
  const [mv] = await sql`select n from stackql_inventory.buckets_mv`
  t.equal(Number(mv?.n), 251)
})

t.test('identifier attacks are rejected with a clear error and change nothing', async (t) => {
  const { sql, db } = await testDb(t)
  await sql`create table stackql_inventory.victim (x int)`
  await sql`insert into stackql_inventory.victim values (1)`
  const attacks = [
    'x; drop table stackql_inventory.victim',
    'victim"; drop table stackql_inventory.victim; --',
    "victim' or '1'='1",
    'VICTIM',
    'vïctim',
    'victim\u0000',
    'a'.repeat(64),
    '',
    '../victim',
    'pg_catalog.pg_class',
  ]
  for (const name of attacks) {
    await t.rejects(
      db.getInventoryPreview(name),
      { code: 'IDENTIFIER_INVALID' },
      `preview ${JSON.stringify(name)}`,
    )
    await t.rejects(
      db.refreshMaterialisedView(name),
      { code: 'IDENTIFIER_INVALID' },
      `refresh ${JSON.stringify(name)}`,
    )
  }
  const q = await db.saveQuery(query, 'a@example.com')
  for (const target_table of attacks) {
    await t.rejects(
      db.saveSchedule({
        query_id: q.id,
        cron_expression: '0 * * * *',
        target_schema: 'stackql_inventory',
        target_table,
      }),
      { code: 'IDENTIFIER_INVALID' },
    )
  }
  for (const target_schema of ['stackql_app', 'pg_catalog', 'public', 'x;drop']) {
    await t.rejects(
      db.saveSchedule({ query_id: q.id, cron_expression: '0 * * * *', target_schema, target_table: 'ok' }),
      { code: 'IDENTIFIER_INVALID' },
    )
  }
  // tables outside stackql_inventory are not reachable through the inventory operations
  await t.rejects(db.getInventoryPreview('queries'), { code: 'NOT_FOUND' })
  await t.rejects(db.refreshMaterialisedView('victim'), { code: 'NOT_FOUND', message: /Materialised view/ })
  const [row] = await sql`select count(*)::int as n from stackql_inventory.victim`
  t.equal(row?.n, 1)
  t.equal((await db.getSchedules()).length, 0)
})

t.test('an unreachable database becomes DB_UNAVAILABLE naming host and port, then recovers', async (t) => {
  const { openDatabase } = await import('../src/db/connect.js')
  const { DbService } = await import('../src/db/db-service.js')
  const { url } = await testDb(t)
  const bad = await openDatabase(
    { mode: 'url', url: 'postgres://postgres:x@127.0.0.1:1/nothing' },
    { max: 1 },
  )
  t.teardown(bad.close)
  const down = new DbService(bad.sql, bad.target)
  await t.rejects(down.getQueries(), { code: 'DB_UNAVAILABLE', message: /127\.0\.0\.1:1.*ECONNREFUSED/ })
  t.equal(down.health.status.up, false)
  t.notMatch(String(down.health.status.message), /password|postgres:x/)
  const good = await openDatabase({ mode: 'url', url }, { max: 1 })
  t.teardown(good.close)
  const up = new DbService(good.sql, good.target)
  up.health.markDown('simulated outage')
  await up.getQueries()
  t.equal(up.health.status.up, true)
})

t.test(
  'a Lakebase token that cannot be minted is a database outage (banner), not a Databricks error',
  async (t) => {
    const { openDatabase } = await import('../src/db/connect.js')
    const { DbService } = await import('../src/db/db-service.js')
    const { AppError } = await import('../src/errors.js')
    const { url } = await testDb(t)
    const u = new URL(url)
    const minting = await openDatabase(
      {
        mode: 'lakebase',
        host: u.hostname,
        port: Number(u.port),
        database: u.pathname.slice(1),
        user: 'postgres',
        sslmode: 'disable',
      },
      {
        max: 1,
        password: async () => {
          throw new AppError(
            'DATABRICKS_AUTH',
            "Databricks did not accept the app's credentials (invalid_client).",
          )
        },
      },
    )
    t.teardown(minting.close)
    const db = new DbService(minting.sql, minting.target, undefined, minting.passwordProblem)
    await t.rejects(db.getQueries(), {
      code: 'DB_UNAVAILABLE',
      message: /Lakebase token could not be minted.*invalid_client/,
    })
    t.equal(db.health.status.up, false, 'the banner shows')
  },
)
