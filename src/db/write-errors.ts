// How a failed inventory write is reported: a cancel, a lock or statement timeout, a lost
// connection or any other database error become an AppError that says the previous data is kept.
import { AppError, isAppError } from '../errors.js'

/** Defaults of INVENTORY_LOCK_TIMEOUT_MS / INVENTORY_STATEMENT_TIMEOUT_MS (src/config.ts). */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000
export const DEFAULT_STATEMENT_TIMEOUT_MS = 600_000

const CONNECTION_CODES =
  /^(08|57P0|53300)|^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|CONNECT_TIMEOUT|CONNECTION_)/

interface ErrorContext {
  signal?: AbortSignal
  lockTimeoutMs?: number
  statementTimeoutMs?: number
}

export function asWriteError(e: unknown, where: string, opts: ErrorContext): AppError {
  if (opts.signal?.aborted) {
    return new AppError(
      'STACKQL_CANCELLED',
      `The run was cancelled while writing ${where}; the previous data is kept.`,
      { cause: e },
    )
  }
  if (isAppError(e)) return e
  const err = e as { code?: string; message?: string; detail?: string }
  const code = String(err.code ?? '')
  const summary = (err.message ?? String(e)).replace(/\s+/g, ' ').trim()
  if (code === '55P03') {
    return new AppError(
      'CONFLICT',
      `Writing ${where} waited longer than ${opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS} ms for a lock (another run writing the same table, or a long query on it holding up a column change). The previous data is kept; run it again later, or raise INVENTORY_LOCK_TIMEOUT_MS.`,
      { cause: e },
    )
  }
  if (code === '57014' && /statement timeout/i.test(summary)) {
    return new AppError(
      'DB_ERROR',
      `Writing ${where} took longer than ${opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS} ms for one statement and was stopped. The previous data is kept; raise INVENTORY_STATEMENT_TIMEOUT_MS for very large results.`,
      { cause: e },
    )
  }
  if (CONNECTION_CODES.test(code)) {
    return new AppError(
      'DB_UNAVAILABLE',
      `Lost the database while writing ${where} (${code}): ${summary}. The previous data is kept.`,
      { cause: e },
    )
  }
  return new AppError(
    'DB_ERROR',
    `Writing ${where} failed${code ? ` (${code})` : ''}: ${summary}. The previous data is kept.`,
    { cause: e },
  )
}
