// Runs ONE StackQL statement as `stackql exec` in its own process (exec mode, reference/stackql.md §2).
// Credentials reach the child only through its `env` option; the server's process.env is never touched.
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
import { cancelled, MAX_STDERR_CHARS, spawnStackql } from './spawn.js'
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
    const out = await spawnStackql(
      bin,
      this.args(statement),
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
