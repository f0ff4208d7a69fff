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
 * streams rows through in batches, so its live heap stays small (a 1M-row run completes with the
 * old generation capped at 160 MB; the digest table and spooled slices live outside it). Two V8
 * defaults let garbage push the peak RSS well above that: 16 MB semi-spaces under a fast stream of
 * short-lived rows (~60 MB more at 1M rows; 4 MB costs ~10% write time), and an old generation
 * sized from the machine's memory (4 GB on a 24 GB machine), which V8 lets fill to ~230 MB before
 * it collects in earnest. With a 1 GB old generation (the changed rows a narrowed write keeps are
 * bounded by count and by characters, src/db/digest-compare.ts) the peak at 1M rows is ~155 MB
 * instead of ~230 MB, at the same speed (bench writer-memory).
 */
export const RUNNER_NODE_FLAGS = ['--max-semi-space-size=4', '--max-old-space-size=1024']

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
