// Profile permissions: a (provider, profile) whose credentials only some people may use. The
// principals are e-mails and `group:<name>` entries (stackql_app.profile_permissions); no rows
// means unrestricted; admins may always use a profile. Checked in plugins/web/access.ts with the
// other rules, so a restriction applies to every route that names the profile.
import { emailKey, groupKey, hasRole, type Role } from './roles.js'

export function mayUseProfile(
  principals: readonly string[],
  email: string,
  groups: readonly string[],
  role: Role,
): boolean {
  if (principals.length === 0 || hasRole(role, 'admin')) return true
  const mine = new Set([emailKey(email), ...groups.map((g) => `group:${groupKey(g)}`)])
  return principals.some((p) => {
    const group = /^group:(.*)$/i.exec(p.trim())
    return mine.has(group ? `group:${groupKey(group[1]!)}` : emailKey(p))
  })
}
