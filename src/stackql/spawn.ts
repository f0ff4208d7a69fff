// Starts one `stackql` child process and collects what it prints, within the run's limits (time,
// output size, cancellation). The runner (runner.ts) decides the argv and environment and reads the result.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { AppError } from '../errors.js'

/** Longest stderr text kept (a Go panic can print thousands of goroutines). */
export const MAX_STDERR_CHARS = 64 * 1024
/** stderr collected before redaction: more than is kept, so no value is cut before it is redacted. */
const COLLECT_STDERR_CHARS = 4 * MAX_STDERR_CHARS

export interface SpawnLimits {
  timeoutMs: number
  maxOutputBytes: number
  /** The setting named when the output bound is hit. */
  maxOutputSetting: string
}

export interface SpawnOutput {
  stdout: Buffer
  bytes: number
  stderr: string
  stderrCut: boolean
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * Starts `bin args` once with exactly `env`, collects stdout (in memory, or into `spoolFile`) and
 * stderr, and stops the whole process group on the time or output limit or an abort. Resolves
 * when the child and its pipes are gone; rejects with the AppError that stopped it.
 */
export function spawnStackql(
  bin: string,
  args: string[],
  env: Record<string, string>,
  limits: SpawnLimits,
  signal?: AbortSignal,
  spoolFile?: string,
): Promise<SpawnOutput> {
  const { timeoutMs, maxOutputBytes, maxOutputSetting } = limits
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>
    try {
      // detached: the child leads its own process group, so a kill reaches anything it started.
      child = spawn(bin, args, {
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

export function cancelled(): AppError {
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
