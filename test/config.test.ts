import t from 'tap'
import { loadConfig, normaliseHost } from '../src/config.js'

t.test('with nothing configured: port 8000, embedded PostgreSQL in .data, no workspace', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 8000)
  t.equal(c.host, '0.0.0.0')
  t.equal(c.database.mode, 'embedded')
  t.match(c.database.mode === 'embedded' && c.database.dataDir, /\.data\/pg$/)
  t.equal(c.databricks, undefined)
  t.equal(c.secretScope, 'stackql-inventory')
  t.equal(c.templateJob, 'stackql-inventory-template')
  t.equal(c.jobTimezone, 'UTC')
  t.equal(c.stackql.downloadDir, '/tmp/stackql')
  t.equal(c.localDev, false)
})

t.test('DATABRICKS_APP_PORT wins over PORT', async (t) => {
  t.equal(loadConfig({ PORT: '9000' }).port, 9000)
  t.equal(loadConfig({ PORT: '9000', DATABRICKS_APP_PORT: '8080' }).port, 8080)
})

t.test('a malformed variable stops start-up with a message naming it', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), {
    code: 'CONFIG_INVALID',
    message: /PORT is invalid: expected a TCP port number/,
  })
  t.throws(() => loadConfig({ STACKQL_LOCAL_DEV: 'maybe' }), {
    message: /STACKQL_LOCAL_DEV is invalid: expected true or false/,
  })
  t.throws(() => loadConfig({ PGSSLMODE: 'sometimes' }), { message: /PGSSLMODE is invalid/ })
  t.throws(() => loadConfig({ LAKEBASE_ENDPOINT: 'my-endpoint' }), {
    message: /LAKEBASE_ENDPOINT is invalid: expected projects\//,
  })
  t.throws(() => loadConfig({ PGHOST: 'h' }), {
    message: /neither LAKEBASE_ENDPOINT .* nor LAKEBASE_INSTANCE/,
  })
  t.throws(() => loadConfig({ LAKEBASE_HOST: 'h', LAKEBASE_USER: 'u', LAKEBASE_PASSWORD: 'p' }), {
    message: /LAKEBASE_HOST is set but LAKEBASE_DATABASE is missing/,
  })
})

t.test('the seed LAKEBASE_* settings select the lakebase mode with the static password', async (t) => {
  const c = loadConfig({
    LAKEBASE_HOST: 'db.example.com',
    LAKEBASE_DATABASE: 'inv',
    LAKEBASE_USER: 'app',
    LAKEBASE_PASSWORD: 'pw',
  })
  t.match(c.database, {
    mode: 'lakebase',
    host: 'db.example.com',
    port: 5432,
    database: 'inv',
    user: 'app',
    password: 'pw',
  })
})

t.test(
  'Databricks Apps PG* variables select pg-env mode with SSL required and no static password',
  async (t) => {
    const c = loadConfig({
      PGHOST: 'instance.database.cloud.databricks.com',
      PGDATABASE: 'databricks_postgres',
      PGUSER: 'sp-client-id',
      PGSSLMODE: 'require',
      LAKEBASE_INSTANCE: 'stackql-inventory',
      DATABRICKS_HOST: 'adb-1.azuredatabricks.net',
      DATABRICKS_CLIENT_ID: 'id',
      DATABRICKS_CLIENT_SECRET: 'secret',
      DATABRICKS_APP_NAME: 'stackql-inventory',
    })
    t.match(c.database, { mode: 'pg-env', sslmode: 'require', lakebaseInstance: 'stackql-inventory' })
    t.equal((c.database as { password?: string }).password, undefined)
    t.equal(c.databricks?.host, 'https://adb-1.azuredatabricks.net')
    t.equal(c.inDatabricksApp, true)
  },
)

t.test('workspace hosts are normalised with or without a scheme', async (t) => {
  t.equal(normaliseHost('adb-1.azuredatabricks.net/'), 'https://adb-1.azuredatabricks.net')
  t.equal(normaliseHost('https://x.cloud.databricks.com'), 'https://x.cloud.databricks.com')
  t.equal(normaliseHost('http://127.0.0.1:9999'), 'http://127.0.0.1:9999')
})

t.test('a host without credentials is not a configured workspace', async (t) => {
  t.equal(loadConfig({ DATABRICKS_HOST: 'x' }).databricks, undefined)
  t.ok(loadConfig({ DATABRICKS_HOST: 'x', DATABRICKS_TOKEN: 'dapi' }).databricks)
})

t.test('APP_PLUGINS lists extension modules', async (t) => {
  t.same(loadConfig({ APP_PLUGINS: ' ./a.js, @team/b ,' }).extensions, ['./a.js', '@team/b'])
})

t.test('FOR_EACH_THRESHOLD and FOR_EACH_CONCURRENCY default to 8 and 4 and must be in range', async (t) => {
  t.match(loadConfig({}), { forEachThreshold: 8, forEachConcurrency: 4 })
  t.match(loadConfig({ FOR_EACH_THRESHOLD: '20', FOR_EACH_CONCURRENCY: '100' }), {
    forEachThreshold: 20,
    forEachConcurrency: 100,
  })
  t.throws(() => loadConfig({ FOR_EACH_CONCURRENCY: '101' }), {
    message: /FOR_EACH_CONCURRENCY is invalid: expected a whole number from 1 to 100/,
  })
  t.throws(() => loadConfig({ FOR_EACH_CONCURRENCY: '0' }), { message: /FOR_EACH_CONCURRENCY is invalid/ })
  t.throws(() => loadConfig({ FOR_EACH_THRESHOLD: 'many' }), { message: /FOR_EACH_THRESHOLD is invalid/ })
})
