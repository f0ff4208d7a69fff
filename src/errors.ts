// Typed errors with a stable code and a message written for the person using the app.
// The HTTP layer maps `status`; the message must be safe to show (never a secret value, never a stack).

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'DB_UNAVAILABLE'
  | 'DB_ERROR'
  | 'IDENTIFIER_INVALID'
  | 'SECRET_NOT_FOUND'
  | 'SECRET_FORBIDDEN'
  | 'STACKQL_BINARY'
  | 'STACKQL_QUERY'
  | 'STACKQL_TIMEOUT'
  | 'STACKQL_OUTPUT_TOO_LARGE'
  | 'STACKQL_CANCELLED'
  | 'STACKQL_MULTI_STATEMENT'
  | 'DATABRICKS_NOT_CONFIGURED'
  | 'DATABRICKS_PERMISSION'
  | 'DATABRICKS_QUOTA'
  | 'DATABRICKS_RATE_LIMIT'
  | 'DATABRICKS_NOT_FOUND'
  | 'DATABRICKS_BAD_REQUEST'
  | 'DATABRICKS_AUTH'
  | 'DATABRICKS_UNAVAILABLE'
  | 'CRON_INVALID'
  | 'AI_ERROR'
  | 'RUNNER_FAILED'
  | 'FORBIDDEN'
  | 'AUDIT_UNAVAILABLE'

const STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION: 400,
  IDENTIFIER_INVALID: 400,
  CRON_INVALID: 400,
  STACKQL_MULTI_STATEMENT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SECRET_NOT_FOUND: 422,
  SECRET_FORBIDDEN: 403,
  STACKQL_QUERY: 422,
  STACKQL_TIMEOUT: 504,
  STACKQL_OUTPUT_TOO_LARGE: 413,
  STACKQL_CANCELLED: 499,
  DB_UNAVAILABLE: 503,
  DATABRICKS_NOT_CONFIGURED: 409,
  DATABRICKS_PERMISSION: 403,
  DATABRICKS_QUOTA: 429,
  DATABRICKS_RATE_LIMIT: 429,
  DATABRICKS_NOT_FOUND: 404,
  DATABRICKS_BAD_REQUEST: 400,
  DATABRICKS_AUTH: 401,
  DATABRICKS_UNAVAILABLE: 502,
  STACKQL_BINARY: 500,
  FORBIDDEN: 403,
  AUDIT_UNAVAILABLE: 503,
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Extra structured facts for the UI (never secret values). */
  readonly details?: Record<string, unknown>

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = STATUS[code] ?? 500
    this.details = options?.details
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError
}
