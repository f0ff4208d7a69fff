// "Run now" without Databricks: starts the job runner (jobs/run-query.ts, or its bundle) as a
// detached child process for ONE run and returns at once; the run records its own outcome in
// stackql_app.runs. Not a scheduler: nothing here repeats. The child's environment is exactly what
// the caller passes (DB settings + the provider credentials resolved for this run) — the server's
// process.env is neither read nor changed here, and the environment is never logged.
// The child writes to its own log file (one per run), not into pipes to the server: a server
// restart mid-run cannot break it. It is bounded twice: by its own --timeout-s (which survives a
// server restart) and by this launcher's kill of its process group a grace period later.
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
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
  /** Where each run's log file goes (`<DATA_DIR>/runs`). */
  logDir: string
  /** The whole run's bound (the query timeout + a margin for writing): the child stops itself then. */
  timeoutMs: number
  /** How long a click waits for the schedule's previous run process to exit (default EXIT_WAIT_MS). */
  exitWaitMs?: number
}

/** Log files kept in logDir; older ones are removed when a run starts. */
export const LOCAL_RUN_LOGS_KEPT = 50
/** Added to the query timeout for a local run's bound: provider pulls, the write, the view refresh. */
export const LOCAL_RUN_MARGIN_MS = 10 * 60_000
/** How long a click waits for the schedule's previous run process to exit before saying it still runs. */
export const EXIT_WAIT_MS = 3000
/** How long after its own bound the launcher kills a child that did not stop. */
const KILL_GRACE_MS = 60_000

export interface LocalRunStarted {
  message: string
  logFile: string
}

/** Returns ScheduleService's `launchLocalRun`: one child process per click, one at a time per schedule. */
export function createLocalRunLauncher(
  opts: LocalRunLauncherOptions,
): (schedule: Schedule) => Promise<LocalRunStarted> {
  const [file, ...baseArgs] = opts.command
  if (!file) throw new AppError('CONFIG_INVALID', 'The local job runner command is empty.')
  const running = new Map<number, number>() // schedule id -> pid (this launcher's children only)
  const exits = new Map<number, Promise<void>>() // schedule id -> its child's exit

  return async (schedule) => {
    // A run records its end a moment before its process exits (closing connections, flushing the
    // log): a click in between waits for that exit a little instead of being refused.
    const exiting = running.get(schedule.id) ? exits.get(schedule.id) : undefined
    const waitMs = opts.exitWaitMs ?? EXIT_WAIT_MS
    if (exiting && waitMs > 0)
      await Promise.race([exiting, new Promise((r) => setTimeout(r, waitMs).unref())])
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
    let logFile: string
    let fd: number
    try {
      env = { ...opts.env, ...(opts.runEnv ? await opts.runEnv(schedule) : {}) }
      logFile = openLogFile(opts.logDir, schedule.id)
      fd = openSync(logFile, 'a', 0o600)
    } catch (e) {
      running.delete(schedule.id)
      if (e instanceof AppError) throw e
      throw new AppError(
        'RUNNER_FAILED',
        `Could not create the run's log file in ${opts.logDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check that DATA_DIR is writable.`,
        { cause: e },
      )
    }
    const timeoutS = Math.max(1, Math.ceil(opts.timeoutMs / 1000))
    const args = [
      ...baseArgs,
      ...runnerArgs(schedule, 'local'),
      '--log-file',
      logFile,
      '--timeout-s',
      String(timeoutS),
    ]
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(file, args, {
        env,
        cwd: opts.cwd,
        detached: true,
        shell: false,
        stdio: ['ignore', fd, fd],
      })
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
    } finally {
      closeSync(fd) // the child holds its own copy
    }
    const childPid = child.pid!
    running.set(schedule.id, childPid)
    exits.set(schedule.id, new Promise<void>((resolve) => child.once('exit', () => resolve())))
    const context = { scheduleId: schedule.id, pid: childPid, logFile }
    // Second line of defence: the child stops itself at --timeout-s; this kills it if it did not.
    const killer = setTimeout(
      () => {
        opts.log.warn(context, 'local run still running past its bound: killing it')
        try {
          process.kill(-childPid, 'SIGKILL')
        } catch {
          child.kill('SIGKILL')
        }
      },
      timeoutS * 1000 + KILL_GRACE_MS,
    )
    killer.unref()
    child.on('exit', (code, signal) => {
      clearTimeout(killer)
      running.delete(schedule.id)
      exits.delete(schedule.id)
      opts.log[code === 0 ? 'info' : 'warn']({ ...context, code, signal }, 'local run finished')
    })
    child.unref()
    opts.log.info(context, 'local run started')
    return {
      logFile,
      message: `Started a local run of schedule ${schedule.id} (process ${childPid}): it writes ${schedule.target_schema}.${schedule.target_table}; its result appears in the run history when it finishes. Log: ${logFile}`,
    }
  }
}

/** A new log file name for one run (`schedule-<id>-<time>.log`), after pruning the oldest logs. */
function openLogFile(dir: string, scheduleId: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  try {
    const logs = readdirSync(dir)
      .filter((f) => /^schedule-\d+-.*\.log$/.test(f))
      .map((f) => ({ f, at: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.at - a.at)
    for (const old of logs.slice(LOCAL_RUN_LOGS_KEPT - 1)) rmSync(join(dir, old.f), { force: true })
  } catch {
    // Pruning is housekeeping: a run must not fail because an old log could not be removed.
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  return join(dir, `schedule-${scheduleId}-${stamp}-${process.pid}.log`)
}
