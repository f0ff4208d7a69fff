// The job runner as a child process from its TypeScript source (tests that kill it or read its exit).
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Starts `jobs/run-query.ts` with `args` and exactly `env`, stdout and stderr piped. */
export function spawnRunner(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'jobs/run-query.ts'), ...args], {
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
