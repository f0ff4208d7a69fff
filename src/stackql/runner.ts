// Runs ONE StackQL statement as `stackql exec` in its own process (exec mode, reference/stackql.md §2).
// Credentials reach the child only through its `env` option; the server's process.env is never touched.
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config.js'
import { readOwnEnvironment } from '../config.js'
import { AppError } from '../errors.js'
import type { Row } from '../models.js'
import { ensureStackqlBinary } from './binary.js'
import type { EngineLogger } from './logger.js'
import { isErrorMessage, OutputFormatError, parseRows } from './output.js'

export type { EngineLogger } from './logger.js'

export interface StackqlResult {
  columns: string[]
  rows: Row[]
  /** StackQL's informational stderr text (REGISTRY PULL, INSERT/DELETE/EXEC), when it printed one. */
  message?: string
  elapsedMs: number
}

export interface RunOptions {
  /** Provider credentials for this run only (added to the child's minimal environment). */
  env?: Record<string, string>
  signal?: AbortSignal
  timeoutMs?: number
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

/** pystackql's default exec flags. */
export const DEFAULT_FLAGS = [
  '--execution.concurrency.limit',
  '-1',
  '--dataflow.dependency.max',
  '50',
  '--dataflow.components.max',
  '50',
  '--http.response.maxResults',
  '-1',
  '--http.response.pageLimit',
  '20',
  '--indirect.depth.max',
  '5',
  '--apirequesttimeout',
  '45',
]

/** The non-secret variables a child needs to run (locale, temp dir, TLS roots, proxies). */
export const BASE_ENV_NAMES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'LC_NUMERIC',
  'LC_TIME',
  'LC_COLLATE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  // Windows needs these to start a process at all.
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERPROFILE',
]

export function pickBaseEnvironment(
  read: (name: string) => string | undefined = readOwnEnvironment,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of BASE_ENV_NAMES) {
    const v = read(name)
    if (v !== undefined) env[name] = v
  }
  return env
}

/** Longest stderr text kept (a Go panic can print thousands of goroutines). */
const MAX_STDERR_CHARS = 64 * 1024

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
   * Runs one statement. Resolves with rows (zero rows is not an error) and any info message;
   * rejects with AppError STACKQL_QUERY (message = StackQL's raw text), STACKQL_TIMEOUT,
   * STACKQL_OUTPUT_TOO_LARGE, STACKQL_CANCELLED or STACKQL_BINARY.
   */
  async run(statement: string, opts: RunOptions = {}): Promise<StackqlResult> {
    const { signal } = opts
    if (signal?.aborted) throw cancelled()
    const bin = typeof this.opts.binary === 'string' ? this.opts.binary : await this.opts.binary()
    this.approotReady ??= mkdir(this.approot, { recursive: true }).catch(() => {})
    await this.approotReady
    if (signal?.aborted) throw cancelled()
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs
    const secrets = Object.values(opts.env ?? {}).filter((v) => v.length >= 4)
    const started = performance.now()
    const out = await this.spawnOnce(bin, statement, { ...this.baseEnv, ...opts.env }, timeoutMs, signal)
    const elapsedMs = Math.round(performance.now() - started)
    const stderr = redact(out.stderr.trim(), secrets)
    this.opts.logger?.debug(
      {
        elapsedMs,
        exitCode: out.code,
        signal: out.signal,
        stdoutBytes: out.stdout.length,
        stderrChars: stderr.length,
      },
      'stackql exec finished',
    )
    let parsed: { columns: string[]; rows: Row[] }
    try {
      parsed = parseRows(out.stdout.toString('utf8'))
    } catch (e) {
      if (!(e instanceof OutputFormatError)) throw e
      throw new AppError('STACKQL_QUERY', stderr || redact(e.message, secrets))
    }
    const failed = stderr !== '' && isErrorMessage(stderr)
    const crashed = out.code !== 0 || out.signal !== null
    if (parsed.rows.length === 0 && (failed || crashed)) {
      throw new AppError(
        'STACKQL_QUERY',
        stderr || `StackQL exited with ${out.signal ?? `code ${out.code}`} without printing a message.`,
      )
    }
    return { ...parsed, ...(stderr ? { message: stderr } : {}), elapsedMs }
  }

  private spawnOnce(
    bin: string,
    statement: string,
    env: Record<string, string>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ stdout: Buffer; stderr: string; code: number | null; signal: NodeJS.Signals | null }> {
    const maxOutputBytes = this.opts.maxOutputBytes
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
      let bytes = 0
      let stderr = ''
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
              `The query returned more than ${formatBytes(maxOutputBytes)} of data and was stopped. Select fewer columns, add a WHERE clause or LIMIT, or raise STACKQL_MAX_OUTPUT_MB.`,
            ),
          )
          return
        }
        chunks.push(chunk)
      })
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (s: string) => {
        if (stderr.length < MAX_STDERR_CHARS) stderr += s.slice(0, MAX_STDERR_CHARS - stderr.length)
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
        if (stopped) return reject(stopped)
        if (spawnError) return reject(notStartable(bin, spawnError))
        resolve({ stdout: Buffer.concat(chunks, bytes), stderr, code, signal: sig })
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

/** Defence in depth: a provider error that echoes a credential (AWS echoes key ids) must not carry it on. */
function redact(text: string, secrets: string[]): string {
  let out = text
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]')
  return out
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MB` : `${n} bytes`
}
