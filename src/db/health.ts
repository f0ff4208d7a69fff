// Tracks whether the database answered the last time we asked, and turns driver errors into
// AppErrors with messages a person can act on. The layout shows a banner while `down` is set;
// the next successful query clears it, so the app recovers without a restart.
import { AppError, isAppError } from '../errors.js'

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
])

export interface DbStatus {
  up: boolean
  message?: string
  since?: Date
}

export class DbHealth {
  private state: DbStatus = { up: true }

  constructor(
    readonly target: string,
    /** The Lakebase token minter's last failure, if any (src/db/connect.ts). */
    private readonly passwordProblem: () => unknown = () => undefined,
  ) {}

  get status(): DbStatus {
    return this.state
  }

  markUp(): void {
    if (!this.state.up) this.state = { up: true }
  }

  markDown(message: string): void {
    this.state = { up: false, message, since: this.state.up ? new Date() : this.state.since }
  }

  /** Maps any error thrown while talking to PostgreSQL to an AppError (and records outages). */
  translate(e: unknown): AppError {
    if (isAppError(e)) return e
    const mintFailure = this.passwordProblem()
    if (mintFailure) {
      const why = isAppError(mintFailure) ? mintFailure.message : 'the workspace did not answer'
      const message = `Cannot log in to the database at ${this.target}: the Lakebase token could not be minted. ${why}`
      this.markDown(message)
      return new AppError('DB_UNAVAILABLE', message, { cause: mintFailure })
    }
    const err = e as {
      code?: string
      message?: string
      constraint_name?: string
      detail?: string
      errors?: unknown[]
    }
    // AggregateError from net.connect (IPv4 + IPv6 both refused) carries the codes in .errors
    const code = err.code ?? (err.errors?.[0] as { code?: string } | undefined)?.code ?? ''
    if (CONNECTION_CODES.has(code) || code.startsWith('08')) {
      const message = `Cannot reach the database at ${this.target} (${code}). Check that the server is running and reachable, and the LAKEBASE_* / PG* / DATABASE_URL settings. The app retries on every request.`
      this.markDown(message)
      return new AppError('DB_UNAVAILABLE', message, { cause: e })
    }
    if (code === '28P01' || code === '28000') {
      const message = `The database at ${this.target} refused the login (${code}). Check LAKEBASE_USER / LAKEBASE_PASSWORD, or that the app's service principal has a Lakebase role and its OAuth token can be minted.`
      this.markDown(message)
      return new AppError('DB_UNAVAILABLE', message, { cause: e })
    }
    if (code === '3D000') {
      const message = `The database named in the settings does not exist on ${this.target}. Check LAKEBASE_DATABASE / PGDATABASE.`
      this.markDown(message)
      return new AppError('DB_UNAVAILABLE', message, { cause: e })
    }
    if (code === '23505') {
      if (err.constraint_name === 'schedules_target_unique') {
        return new AppError(
          'CONFLICT',
          'Another schedule already writes to that target table. Choose another table name.',
          { cause: e },
        )
      }
      if (
        err.constraint_name === 'provider_config_unique' ||
        err.constraint_name === 'provider_config_profile_unique'
      ) {
        return new AppError(
          'CONFLICT',
          'That profile of the provider already has a mapping for this environment variable. Delete it first to change it.',
          { cause: e },
        )
      }
      return new AppError('CONFLICT', 'That item already exists.', { cause: e })
    }
    if (code === '23503') {
      return new AppError('NOT_FOUND', 'The referenced query does not exist (it may have been deleted).', {
        cause: e,
      })
    }
    if (code === '22021' || code === '22P05') {
      return new AppError(
        'VALIDATION',
        'The text contains characters PostgreSQL cannot store (for example a NUL byte).',
        { cause: e },
      )
    }
    return new AppError(
      'DB_ERROR',
      `The database reported an error (${code || 'unknown'}). See the server log for details.`,
      { cause: e },
    )
  }
}
