// Databricks error bodies ({error_code, message}, or OAuth's {error, error_description}) mapped to
// AppErrors that keep Databricks' own words and say which permission, quota or setting to check.
import { AppError } from '../errors.js'

export interface ErrorContext {
  path: string
  attempts: number
  oauth: boolean
}

/**
 * Maps a Databricks error response ({error_code, message} or OAuth's {error, error_description})
 * to an AppError that keeps Databricks' own words and says what to do. Never includes credentials.
 */
export function mapDatabricksError(status: number, text: string, ctx: ErrorContext): AppError {
  let errorCode = ''
  let dbMessage = ''
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    errorCode = String(body.error_code ?? body.error ?? '')
    dbMessage = String(body.message ?? body.error_description ?? '')
  } catch {
    dbMessage = text.slice(0, 300)
  }
  const path = ctx.path.split('?')[0]!
  const said = [errorCode || `HTTP ${status}`, dbMessage].filter(Boolean).join(': ')
  const details = { error_code: errorCode || undefined, status, path }
  const area = path.includes('/secrets/')
    ? 'secrets'
    : path.includes('/jobs/')
      ? 'jobs'
      : path.includes('/postgres/') || path.includes('/database/')
        ? 'lakebase'
        : path.startsWith('/oidc/')
          ? 'auth'
          : 'other'
  if (status === 401 || (area === 'auth' && status === 400)) {
    const how = ctx.oauth
      ? "Check DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET (the app's service principal) and DATABRICKS_HOST."
      : 'Check that DATABRICKS_TOKEN is valid, not expired, and belongs to DATABRICKS_HOST.'
    return new AppError(
      'DATABRICKS_AUTH',
      `Databricks did not accept the app's credentials (${said}). ${how}`,
      {
        details,
      },
    )
  }
  if (
    errorCode === 'QUOTA_EXCEEDED' ||
    (errorCode === 'INVALID_STATE' && /already \d+ jobs created/i.test(dbMessage))
  ) {
    return new AppError(
      'DATABRICKS_QUOTA',
      `Databricks refused: ${said}. The workspace's job limit is reached: delete unused jobs or schedules, or wait an hour if too many jobs were created recently, then try again.`,
      { details },
    )
  }
  if (status === 403) {
    const need = {
      secrets: 'READ on the secret scope (databricks secrets put-acl <scope> <principal> READ)',
      jobs: 'permission to create jobs and CAN_MANAGE on the template job and the inventory jobs',
      lakebase: 'CAN_CONNECT_AND_CREATE on the Lakebase database',
      auth: 'to be enabled in the workspace',
      other: 'the matching permission in the workspace',
    }[area]
    return new AppError(
      'DATABRICKS_PERMISSION',
      `Databricks refused: ${said}. The app's service principal needs ${need}; ask a workspace admin to grant it.`,
      { details },
    )
  }
  if (status === 429) {
    return new AppError(
      'DATABRICKS_RATE_LIMIT',
      `Databricks is rate limiting the app (${said}), still after ${ctx.attempts} attempts. Wait a minute and try again.`,
      { details },
    )
  }
  if (status === 404) {
    return new AppError('DATABRICKS_NOT_FOUND', `Databricks could not find it: ${said}.`, { details })
  }
  if (status >= 500) {
    return new AppError(
      'DATABRICKS_UNAVAILABLE',
      `Databricks failed to answer ${path} (${status} ${said}) after ${ctx.attempts} attempt${ctx.attempts === 1 ? '' : 's'}. The workspace may be having problems; try again in a few minutes.`,
      { details },
    )
  }
  return new AppError('DATABRICKS_BAD_REQUEST', `Databricks rejected the request to ${path}: ${said}.`, {
    details,
  })
}
