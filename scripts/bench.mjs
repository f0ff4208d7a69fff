#!/usr/bin/env node
// `npm run bench`: runs every benchmark in scripts/bench/ one after another against one throw-away
// PostgreSQL server. Each prints one line `bench <name>: <ratio>x ...`. `--small` runs the quick
// sizes CI uses as a smoke test. A benchmark that fails is reported and the exit code is non-zero.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { withTestDatabase } from './test-postgres.mjs'

const args = process.argv.slice(2)
const only = args.filter((a) => !a.startsWith('--'))
const flags = args.filter((a) => a.startsWith('--'))
const benches = readdirSync(new URL('./bench/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()

const failed = await withTestDatabase(async (env) => {
  const failures = []
  for (const file of benches) {
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', `scripts/bench/${file}`, ...flags], {
        stdio: 'inherit',
        env,
      })
      child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)))
    })
    if (code !== 0) failures.push(file)
  }
  return failures
})
if (failed.length) {
  console.error(`benchmarks failed: ${failed.join(', ')}`)
  process.exit(1)
}
