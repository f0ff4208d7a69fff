#!/usr/bin/env node
// The README's test command: builds dist/ when a source is newer (tests start the bundled job runner,
// as production does: test/helpers/runner-process.ts), starts one real PostgreSQL server for the whole run (embedded, from
// node_modules) unless TEST_DATABASE_URL points at one, runs tap with any arguments given, then
// stops the server. Each test file creates its own database on it (test/helpers/db.ts).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { withTestDatabase } from './test-postgres.mjs'

const built = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' })
if (built.status !== 0) process.exit(built.status ?? 1)

// .taprc leaves out tap's TypeScript plugin (tests load through tsx). tap rebuilds its plugin set
// when the configuration differs from what it was built with, but only after it computed the test
// processes' loaders: the first run after `npm ci` (every CI run) would still load the plugin's
// ts-node into every test file. Rebuild first when the built set still has it (~15 s, once).
const TAP_BUILT = 'node_modules/@tapjs/test/test-built/dist/esm/index.js'
if (existsSync(TAP_BUILT) && /signature = `[^`]*@tapjs\/typescript/.test(readFileSync(TAP_BUILT, 'utf8'))) {
  const rebuilt = spawnSync(process.execPath, ['node_modules/tap/dist/esm/run.mjs', 'build'], {
    stdio: 'inherit',
  })
  if (rebuilt.status !== 0) process.exit(rebuilt.status ?? 1)
}

const code = await withTestDatabase(async (env) => {
  const child = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env,
  })
  return new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))))
})
process.exit(code)
