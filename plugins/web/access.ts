// THE place where authorisation is decided. Every request gets its role (src/access/roles.ts); every
// state-changing route is looked up in src/access/rules.ts by method + route pattern, and here — not
// in the route bodies — it is allowed, refused with a 403 naming the role needed (audited as denied,
// nothing changed), or recorded in the audit log BEFORE it runs (no record, no action) and finished
// with its outcome after. The IDE's statement rule (read-only by default) and profile permissions
// are checked here too, so a route plugin only ever sees requests that may proceed.
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { classifyStatement, decideStatement } from '../../src/access/mutations.js'
import { profilePicks } from '../../src/access/picks.js'
import { ProfileGate, profileRefusal } from '../../src/access/profile-gate.js'
import { profilesUsed } from '../../src/access/profile-use.js'
import { hasRole, type Role, resolveRole } from '../../src/access/roles.js'
import { type Rule, ruleFor } from '../../src/access/rules.js'
import { requestDetails, runDetails } from '../../src/audit/entries.js'
import { AuditStore } from '../../src/db/audit.js'
import { AppError, isAppError } from '../../src/errors.js'
import { acrossRefs } from '../../src/fanout/across.js'
import { recordDenied, startAuditPruning } from './access-audit.js'
import { loadProfileGate, profileLabel, profileLookups } from './access-profiles.js'

export interface RequestAccess {
  role: Role
  /** False when no admin is configured (everyone is admin; every page says so). */
  enabled: boolean
  /** Why the role may be lower than expected (groups unknown). */
  problem?: string
  can(role: Role): boolean
  /**
   * Which profiles this user may use, for pickers and Test buttons: loaded by the hook for routes
   * whose rule names `profiles`; before that a gate that hides nothing (the hook still refuses).
   */
  profiles: ProfileGate
}

declare module 'fastify' {
  interface FastifyInstance {
    auditLog: AuditStore
    /** Every route registered after this plugin (method + pattern): what the rules must cover. */
    routeList: { method: string; url: string }[]
  }
  interface FastifyRequest {
    access: RequestAccess
    /** Adds facts to this request's audit row (e.g. the rows a run returned). No secret values. */
    auditNote(details: Record<string, unknown>): void
  }
}

interface Pending {
  id: number
  notes: Record<string, unknown>
  startedAt: number
}
const pending = new WeakMap<FastifyRequest, Pending>()

function needed(rule: Rule, role: Role): string {
  return `You need the ${rule.role} role to ${rule.what}; your role is ${role}.`
}

