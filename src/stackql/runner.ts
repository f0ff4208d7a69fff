// Runs ONE StackQL statement as `stackql exec` in its own process (exec mode, reference/stackql.md §2).
// Credentials reach the child only through its `env` option; the server's process.env is never touched.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'
import type { Row } from '../models.js'
import { ensureStackqlBinary } from './binary.js'
import { DEFAULT_FLAGS, pickBaseEnvironment } from './child-env.js'
import type { EngineLogger } from './logger.js'
import { isErrorMessage, OutputFormatError, parseRows } from './output.js'
import { redactAndTruncate, secretForms } from './redact.js'
import { type SpooledRows, surveySpool } from './spool.js'

export { BASE_ENV_NAMES, DEFAULT_FLAGS, pickBaseEnvironment } from './child-env.js'
export type { EngineLogger } from './logger.js'

export interface StackqlResult {
  columns: string[]
  rows: Row[]
  /** StackQL's stderr text (redacted), when it printed any: an info message, or why the rows are incomplete. */
  message?: string
  /**
   * False when StackQL printed rows AND reported an error (an error pattern on stderr, a non-zero
   * exit, a signal): the rows are what it got before or around the failure, not the whole result.
   */
  complete: boolean
  /** Why the result is incomplete (StackQL's own text), when `complete` is false. */
  incomplete?: string
  /** Bytes of JSON StackQL printed on stdout: the exact size of the output the rows were parsed from. */
  outputBytes: number
  /** With `spoolFile`: the rows stay in that file (rows is empty); read them from here. */
  spooled?: SpooledRows
  elapsedMs: number
}

export interface RunOptions {
  /** Provider credentials for this run only (added to the child's minimal environment). */
  env?: Record<string, string>
  signal?: AbortSignal
  timeoutMs?: number
  /** A tighter output bound for this run (e.g. the IDE's), and the setting that raises it. */
  maxOutputBytes?: number
  maxOutputSetting?: string
  /** Write stdout to this file instead of memory (scheduled runs; the caller removes the file). */
  spoolFile?: string
}

export interface StackqlRunnerOptions {
  /** Path of the stackql executable, or a function resolving it (e.g. ensureStackqlBinary). */
  binary: string | (() => Promise<string> | string)
  /** Fixed, writable directory where StackQL keeps pulled providers. */
  approot: string
  timeoutMs: number
  maxOutputBytes: number
  logger?: EngineLogger
  /** The child's base environment; defaults to pickBaseEnvironment() of the server's own environment. */
  baseEnv?: Record<string, string>
}

/** Longest stderr text kept (a Go panic can print thousands of goroutines). */
const MAX_STDERR_CHARS = 64 * 1024
/** stderr collected before redaction: more than is kept, so no value is cut before it is redacted. */
const COLLECT_STDERR_CHARS = 4 * MAX_STDERR_CHARS

export class StackqlRunner {
  readonly approot: string
  private readonly opts: StackqlRunnerOptions
  private readonly baseEnv: Record<string, string>
  private approotReady?: Promise<unknown>

  constructor(opts: StackqlRunnerOptions) {
    this.opts = opts
    this.approot = opts.approot
    this.baseEnv = opts.baseEnv ?? pickBaseEnvironment()
  }

  /** The argv after the executable: the query is ONE argument, never shell-interpreted. */
  args(statement: string): string[] {
    return ['exec', statement, '--output', 'json', '--approot', this.approot, ...DEFAULT_FLAGS]
  }

