// The access plugin's writes to the audit log besides the started/finished pair: the record of a
// refused attempt, and the retention pruning (AUDIT_RETENTION_DAYS). Decides nothing: access.ts does.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Rule } from '../../src/access/rules.js'
import type { AuditStore } from '../../src/db/audit.js'
import { AppError, isAppError } from '../../src/errors.js'

const PRUNE_EVERY_MS = 6 * 3600_000

/**
 * Records a refused attempt (outcome denied, 403, the reason in its details) and returns the
 * FORBIDDEN error to answer with. A refusal that cannot be recorded is still a refusal.
 */
export async function recordDenied(
  audit: AuditStore,
  req: FastifyRequest,
  rule: Rule,
  message: string,
  details: Record<string, unknown>,
): Promise<AppError> {
  try {
    await audit.record({
      user: req.user,
      role: req.access.role,
      requestId: req.id,
      action: rule.action ?? `${req.method} ${req.routeOptions.url}`,
      outcome: 'denied',
      status: 403,
      details: { ...details, reason: message },
    })
  } catch (e) {
    // Refusing is safe without a record; say so in the log for whoever reads it.
    req.log.warn({ code: isAppError(e) ? e.code : undefined }, 'a denied attempt could not be audited')
  }
  return new AppError('FORBIDDEN', message)
}

/** Retention: prunes once shortly after start, then every 6 hours (never blocking a request); stops on close. */
export function startAuditPruning(app: FastifyInstance, audit: AuditStore): void {
  const prune = () =>
    audit.prune(app.config.auditRetentionDays).then(
      (n) => n > 0 && app.log.info({ pruned: n }, 'audit rows past AUDIT_RETENTION_DAYS deleted'),
      (e) =>
        app.log.warn({ code: isAppError(e) ? e.code : undefined }, 'audit pruning failed; retried later'),
    )
  const first = setTimeout(prune, 30_000)
  const timer = setInterval(prune, PRUNE_EVERY_MS)
  first.unref()
  timer.unref()
  app.addHook('onClose', async () => {
    clearTimeout(first)
    clearInterval(timer)
  })
}
