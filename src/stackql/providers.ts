// Makes sure a provider is installed in the runner's approot before a query uses it: StackQL does
// not pull providers by itself. Checked once per process and approot; a failed pull is retried next time.
import { AppError } from '../errors.js'
import { PROVIDER_PATTERN } from '../models.js'
import type { EngineLogger, StackqlRunner } from './runner.js'

// Promises of "installed" (no values, no secrets): safe to keep for the process lifetime.
const installed = new Map<string, Promise<void>>()

/**
 * Pulls `provider` (`REGISTRY PULL <provider>`) unless `SHOW PROVIDERS` already lists it.
 * Concurrent callers share one check; a failure is not remembered.
 */
export function ensureProvider(
  runner: StackqlRunner,
  provider: string,
  opts: { logger?: EngineLogger; signal?: AbortSignal } = {},
): Promise<void> {
  if (!new RegExp(PROVIDER_PATTERN).test(provider)) {
    return Promise.reject(
      new AppError('VALIDATION', `"${provider}" is not a provider name (lower-case letters, digits and _).`),
    )
  }
  const key = `${runner.approot}\0${provider}`
  let pending = installed.get(key)
  if (!pending) {
    // The shared pull ignores callers' abort signals: one caller cancelling must not fail the others.
    pending = install(runner, provider, opts.logger)
    installed.set(key, pending)
    pending.catch(() => installed.delete(key))
  }
  return opts.signal ? untilAborted(pending, opts.signal) : pending
}

function untilAborted(pending: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new AppError('STACKQL_CANCELLED', 'The query was cancelled.'))
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new AppError('STACKQL_CANCELLED', 'The query was cancelled.'))
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

async function install(runner: StackqlRunner, provider: string, logger?: EngineLogger): Promise<void> {
  const shown = await runner.run('SHOW PROVIDERS')
  if (shown.rows.some((r) => r.name === provider)) return
  logger?.info({ provider }, 'pulling StackQL provider')
  try {
    const pulled = await runner.run(`REGISTRY PULL ${provider}`)
    logger?.info({ provider, message: pulled.message }, 'StackQL provider installed')
  } catch (e) {
    if (e instanceof AppError && e.code === 'STACKQL_QUERY') {
      throw new AppError(
        'STACKQL_QUERY',
        `Could not install the StackQL provider "${provider}" (REGISTRY PULL ${provider}): ${e.message}`,
        { cause: e },
      )
    }
    throw e
  }
}
