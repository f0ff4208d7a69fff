// What the access plugin needs to check profile permissions: the lookups that tell which profiles a
// request uses, and the request's profile gate. Decides nothing: access.ts refuses or lets through.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ProfileGate, type ProfileUse } from '../../src/access/profile-gate.js'
import type { UseLookups } from '../../src/access/profile-use.js'
import { hasRole } from '../../src/access/roles.js'
import type { AuditStore } from '../../src/db/audit.js'

/** A profile use as the audit log names it: `provider:profile`. */
export const profileLabel = (u: ProfileUse) => `${u.provider}:${u.profile}`

/** Where profilesUsed finds a request's query, schedule, mapping and the known profiles. */
export function profileLookups(app: FastifyInstance, audit: AuditStore): UseLookups {
  return {
    queryProvider: (id) => audit.queryProvider(id),
    scheduleUse: (id) => audit.scheduleUse(id),
    mapping: (id) => app.db.getProviderConfigById(id),
    knownProfiles: async (provider) =>
      (await app.db.getProviderProfiles())
        .find((p) => p.provider === provider)
        ?.profiles.map((x) => x.profile) ?? [],
  }
}

/** This request's gate (loaded once); admins may use every profile, so theirs needs no rows. */
export async function loadProfileGate(audit: AuditStore, req: FastifyRequest): Promise<ProfileGate> {
  const { access } = req
  if (!access.profiles.loaded) {
    const rows = hasRole(access.role, 'admin') ? [] : await audit.profileRestrictions()
    if (rows.some((r) => /^group:/i.test(r.principal))) await req.loadGroups()
    access.profiles = new ProfileGate(rows, req.user, req.groups, access.role)
  }
  return access.profiles
}
