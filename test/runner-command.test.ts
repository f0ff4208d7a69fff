// "Run now" starts the job runner with src/paths.ts runnerCommand(): from the TypeScript sources
// (npm run dev) through tsx. Other tests start the bundle instead (test/helpers/runner-process.ts),
// so this one keeps the development command honest.
import './helpers/children.js'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot, RUNNER_NODE_FLAGS, runnerCommand } from '../src/paths.js'

t.test('from the sources, Run now starts jobs/run-query.ts through tsx with the runner flags', async (t) => {
  const argv = runnerCommand()
  t.same(argv, [
    process.execPath,
    ...RUNNER_NODE_FLAGS,
    '--import',
    'tsx',
    join(projectRoot, 'jobs', 'run-query.ts'),
  ])
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  })
  t.equal(r.status, 2, 'the runner started and refused the flags')
  t.match(r.stderr, /^run-query: --query-id is required\nusage: run-query/)
})

t.test('npm run job starts the bundle with the same runner flags', async (t) => {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  const start = pkg.scripts.job!.split('&&').pop()!.trim()
  t.equal(start, `node ${RUNNER_NODE_FLAGS.join(' ')} --enable-source-maps dist/run-query.mjs`)
})
