// Browser tests: the real app listening on a loopback port (real PostgreSQL, the stand-in stackql
// executable, optionally the Anthropic and Databricks stand-ins) driven by Debian's Chromium through
// playwright-core. Screenshots go to test-artifacts/screenshots/ (kept as CI artifacts).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type Browser, chromium, type Page } from 'playwright-core'
import { buildApp } from '../../plugins/app.js'
import { loggerOptions } from '../../plugins/services/index.js'
import { type Config, loadConfig } from '../../src/config.js'
import { testEnv } from './app.js'
import { createTestDatabase } from './db.js'
import { runnerCommand } from './runner-process.js'
import { STANDIN } from './stackql.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots')

/** True when Chromium is installed (`.ci/run` installs it); browser tests skip with a reason otherwise. */
export const hasChromium = existsSync(CHROMIUM)

export interface BrowserApp {
  app: FastifyInstance
  config: Config
  /** STACKQL_DOWNLOAD_DIR of the app (binary + approot). */
  downloadDir: string
  baseUrl: string
  dbUrl: string
  browser: Browser
  page: Page
  /** Saves a full-page screenshot as test-artifacts/screenshots/<name>.png. */
  screenshot(name: string): Promise<string>
  /** Messages the page logged with console.error, and uncaught page errors. */
  pageErrors: string[]
}

/**
 * Starts the app (env: stand-in stackql + local-dev credentials by default; pass more env to add the
 * Anthropic / Databricks stand-ins) on 127.0.0.1:<random port> and opens one Chromium page on it.
 */
export interface BrowserAppOptions {
  env?: Record<string, string>
  /** Where the app logs (its production logger options, redaction included); silent otherwise. */
  logStream?: { write(chunk: string): void }
  /** Default time Playwright waits for an element or event. */
  timeoutMs?: number
}

export async function startBrowserApp(t: Teardown, opts: BrowserAppOptions = {}): Promise<BrowserApp> {
  const dbUrl = await createTestDatabase(t)
  const downloadDir = mkdtempSync(join(tmpdir(), 'stackql-browser-'))
  t.teardown(() => rmSync(downloadDir, { recursive: true, force: true }))
  const config = loadConfig(
    testEnv(dbUrl, {
      STACKQL_BIN: STANDIN,
      STACKQL_DOWNLOAD_DIR: downloadDir,
      HOST: '127.0.0.1',
      ...opts.env,
    }),
  )
  const logger = opts.logStream ? { ...(loggerOptions(config) as object), stream: opts.logStream } : false
  const app = await buildApp(config, { logger, runnerCommand: runnerCommand() })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true })
  const page = await context.newPage()
  page.setDefaultTimeout(opts.timeoutMs ?? 15_000)
  const pageErrors: string[] = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => {
    // 4xx/5xx fragments are expected answers (htmx swaps them); Chromium logs each as a console error.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text())
  })
  mkdirSync(SCREENSHOTS, { recursive: true })
  return {
    app,
    config,
    downloadDir,
    baseUrl,
    dbUrl,
    browser,
    page,
    pageErrors,
    screenshot: async (name) => {
      const file = join(SCREENSHOTS, `${name}.png`)
      await page.screenshot({ path: file, fullPage: true })
      return file
    },
  }
}
