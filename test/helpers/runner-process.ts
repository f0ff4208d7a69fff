// The job runner as a child process (tests that kill it or read its exit): the bundle production
// runs, dist/run-query.mjs, started with the flags every start uses (src/paths.ts). The README's test
// command builds it first when a source is newer (scripts/test.mjs); a stale bundle is refused here,
// so a test never runs yesterday's runner. (Through tsx each start cost ~2.5 s of CPU.)
import './children.js'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RUNNER_NODE_FLAGS } from '../../src/paths.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

let checked = false
/** argv (after the node binary) that starts the bundled job runner; throws when the bundle is stale. */
export function runnerArgv(): string[] {
  if (!checked) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--check'], { cwd: ROOT })
    if (r.status !== 0)
      throw new Error('dist/run-query.mjs is older than the sources: run `npm run build` (npm test does)')
    checked = true
  }
  return [...RUNNER_NODE_FLAGS, join(ROOT, 'dist/run-query.mjs')]
}

/** The bundled runner's full argv, for the app's "Run now" (BuildAppOptions.runnerCommand). */
export const runnerCommand = (): string[] => [process.execPath, ...runnerArgv()]

/** Starts the job runner with `args` and exactly `env`, stdout and stderr piped. */
export function spawnRunner(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...runnerArgv(), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** The child's exit code or signal, with everything it wrote to stdout and stderr. */
export function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    let output = ''
    child.stdout!.on('data', (c) => {
      output += c
    })
    child.stderr!.on('data', (c) => {
      output += c
    })
    child.on('exit', (code, signal) => resolve({ code, signal, output }))
  })
}
