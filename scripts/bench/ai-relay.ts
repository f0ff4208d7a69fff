// Benchmark: time to first token through the IDE's chat relay (POST /chat over loopback HTTP: CSRF,
// validation, key lookup in the workspace's secret scope, SDK call, SSE re-rendering) against
// consuming the same Anthropic stand-in stream directly with the SDK. Prints:
//   bench ai-relay-ttft: <ratio>x (relay <ms> ms, direct <ms> ms, diff <ms> ms)   (target <= 1.1x + 5 ms)
// Medians over the measured requests after a warm-up. `--small`: fewer requests (CI smoke).
// Database: TEST_DATABASE_URL (set by npm run bench), else a throw-away embedded PostgreSQL.
// Usage: npx tsx scripts/bench/ai-relay.ts [--small]
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Anthropic from '@anthropic-ai/sdk'
import { buildApp } from '../../plugins/app.js'
import { loadConfig } from '../../src/config.js'
import { startAnthropicStandin } from '../../test/standins/anthropic.js'
import { startDatabricksStandin } from '../../test/standins/databricks/index.js'
import { freshBenchDatabase, median } from './lib/support.js'

const SMALL = process.argv.includes('--small')
const WARMUP = 3
const MEASURED = SMALL ? 10 : 40
/** Time the stand-in waits before each token: the first one arrives after this, like a real model's think time. */
const TOKEN_DELAY_MS = 20
const MODEL = 'claude-bench-model'
const STACKQL_STANDIN = fileURLToPath(new URL('../../test/standins/stackql/stackql.mjs', import.meta.url))
const QUESTION = [{ role: 'user' as const, content: 'List my EC2 instances in us-east-1' }]

async function main(): Promise<void> {
  // A plain text answer (no lookups), so relay and direct stream the same tokens; the answer's SQL
  // check runs after the last token against the StackQL stand-in and does not touch the first one.
  const api = await startAnthropicStandin({ tokenDelayMs: TOKEN_DELAY_MS, toolScenarioByDefault: false })
  const workspace = await startDatabricksStandin({ pats: ['dapi-bench'] })
  workspace.state.putSecret('stackql-inventory', 'anthropic-api-key', api.apiKey)
  const database = await freshBenchDatabase('bench_relay')
  const app = await buildApp(
    loadConfig({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'silent',
      STACKQL_LOCAL_DEV: 'false',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-bench',
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_MODEL: MODEL,
      STACKQL_BIN: STACKQL_STANDIN,
      STACKQL_DOWNLOAD_DIR: mkdtempSync(join(tmpdir(), 'bench-relay-')),
    }),
    { logger: false },
  )
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } })
    const cookie = /_csrf=[^;]+/.exec(page.headers.get('set-cookie') ?? '')?.[0] ?? ''
    const token = /<meta name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? ''

    /** ms from sending POST /chat to the first `render` event (the first token on screen). */
    const relay = async (): Promise<number> => {
      const t0 = performance.now()
      const res = await fetch(`${base}/chat`, {
        method: 'POST',
        headers: {
          cookie,
          'x-csrf-token': token,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ mode: 'query', messages: QUESTION }),
      })
      if (!res.ok || !res.body) throw new Error(`POST /chat answered ${res.status}: ${await res.text()}`)
      const decoder = new TextDecoder()
      let text = ''
      let first = 0
      for await (const chunk of res.body) {
        text += decoder.decode(chunk as Uint8Array, { stream: true })
        if (!first && text.includes('event: render')) first = performance.now() - t0
        if (text.includes('event: error')) throw new Error(`the relay streamed an error: ${text}`)
      }
      if (!first) throw new Error('the relay sent no render event')
      return first
    }

    /** ms from the SDK call to its first text delta, with a client per call as the service does. */
    const direct = async (): Promise<number> => {
      const t0 = performance.now()
      const client = new Anthropic({ apiKey: api.apiKey, baseURL: api.url, maxRetries: 0, logLevel: 'off' })
      const stream = await client.messages.create({
        model: MODEL,
        max_tokens: 1024,
        messages: QUESTION,
        stream: true,
      })
      let first = 0
      for await (const event of stream) {
        if (!first && event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          first = performance.now() - t0
        }
      }
      if (!first) throw new Error('the SDK stream had no text')
      return first
    }

    for (let i = 0; i < WARMUP; i++) {
      await relay()
      await direct()
    }
    const relayTimes: number[] = []
    const directTimes: number[] = []
    for (let i = 0; i < MEASURED; i++) {
      // Alternate so both see the same machine conditions.
      relayTimes.push(await relay())
      directTimes.push(await direct())
    }
    const r = median(relayTimes)
    const d = median(directTimes)
    console.log(
      `bench ai-relay-ttft: ${(r / d).toFixed(2)}x (relay ${r.toFixed(1)} ms, direct ${d.toFixed(1)} ms, diff ${(r - d).toFixed(1)} ms)`,
    )
    console.log(
      `  ${MEASURED} requests each, ${TOKEN_DELAY_MS} ms per stand-in token; target <= 1.1x + 5 ms (relay <= ${(d * 1.1 + 5).toFixed(1)} ms)`,
    )
    if (r > d * 1.1 + 5)
      console.log(`  ABOVE TARGET: relay ${r.toFixed(1)} ms > ${(d * 1.1 + 5).toFixed(1)} ms`)
  } finally {
    await app.close()
    await database.drop()
    await workspace.close()
    await api.close()
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench ai-relay failed: ${(e as Error).message}`)
    process.exit(1)
  },
)
