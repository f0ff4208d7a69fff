// THE table of who may do what: every state-changing route (method + route pattern) names the role it
// needs, the audit action it records, and whether an editor may act only on their own item.
// plugins/web/access.ts applies it to every request in one hook; a POST/PUT/PATCH/DELETE route
// missing here is admin-only (deny by default) and fails test/access-matrix.test.ts.
import type { ProfileUseKind } from './profile-use.js'
import type { Role } from './roles.js'

export interface Rule {
  /** The least role that may do this. */
  role: Role
  /** What the audit log calls it; absent: not audited (it changes nothing and runs nothing). */
  action?: string
  /** Editors may do it only to items they created; admins to anyone's. */
  owner?: 'query' | 'schedule'
  /** POST /run: the statement's kind decides too (src/access/mutations.ts). */
  statement?: true
  /**
   * Profile permissions: which profiles' credentials the route uses (src/access/profile-use.ts), each
   * refused unless the user may use it; 'pickers': the route only shows profiles, hidden by the gate.
   */
  profiles?: ProfileUseKind | 'pickers'
  /** What the 403 says the role is needed for. */
  what: string
}

export const RULES: Record<string, Rule> = {
  'POST /run': { role: 'viewer', action: 'query.run', statement: true, profiles: 'run', what: 'run queries' },
  /** Run across profiles (IDE): the statement rule and every profile's restriction apply. */
  'POST /run/across': { role: 'viewer', action: 'query.run', statement: true, what: 'run queries' },
  'POST /chat': { role: 'viewer', what: 'ask the assistant' },
  'POST /chat/render': { role: 'viewer', what: 'use the assistant' },
  'POST /queries': { role: 'editor', action: 'query.save', what: 'save queries' },
  'DELETE /queries/:id': { role: 'editor', action: 'query.delete', owner: 'query', what: 'delete queries' },
  'POST /schedules': {
    role: 'editor',
    action: 'schedule.create',
    profiles: 'schedule-new',
    what: 'create schedules',
  },
  'POST /schedules/:id/pause': {
    role: 'editor',
    action: 'schedule.pause',
    owner: 'schedule',
    what: 'pause schedules',
  },
  'POST /schedules/:id/resume': {
    role: 'editor',
    action: 'schedule.resume',
    owner: 'schedule',
    profiles: 'schedule',
    what: 'resume schedules',
  },
  'POST /schedules/:id/cron': {
    role: 'editor',
    action: 'schedule.update',
    owner: 'schedule',
    profiles: 'schedule',
    what: 'change schedules',
  },
  'POST /schedules/:id/delete': {
    role: 'editor',
    action: 'schedule.delete',
    owner: 'schedule',
    what: 'delete schedules',
  },
  'DELETE /schedules/:id': {
    role: 'editor',
    action: 'schedule.delete',
    owner: 'schedule',
    what: 'delete schedules',
  },
  'POST /schedules/:id/run': {
    role: 'editor',
    action: 'schedule.run-now',
    profiles: 'schedule',
    what: 'run schedules now',
  },
  'POST /providers': { role: 'admin', action: 'mapping.create', what: 'add provider mappings' },
  'DELETE /providers/:id': { role: 'admin', action: 'mapping.delete', what: 'delete provider mappings' },
  'POST /providers/:id/test': {
    role: 'viewer',
    action: 'mapping.test',
    profiles: 'mapping',
    what: 'test provider mappings',
  },
  'POST /access/profiles': { role: 'admin', action: 'profile.restrict', what: 'restrict profiles' },
  'POST /providers/variables': { role: 'admin', action: 'variable.create', what: 'set profile variables' },
  'DELETE /providers/variables/:id': {
    role: 'admin',
    action: 'variable.delete',
    what: 'delete profile variables',
  },
  'POST /providers/profiles/test': {
    role: 'viewer',
    action: 'profile.test',
    profiles: 'profile',
    what: 'test profiles',
  },
  'POST /explorer/pull/:provider': { role: 'viewer', action: 'registry.pull', what: 'pull providers' },
  'POST /explorer/check': { role: 'viewer', what: 'check queries' },
  'POST /starter/add': { role: 'editor', action: 'query.save', what: 'add starter queries to the library' },
  'POST /profiles/picker': { role: 'viewer', profiles: 'pickers', what: 'choose profiles' },
  'POST /access/profiles/remove': {
    role: 'admin',
    action: 'profile.unrestrict',
    what: 'change profile restrictions',
  },
  // Pages with profile pickers or Test buttons: the gate is loaded so they show only usable profiles.
  'GET /schedules': { role: 'viewer', profiles: 'pickers', what: 'see schedules' },
  'GET /providers': { role: 'viewer', profiles: 'pickers', what: 'see providers' },
  'GET /providers/:id/row': { role: 'viewer', profiles: 'pickers', what: 'see provider mappings' },
  // Reads that only admins may see (not audited: they change nothing).
  'GET /audit': { role: 'admin', what: 'see the audit log' },
  'GET /access/profiles': { role: 'admin', what: 'see profile restrictions' },
  'GET /audit/audit.csv': { role: 'admin', what: 'download the audit log' },
  'POST /inventory/tables/:name/refresh': {
    role: 'editor',
    action: 'inventory.refresh',
    what: 'refresh materialised views',
  },
}

/** The methods that change something: each route of these needs a rule. */
export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** What an unlisted state-changing route gets: admins only, audited. */
export const UNLISTED: Rule = { role: 'admin', action: 'unlisted', what: 'use this action' }

/** `POST /schedules/` and `POST /schedules` are the same route (a prefix plugin's '/'). */
export function ruleKey(method: string, url: string): string {
  const path = url.length > 1 ? url.replace(/\/+$/, '') : url
  return `${method.toUpperCase()} ${path}`
}

export function ruleFor(method: string, url: string): Rule | undefined {
  const rule = RULES[ruleKey(method, url)]
  if (rule || !UNSAFE_METHODS.has(method.toUpperCase())) return rule
  return UNLISTED
}

export function isListed(method: string, url: string): boolean {
  return ruleKey(method, url) in RULES
}
