// "Run now" without Databricks: starts the job runner (jobs/run-query.ts, or its bundle) as a
// detached child process for ONE run and returns at once; the run records its own outcome in
// stackql_app.runs. Not a scheduler: nothing here repeats. The child's environment is exactly what
// the caller passes (DB settings + the provider credentials resolved for this run) — the server's
// process.env is neither read nor changed here, and the environment is never logged.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { AppError } from '../errors.js'
import type { Schedule } from '../models.js'
import { runnerArgs } from './runner-args.js'

export interface LocalRunLogger {
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
}

export interface LocalRunLauncherOptions {
  /** argv of the runner, e.g. [process.execPath, 'dist/run-query.mjs'] or [process.execPath, '--import', 'tsx', 'jobs/run-query.ts']. */
  command: string[]
  /** The child's base environment: PATH/HOME etc. and the DB settings (DATABASE_URL, LAKEBASE_*, PG*, or DATA_DIR). */
  env: Record<string, string>
  /** Per-run additions resolved at click time (the query's provider credentials); merged over `env`. */
  runEnv?: (schedule: Schedule) => Promise<Record<string, string>>
  log: LocalRunLogger
  cwd?: string
}

/** Returns ScheduleService's `launchLocalRun`: one child process per click, one at a time per schedule. */
export function createLocalRunLauncher(
  opts: LocalRunLauncherOptions,
): (schedule: Schedule) => Promise<{ message: string }> {
  const [file, ...baseArgs] = opts.command
  if (!file) throw new AppError('CONFIG_INVALID', 'The local job runner command is empty.')
  const running = new Map<number, number>() // schedule id -> pid (this launcher's children only)

  return async (schedule) => {
    const pid = running.get(schedule.id)
    if (pid !== undefined) {
      throw new AppError(
        'CONFLICT',
        `A local run of schedule ${schedule.id} is still in progress${pid ? ` (process ${pid})` : ''}; wait for it to finish.`,
      )
    }
    // Claim the schedule before the first await, so two quick clicks cannot both start a run.
    running.set(schedule.id, 0)
    let env: Record<string, string>
    try {
      env = { ...opts.env, ...(opts.runEnv ? await opts.runEnv(schedule) : {}) }
    } catch (e) {
      running.delete(schedule.id)
      throw e
    }
    const child = spawn(file, [...baseArgs, ...runnerArgs(schedule, 'local')], {
      env,
      cwd: opts.cwd,
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve)
        child.once('error', reject)
      })
    } catch (e) {
      running.delete(schedule.id)
      throw new AppError(
        'RUNNER_FAILED',
        `Could not start the job runner (${file}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Run \`npm run build\` and check that the runner exists.`,
        { cause: e },
      )
    }
    const childPid = child.pid!
    running.set(schedule.id, childPid)
    const context = { scheduleId: schedule.id, pid: childPid }
    for (const [stream, level] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => opts.log[level](context, `runner: ${line}`))
    }
    child.on('exit', (code, signal) => {
      running.delete(schedule.id)
      opts.log[code === 0 ? 'info' : 'warn']({ ...context, code, signal }, 'local run finished')
    })
    child.unref()
    opts.log.info(context, 'local run started')
    return {
      message: `Started a local run of schedule ${schedule.id} (process ${childPid}): it writes ${schedule.target_schema}.${schedule.target_table}; its result appears in the run history when it finishes.`,
    }
  }
}
