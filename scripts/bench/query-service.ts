// Overhead of QueryService (statement check, provider check, credential resolution, spawn,
// bounded read, parse + NULL unwrapping) over a bare spawn + JSON.parse of the same stand-in run.
// Usage: npx tsx scripts/bench/query-service.ts [--small]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CredentialResolver } from '../../src/services/credentials.js'
import { QueryService } from '../../src/services/query-service.js'
import { pickBaseEnvironment, StackqlRunner } from '../../src/stackql/runner.js'

const STANDIN = fileURLToPath(new URL('../../test/standins/stackql/stackql.mjs', import.meta.url))
const ROWS = 10_000
const RUNS = process.argv.includes('--small') ? 3 : 10
const QUERY = `SELECT * FROM stackql_test.util.rows WHERE count = '${ROWS}'`

const dir = mkdtempSync(join(tmpdir(), 'bench-query-service-'))
try {
  const runner = new StackqlRunner({
    binary: STANDIN,
    approot: join(dir, 'approot'),
    timeoutMs: 120_000,
    maxOutputBytes: 512 * 1024 * 1024,
  })
  const service = new QueryService({
    runner,
    credentials: new CredentialResolver({ source: 'environment', readEnv: () => undefined }),
    loadProviderConfig: async () => [],
  })
  const env = pickBaseEnvironment()

  const direct = (): Promise<unknown[]> =>
    new Promise((resolve, reject) => {
      const child = spawn(STANDIN, runner.args(QUERY), { env, stdio: ['ignore', 'pipe', 'ignore'] })
      const chunks: Buffer[] = []
      child.stdout.on('data', (c: Buffer) => chunks.push(c))
      child.on('error', reject)
      child.on('close', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
    })

  const viaService = async () => (await service.execute(QUERY, 'stackql_test')).rows

  // Warm up: pull the provider and let both paths run once.
  await service.execute('REGISTRY PULL stackql_test', '')
  await viaService()
  await direct()

  let serviceMs = 0
  let directMs = 0
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order so neither path always runs on a warmer machine.
    for (const which of i % 2 ? ['direct', 'service'] : ['service', 'direct']) {
      const started = performance.now()
      const rows = which === 'service' ? await viaService() : await direct()
      const ms = performance.now() - started
      if (rows.length !== ROWS) throw new Error(`${which} returned ${rows.length} rows, expected ${ROWS}`)
      if (which === 'service') serviceMs += ms
      else directMs += ms
    }
  }
  const ratio = serviceMs / directMs
  console.log(
    `bench query-service-overhead: ${ratio.toFixed(2)}x (service ${Math.round(serviceMs / RUNS)} ms, direct ${Math.round(directMs / RUNS)} ms, rows ${ROWS}, runs ${RUNS})`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