export default fp(
  async (app) => {
    const audit = new AuditStore(app.db)
    app.decorate('auditLog', audit)
    const policy = app.accessPolicy
    const { allowMutations } = app.config.access

    const routes: { method: string; url: string }[] = []
    app.decorate('routeList', routes)
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url })
    })

    app.decorateRequest('access', null as unknown as RequestAccess)
    app.decorateRequest('auditNote', function (this: FastifyRequest, details: Record<string, unknown>) {
      const entry = pending.get(this)
      if (entry) Object.assign(entry.notes, details)
    })

    app.addHook('onRequest', async (req) => {
      const role = resolveRole(policy, req.user, req.groups)
      req.access = {
        role,
        enabled: policy.enabled,
        problem: policy.enabled ? req.groupsProblem : undefined,
        can: (r: Role) => hasRole(role, r),
        profiles: ProfileGate.open(),
      }
    })

    /** POST /run answers inside the results area (its htmx target), like its own errors. */
    function runAnswer(reply: FastifyReply, template: string, data: Record<string, unknown>, status: number) {
      reply.header('cache-control', 'no-store')
      return reply.render(template, data, { status })
    }

    const lookups = profileLookups(app, audit)
    const deny = (req: FastifyRequest, rule: Rule, message: string, details: Record<string, unknown>) =>
      recordDenied(audit, req, rule, message, details)
    const loadGate = (req: FastifyRequest) => loadProfileGate(audit, req)

    // preValidation: the role decides before the body is validated, so a refused request learns nothing
    // about the route's input (and gets the 403, not a 400).
    app.addHook('preValidation', async (req, reply) => {
      const url = req.routeOptions.url
      if (!url) return
      const rule = ruleFor(req.method, url)
      if (!rule) return
      const { role } = req.access
      const body = (req.body ?? {}) as Record<string, unknown>
      let details = requestDetails(req.params, body)

      if (!hasRole(role, rule.role)) throw await deny(req, rule, needed(rule, role), details)

      if (rule.owner && !hasRole(role, 'admin')) {
        const id = Number((req.params as { id?: string }).id)
        const owner = rule.owner === 'query' ? await audit.queryOwner(id) : await audit.scheduleOwner(id)
        // No owner: no such item, and the route answers 404 itself.
        if (owner !== null && owner.toLowerCase() !== req.user.toLowerCase()) {
          const message = `You need the admin role to change another user's ${rule.owner} (it belongs to ${owner}); your role is ${role}.`
          throw await deny(req, rule, message, details)
        }
      }

      let confirm: Record<string, unknown> | undefined
      if (rule.statement) {
        const text = typeof body.query_text === 'string' ? body.query_text : ''
        if (text.trim() === '') return // the route says the editor is empty
        const provider = typeof body.provider === 'string' ? body.provider.trim() : ''
        const picks = profilePicks(body.profile)
        const cls = classifyStatement(text)
        details = { ...details, ...runDetails(text, provider, picks.profileOf, cls.kind) }
        // Unreadable input never runs (the query service refuses it with the tokenizer's message).
        const decision = cls.unreadable
          ? ({ run: true } as const)
          : decideStatement(
              cls,
              role,
              allowMutations,
              typeof body.confirm_kind === 'string' ? body.confirm_kind : undefined,
            )
        if (!decision.run && !decision.confirm) {
          const refused = await deny(req, rule, decision.message, details)
          return runAnswer(reply, 'access/_run-refused', { message: refused.message }, 403)
        }
        if (!decision.run) {
          confirm = {
            kind: decision.kind,
            queryText: text,
            provider,
            picks: picks.raw,
            profiles: (details.profiles as string[]).join(', ') || 'default',
          }
        }
      }

      if (rule.profiles === 'pickers') {
        // Only hides: a page whose gate cannot be read shows everything and reports its own DB error.
        await loadGate(req).catch((e) => {
          if (!isAppError(e)) throw e
        })
      } else if (rule.profiles) {
        // Fails closed: when the restrictions cannot be read the request fails (the error handler's 503).
        const gate = await loadGate(req)
        const uses = await profilesUsed(
          rule.profiles,
          { params: req.params, body, providers: details.providers as string[] | undefined },
          gate,
          lookups,
        )
        if (!rule.statement && uses.length) details = { ...details, profiles: uses.map(profileLabel) }
        const [refusedUse] = gate.refused(uses)
        if (refusedUse) {
          // Groups that could not be read count as none (fail closed): the message says why.
          const why = req.groupsProblem ? ` (${req.groupsProblem})` : ''
          const refused = await deny(req, rule, `${profileRefusal(refusedUse, rule.what)}${why}`, {
            ...details,
            refused_profiles: gate.refused(uses).map(profileLabel),
          })
          if (rule.statement)
            return runAnswer(reply, 'access/_run-refused', { message: refused.message }, 403)
          throw refused
        }
      }

      // Run across (POST /run/across): every profile it runs in is checked like a pick.
      const across = rule.statement ? acrossRefs(body.across) : []
      if (across.length) {
        const gate = await loadGate(req)
        const refusedAcross = gate.refused(across)
        if (refusedAcross[0]) {
          const why = req.groupsProblem ? ` (${req.groupsProblem})` : ''
          const refused = await deny(req, rule, `${profileRefusal(refusedAcross[0], rule.what)}${why}`, {
            ...details,
            refused_profiles: refusedAcross.map(profileLabel),
          })
          return runAnswer(reply, 'access/_run-refused', { message: refused.message }, 403)
        }
      }
      if (across.length) details = { ...details, profiles: across.map((s) => `${s.provider}/${s.profile}`) }

      if (confirm) return runAnswer(reply, 'access/_confirm-mutation', confirm, 200)

      if (!rule.action) return
      let id: number
      try {
        id = await audit.record({
          user: req.user,
          role,
          requestId: req.id,
          action: rule.action,
          outcome: 'started',
          details,
        })
      } catch (e) {
        if (!isAppError(e)) throw e
        req.log.warn({ code: e.code, err: e.cause }, 'audit log unavailable: action refused')
        const message = `Nothing was done: every action is recorded in the audit log first, and the audit log cannot be written (${e.message}). Try again when the database is back.`
        if (rule.statement) {
          return runAnswer(reply, 'access/_run-refused', { message }, 503)
        }
        throw new AppError('AUDIT_UNAVAILABLE', message, { cause: e })
      }
      pending.set(req, { id, notes: {}, startedAt: performance.now() })
    })

    // Finished before the response leaves (onSend, not onResponse): whoever reads the log next —
    // the Audit page, a test — sees the outcome, not 'started'.
    app.addHook('onSend', async (req, reply, payload) => {
      const entry = pending.get(req)
      if (!entry) return payload
      pending.delete(req)
      const status = reply.statusCode
      try {
        await audit.finish(entry.id, status < 400 ? 'ok' : 'failed', status, {
          ...entry.notes,
          elapsed_ms: Math.round(performance.now() - entry.startedAt),
        })
      } catch (e) {
        req.log.warn(
          { code: isAppError(e) ? e.code : undefined, auditId: entry.id },
          'audit outcome not recorded',
        )
      }
      return payload
    })

    startAuditPruning(app, audit)

    // The confirmation dialog's Cancel: nothing ran.
    app.get('/access/run-cancelled', async (_req, reply) =>
      runAnswer(
        reply,
        'access/_run-refused',
        { message: 'Not run: the changing statement was cancelled.', info: true },
        200,
      ),
    )
  },
  { fastify: '5.x', name: 'access', dependencies: ['identity', 'db', 'render'] },
)