  /**
   * Runs one statement. Resolves with rows (zero rows is not an error), any stderr message, and
   * `complete: false` when rows came with an error; rejects with AppError STACKQL_QUERY (message =
   * StackQL's raw text) when there are no rows and an error, STACKQL_TIMEOUT,
   * STACKQL_OUTPUT_TOO_LARGE, STACKQL_CANCELLED or STACKQL_BINARY.
   */
  async run(statement: string, opts: RunOptions = {}): Promise<StackqlResult> {
    const { signal } = opts
    if (signal?.aborted) throw cancelled()
    const bin = typeof this.opts.binary === 'string' ? this.opts.binary : await this.opts.binary()
    this.approotReady ??= mkdir(this.approot, { recursive: true }).catch(() => {})
    await this.approotReady
    if (signal?.aborted) throw cancelled()
    const limits = {
      timeoutMs: opts.timeoutMs ?? this.opts.timeoutMs,
      maxOutputBytes: Math.min(opts.maxOutputBytes ?? Infinity, this.opts.maxOutputBytes),
      maxOutputSetting:
        opts.maxOutputBytes !== undefined && opts.maxOutputBytes < this.opts.maxOutputBytes
          ? (opts.maxOutputSetting ?? 'STACKQL_MAX_OUTPUT_MB')
          : 'STACKQL_MAX_OUTPUT_MB',
    }
    const forms = secretForms(Object.values(opts.env ?? {}))
    const started = performance.now()
    const out = await this.spawnOnce(
      bin,
      statement,
      { ...this.baseEnv, ...opts.env },
      limits,
      signal,
      opts.spoolFile,
    )
    const elapsedMs = Math.round(performance.now() - started)
    // Redact first, then cut: a cut through a value must not leave its beginning behind.
    const stderr = redactAndTruncate(out.stderr.trim(), forms, MAX_STDERR_CHARS, out.stderrCut)
    this.opts.logger?.debug(
      {
        elapsedMs,
        exitCode: out.code,
        signal: out.signal,
        stdoutBytes: out.bytes,
        stderrChars: stderr.length,
      },
      'stackql exec finished',
    )
    let parsed: { columns: string[]; rows: Row[]; spooled?: SpooledRows }
    try {
      if (opts.spoolFile) {
        const spooled = await surveySpool(opts.spoolFile)
        parsed = { columns: spooled.columns, rows: [], spooled }
      } else {
        parsed = parseRows(out.stdout.toString('utf8'))
      }
    } catch (e) {
      if (!(e instanceof OutputFormatError)) throw e
      throw new AppError('STACKQL_QUERY', stderr || redactAndTruncate(e.message, forms, MAX_STDERR_CHARS))
    }
    const failed = stderr !== '' && isErrorMessage(stderr)
    const crashed = out.code !== 0 || out.signal !== null
    const why =
      stderr || `StackQL exited with ${out.signal ?? `code ${out.code}`} without printing a message.`
    const rowCount = parsed.spooled?.rowCount ?? parsed.rows.length
    if (rowCount === 0 && (failed || crashed)) throw new AppError('STACKQL_QUERY', why)
    const complete = !(failed || crashed)
    return {
      ...parsed,
      ...(stderr ? { message: stderr } : {}),
      complete,
      ...(complete ? {} : { incomplete: why }),
      outputBytes: out.bytes,
      elapsedMs,
    }
  }

