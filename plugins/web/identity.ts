// Who is asking: the Databricks Apps proxy puts the signed-in user's e-mail in X-Forwarded-Email.
// The header is trusted only there (or with TRUST_FORWARDED_EMAIL=true); otherwise — local
// development — everyone is the configurable fallback user. When a role is given to a group, the
// user's groups come from SCIM Me with their forwarded token (X-Forwarded-Access-Token), which is
// used for that lookup only: never stored, logged or passed on.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { GroupCache } from '../../src/access/groups.js'
import { type AccessPolicy, accessPolicy } from '../../src/access/roles.js'
import { fetchScimMe } from '../../src/databricks/scim.js'

declare module 'fastify' {
  interface FastifyInstance {
    accessPolicy: AccessPolicy
  }
  interface FastifyRequest {
    user: string
    /** The user's workspace groups (display names); empty when unknown or not needed. */
    groups: string[]
    /** Why the groups are unknown (shown on the page: the user has only what their e-mail gives). */
    groupsProblem?: string
    /**
     * Looks the groups up (once per request) when they were not needed for the role: a profile
     * restricted to a group needs them even when APP_ADMINS / APP_EDITORS name e-mails only.
     */
    loadGroups(): Promise<void>
  }
}

const EMAIL = /^[^\s@<>"']{1,200}@[^\s@<>"']{1,200}$/

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export default fp(
  async (app) => {
    const fallback = app.config.inDatabricksApp ? 'unknown-user' : app.config.localUserEmail
    const policy = accessPolicy(app.config.access)
    app.decorate('accessPolicy', policy)
    app.decorateRequest('user', '')
    app.decorateRequest('groups', null as unknown as string[])
    app.decorateRequest('groupsProblem', undefined)
    const trusted = app.config.trustForwardedEmail
    const host = app.config.databricks?.host
    const cache = host ? new GroupCache((token) => fetchScimMe(host, token)) : undefined

    const looked = new WeakSet<object>()
    app.decorateRequest('loadGroups', async function (this: FastifyRequest) {
      if (looked.has(this)) return
      looked.add(this)
      if (!trusted || !policy.enabled || this.user === fallback) return
      if (!cache) {
        this.groupsProblem =
          'Group roles need the workspace (DATABRICKS_HOST) to look up your groups: only roles given to your e-mail apply.'
        return
      }
      const membership = await cache.membership(this.user, header(this.headers['x-forwarded-access-token']))
      this.groups = membership.groups
      this.groupsProblem = membership.problem
    })

    app.addHook('onRequest', async (req) => {
      req.groups = []
      if (!trusted) {
        req.user = fallback
        return
      }
      const email = header(req.headers['x-forwarded-email'])
      req.user = email && EMAIL.test(email) ? email : fallback
      if (policy.usesGroups) await req.loadGroups()
    })
  },
  { fastify: '5.x', name: 'identity', dependencies: ['config'] },
)
