// Benchmark: throughput of the IDE page (GET / over loopback HTTP: identity, CSRF token, DB reads of
// providers and saved queries (from the DbService list cache between changes), Eta rendering (the body
// is reused while those lists are unchanged), security headers) against a bare Fastify route that
// answers the same bytes. Prints:
//   bench ide-page-throughput: <ratio>x (app <rps> req/s, bare <rps> req/s)   (target >= 0.5x)
// `--small`: short runs (CI smoke). Database: TEST_DATABASE_URL if set, else an embedded PostgreSQL.
// Usage: npx tsx scripts/bench/ide-page.ts [--small]
import { execFile, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import { buildApp } from '../../plugins/app.js'
import { loadConfig } from '../../src/config.js'
import { freshBenchDatabase } from './lib/support.js'

const SMALL = process.argv.includes('--small')
const DURATION_S = SMALL ? 2 : 8
const CONNECTIONS = 10
const SAVED_QUERIES = 25
const TARGET = 0.5

/**
 * Load from a second process (the autocannon CLI), so the server under test has the event loop to
 * itself — as it would behind the Databricks Apps proxy.
 */
async function requestsPerSecond(url: string, seconds = DURATION_S, cookie = ''): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      AUTOCANNON,
      '--json',
      '-c',
      String(CONNECTIONS),
      '-d',
      String(seconds),
      '-H',
      'accept=text/html',
      ...(cookie ? ['-H', `cookie=${cookie}`] : []),
      url,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  const result = JSON.parse(stdout) as { non2xx: number; errors: number; requests: { average: number } }
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return result.requests.average
}

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js')

async function main(): Promise<void> {
  const database = await freshBenchDatabase('bench_ide')
  const app = await buildApp(
    loadConfig({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'silent',
      STACKQL_LOCAL_DEV: 'true',
      NODE_ENV: 'production',
    }),
    { logger: false },
  )
  const bare = Fastify({ logger: false })
  try {
    await app.ready()
    for (const provider of ['aws', 'github', 'google']) {
      await app.db.saveProviderConfig(
        {
          provider,
          env_var_name: `${provider.toUpperCase()}_TOKEN`,
          secret_scope: 'team',
          secret_key: provider,
        },
        'bench@example.com',
      )
    }
    for (let i = 0; i < SAVED_QUERIES; i++) {
      await app.db.saveQuery(
        {
          name: `Saved query ${i + 1}`,
          description: 'Instances of one region, for the inventory',
          query_text: `SELECT instance_id, instance_type, state FROM aws.ec2.instances WHERE region = 'us-east-${i}'`,
          provider: 'aws',
        },
        'bench@example.com',
      )
    }
    await app.listen({ host: '127.0.0.1', port: 0 })
    const appUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`
    const page = await fetch(appUrl, { headers: { accept: 'text/html' } })
    if (page.status !== 200) throw new Error(`GET / answered ${page.status}`)
    const html = await page.text()
    if (!html.includes('Saved query 25')) throw new Error('GET / did not list the saved queries')

    bare.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(html))
    await bare.listen({ host: '127.0.0.1', port: 0 })
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/`

    // Warm both servers up, then measure one after the other.
    // A returning browser: it sends the CSRF cookie it was given, so the app signs a token but does
    // not mint a new secret per request.
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    await requestsPerSecond(appUrl, 1, cookie)
    await requestsPerSecond(bareUrl, 1)
    const appRps = await requestsPerSecond(appUrl, DURATION_S, cookie)
    const bareRps = await requestsPerSecond(bareUrl)
    const ratio = appRps / bareRps
    console.log(
      `bench ide-page-throughput: ${ratio.toFixed(2)}x (app ${Math.round(appRps)} req/s, bare ${Math.round(bareRps)} req/s)`,
    )
    console.log(
      `  page ${(html.length / 1024).toFixed(1)} KB, ${SAVED_QUERIES} saved queries, ${CONNECTIONS} connections, ${DURATION_S} s each; target >= ${TARGET}x`,
    )
    if (ratio < TARGET) console.log(`  BELOW TARGET: ${ratio.toFixed(2)}x < ${TARGET}x`)
  } finally {
    await bare.close()
    await app.close()
    await database.drop()
  }
}

// Measure the page as deployed: @fastify/view caches compiled templates only when the process runs
// with NODE_ENV=production (it reads process.env itself), so re-run this script that way.
if (process.env.NODE_ENV !== 'production') {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  })
  process.exit(child.status ?? 1)
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench ide-page failed: ${(e as Error).message}`)
    process.exit(1)
  },
)
