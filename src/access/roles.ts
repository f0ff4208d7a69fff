// Who has which role: APP_ADMINS / APP_EDITORS list e-mails and `group:<name>` entries; everyone
// else gets APP_DEFAULT_ROLE (viewer once any admin is configured). No admin configured at all
// means access control is off: everyone is admin, and the pages say so.

export type Role = 'viewer' | 'editor' | 'admin'

export const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 }

/** Whether `role` includes everything `needed` may do. */
export function hasRole(role: Role, needed: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed]
}

interface Members {
  emails: Set<string>
  groups: Set<string>
}

export interface AccessPolicy {
  /** False when no admin is configured: everyone is admin (local development). */
  enabled: boolean
  admins: Members
  editors: Members
  defaultRole: Role
  /** Whether any entry names a group: only then is the user's group membership looked up. */
  usesGroups: boolean
}

/**
 * Group names compare after Unicode NFC normalisation and case folding, so "Data Engineers",
 * "data engineers" and a decomposed "Ingénieurs" match what SCIM returns however it was typed.
 */
export function groupKey(name: string): string {
  return name.normalize('NFC').trim().toLowerCase()
}

export function emailKey(email: string): string {
  return email.normalize('NFC').trim().toLowerCase()
}

/** Parses one comma list: `alice@x.com, group:Data Engineers, group:Ingénieurs`. */
export function parseMembers(list: string): Members {
  const members: Members = { emails: new Set(), groups: new Set() }
  for (const raw of list.split(',')) {
    const entry = raw.trim()
    if (!entry) continue
    const group = /^group:(.*)$/i.exec(entry)
    if (group) {
      const name = groupKey(group[1]!)
      if (name) members.groups.add(name)
    } else members.emails.add(emailKey(entry))
  }
  return members
}

export function accessPolicy(config: { admins: string; editors: string; defaultRole?: Role }): AccessPolicy {
  const admins = parseMembers(config.admins)
  const editors = parseMembers(config.editors)
  const enabled = admins.emails.size + admins.groups.size > 0
  return {
    enabled,
    admins,
    editors,
    defaultRole: enabled ? (config.defaultRole ?? 'viewer') : 'admin',
    usesGroups: admins.groups.size + editors.groups.size > 0,
  }
}

function isMember(members: Members, email: string, groups: readonly string[]): boolean {
  return members.emails.has(emailKey(email)) || groups.some((g) => members.groups.has(groupKey(g)))
}

/** The highest role the user's e-mail or one of their groups is given, else the default role. */
export function resolveRole(policy: AccessPolicy, email: string, groups: readonly string[]): Role {
  if (!policy.enabled) return 'admin'
  if (isMember(policy.admins, email, groups)) return 'admin'
  const role: Role = isMember(policy.editors, email, groups) ? 'editor' : 'viewer'
  return hasRole(policy.defaultRole, role) ? policy.defaultRole : role
}