  private spawnOnce(
    bin: string,
    statement: string,
    env: Record<string, string>,
    limits: { timeoutMs: number; maxOutputBytes: number; maxOutputSetting: string },
    signal?: AbortSignal,
    spoolFile?: string,
  ): Promise<{
    stdout: Buffer
    bytes: number
    stderr: string
    stderrCut: boolean
    code: number | null
    signal: NodeJS.Signals | null
  }> {
    const { timeoutMs, maxOutputBytes, maxOutputSetting } = limits
    return new Promise((resolve, reject) => {
      let child: ReturnType<typeof spawn>
      try {
        // detached: the child leads its own process group, so a kill reaches anything it started.
        child = spawn(bin, this.args(statement), {
          env,
          detached: process.platform !== 'win32',
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        })
      } catch (e) {
        reject(notStartable(bin, e))
        return
      }
      const chunks: Buffer[] = []
      // Spooling: stdout goes to the file, pausing the child's pipe while the disk catches up.
      const spool = spoolFile ? createWriteStream(spoolFile) : undefined
      let spoolError: unknown
      spool?.on('error', (e) => {
        spoolError = e
        killGroup(child)
      })
      let bytes = 0
      let stderr = ''
      let stderrCut = false
      let stopped: AppError | undefined
      const stop = (err: AppError) => {
        if (stopped) return
        stopped = err
        killGroup(child)
      }
      const timer = setTimeout(
        () =>
          stop(
            new AppError(
              'STACKQL_TIMEOUT',
              `The query ran longer than ${formatMs(timeoutMs)} and was stopped. Narrow it (fewer regions/projects, a WHERE clause) or raise the query timeout (STACKQL_QUERY_TIMEOUT_S).`,
            ),
          ),
        timeoutMs,
      )
      const onAbort = () => stop(cancelled())
      signal?.addEventListener('abort', onAbort, { once: true })
      child.stdout!.on('data', (chunk: Buffer) => {
        if (stopped) return
        bytes += chunk.length
        if (bytes > maxOutputBytes) {
          chunks.length = 0
          stop(
            new AppError(
              'STACKQL_OUTPUT_TOO_LARGE',
              `The query returned more than ${formatBytes(maxOutputBytes)} of data and was stopped. Select fewer columns, add a WHERE clause or LIMIT, or raise ${maxOutputSetting}.`,
            ),
          )
          return
        }
        if (!spool) {
          chunks.push(chunk)
        } else if (!spool.write(chunk)) {
          child.stdout!.pause()
          spool.once('drain', () => child.stdout!.resume())
        }
      })
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (s: string) => {
        if (stderr.length + s.length > COLLECT_STDERR_CHARS) stderrCut = true
        if (stderr.length < COLLECT_STDERR_CHARS) stderr += s.slice(0, COLLECT_STDERR_CHARS - stderr.length)
      })
      let spawnError: unknown
      child.on('error', (e) => {
        spawnError = e
        // A child that never started emits no 'close' on every Node version: settle here.
        if (child.pid === undefined) {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          reject(notStartable(bin, e))
        }
      })
      // 'close' fires once the process has exited AND every holder of its pipes is gone.
      child.on('close', (code, sig) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const settle = () => {
          if (stopped) return reject(stopped)
          if (spawnError) return reject(notStartable(bin, spawnError))
          if (spoolError) return reject(notSpoolable(spoolFile!, spoolError))
          resolve({ stdout: Buffer.concat(chunks), bytes, stderr, stderrCut, code, signal: sig })
        }
        if (spool && !spool.destroyed) spool.end(settle)
        else settle()
      })
    })
  }
}

/** The app's runner: the process-wide binary, approot `<downloadDir>/approot`, limits from the config. */
export function createStackqlRunner(cfg: Config['stackql'], logger?: EngineLogger): StackqlRunner {
  return new StackqlRunner({
    binary: async () => (await ensureStackqlBinary(cfg, { logger })).path,
    approot: join(cfg.downloadDir, 'approot'),
    timeoutMs: cfg.queryTimeoutMs,
    maxOutputBytes: cfg.maxOutputBytes,
    logger,
  })
}

/** Kills the child's whole process group (SIGKILL: StackQL holds nothing worth a graceful stop). */
function killGroup(child: ReturnType<typeof spawn>): void {
  if (child.pid === undefined) return
  try {
    if (process.platform === 'win32') child.kill('SIGKILL')
    else process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

function cancelled(): AppError {
  return new AppError('STACKQL_CANCELLED', 'The query was cancelled.')
}

function notStartable(bin: string, e: unknown): AppError {
  const code = (e as NodeJS.ErrnoException)?.code ?? String(e)
  return new AppError(
    'STACKQL_BINARY',
    `Could not start StackQL at ${bin} (${code}). Check that the file exists and is executable, the download directory's permissions, or set STACKQL_BIN to a working stackql binary.`,
    { cause: e },
  )
}

function notSpoolable(path: string, e: unknown): AppError {
  const code = (e as NodeJS.ErrnoException)?.code ?? String(e)
  return new AppError(
    'STACKQL_QUERY',
    `Could not write StackQL's output to ${path} (${code}); the run was stopped and nothing was written. Check the free space and permissions of the temporary directory (TMPDIR).`,
    { cause: e },
  )
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MB` : `${n} bytes`
}
