// Group membership per user, looked up through SCIM Me with the user's forwarded token and kept
// for 5 minutes (a user removed from a group loses its rights within that time). A failed lookup
// is kept for a shorter time and answers "no groups, and why": the caller fails closed.
import { isAppError } from '../errors.js'
import { emailKey } from './roles.js'

export const GROUPS_TTL_MS = 5 * 60_000
export const FAILURE_TTL_MS = 30_000

export interface Membership {
  groups: string[]
  /** Set when the groups could not be read: the user gets only what their e-mail gives them. */
  problem?: string
}

export type MeLookup = (token: string) => Promise<{ userName: string; emails: string[]; groups: string[] }>

export class GroupCache {
  private readonly entries = new Map<string, { at: number; ttl: number; value: Membership }>()

  constructor(
    private readonly lookup: MeLookup,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The groups of `email`. `token` is the forwarded user token of this request (used only when the
   * cache has nothing fresh, never kept). A token that belongs to someone else is refused.
   */
  async membership(email: string, token: string | undefined): Promise<Membership> {
    const key = emailKey(email)
    const hit = this.entries.get(key)
    if (hit && this.now() - hit.at < hit.ttl) return hit.value
    if (!token) {
      return {
        groups: [],
        problem:
          'No user token was forwarded, so your groups are unknown: enable user authorization for the app (scope iam.current-user:read). Roles given to your e-mail still apply.',
      }
    }
    let value: Membership
    let ttl = GROUPS_TTL_MS
    try {
      const me = await this.lookup(token)
      const names = [me.userName, ...me.emails].map(emailKey)
      if (!names.includes(key)) {
        value = {
          groups: [],
          problem:
            'The forwarded user token belongs to another identity than your sign-in: your groups were ignored.',
        }
        ttl = FAILURE_TTL_MS
      } else value = { groups: me.groups }
    } catch (e) {
      if (!isAppError(e)) throw e
      value = { groups: [], problem: e.message }
      ttl = FAILURE_TTL_MS
    }
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.delete(key)
    this.entries.set(key, { at: this.now(), ttl, value })
    return value
  }
}
