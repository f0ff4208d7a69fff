// Where the project's files are, whether running from sources (tsx/tap) or from dist/.
import { existsSync } from 'node:fs'
import { dirname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(start: string): string {
  let dir = start
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'views'))) return dir
    dir = resolve(dir, '..')
  }
  return process.cwd()
}

/** The project root: holds package.json, views/, public/ and scripts/. */
export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)))

/**
 * Node flags every start of the job runner uses (here, `npm run job`, jobs/launcher.py). The runner
 * streams rows through in batches, so its live heap stays small; V8's default young generation
 * (16 MB semi-spaces) let a fast stream of short-lived rows push the peak RSS ~60 MB above that at
 * 1M rows. 4 MB semi-spaces keep the peak near the live set (bench writer-memory: 297 -> 231 MB)
 * for ~10% more write time.
 */
export const RUNNER_NODE_FLAGS = ['--max-semi-space-size=4']

/**
 * argv that starts the job runner from here: the bundled dist/run-query.mjs when this code runs
 * from the build (npm start, Databricks Apps), else the TypeScript source through tsx (dev, tests).
 */
export function runnerCommand(): string[] {
  const fromBuild = fileURLToPath(import.meta.url).includes(`${sep}dist${sep}`)
  const bundle = resolve(projectRoot, 'dist', 'run-query.mjs')
  if (fromBuild && existsSync(bundle))
    return [process.execPath, ...RUNNER_NODE_FLAGS, '--enable-source-maps', bundle]
  return [
    process.execPath,
    ...RUNNER_NODE_FLAGS,
    '--import',
    'tsx',
    resolve(projectRoot, 'jobs', 'run-query.ts'),
  ]
}
