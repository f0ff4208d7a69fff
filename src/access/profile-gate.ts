// One request's view of the profile permissions: which (provider, profile) pairs this user may use.
// Built from all rows of stackql_app.profile_permissions at once (a small table), so a page showing
// many pickers asks the database once. plugins/web/access.ts refuses uses with it; pickers hide with it.
import { mayUseProfile } from './profile-permissions.js'
import type { Role } from './roles.js'

export interface ProfileRestriction {
  provider: string
  profile: string
  principal: string
}

export interface ProfileUse {
  provider: string
  profile: string
  /** The spec that named it when it was not named itself (`aws/*`). */
  via?: string
}

const pairKey = (provider: string, profile: string) => `${provider.toLowerCase()}/${profile.toLowerCase()}`

export class ProfileGate {
  private readonly principals = new Map<string, string[]>()

  constructor(
    rows: readonly ProfileRestriction[],
    private readonly email: string,
    private readonly groups: readonly string[],
    private readonly role: Role,
    /** False for the gate used before the rows were loaded: it hides nothing (the server still refuses). */
    readonly loaded = true,
  ) {
    for (const r of rows) {
      const key = pairKey(r.provider, r.profile)
      this.principals.set(key, [...(this.principals.get(key) ?? []), r.principal])
    }
  }

  /** A gate that hides nothing: before the rows are loaded, or with access control off. */
  static open(): ProfileGate {
    return new ProfileGate([], '', [], 'admin', false)
  }

  restricted(provider: string, profile: string): boolean {
    return this.principals.has(pairKey(provider, profile))
  }

  may(provider: string, profile: string): boolean {
    return mayUseProfile(
      this.principals.get(pairKey(provider, profile)) ?? [],
      this.email,
      this.groups,
      this.role,
    )
  }

  /** The restricted profile names of a provider (a wildcard covers them even before they have mappings). */
  restrictedOf(provider: string): string[] {
    const prefix = `${provider.toLowerCase()}/`
    return [...this.principals.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))
  }

  /** The uses this user may not make, in order. */
  refused(uses: readonly ProfileUse[]): ProfileUse[] {
    return uses.filter((u) => !this.may(u.provider, u.profile))
  }
}

/**
 * What the pickers offer: per provider only the profiles this user may use, `every` when a
 * `provider/*` pick would cover only such profiles (known ones and restricted names alike);
 * providers left with nothing are dropped.
 */
export function visibleProfiles(
  gate: ProfileGate,
  list: readonly { provider: string; profiles: readonly { profile: string }[] }[],
): { provider: string; profiles: string[]; every: boolean }[] {
  return list.flatMap((p) => {
    const all = [...new Set([...p.profiles.map((x) => x.profile), ...gate.restrictedOf(p.provider)])]
    const profiles = p.profiles.map((x) => x.profile).filter((name) => gate.may(p.provider, name))
    if (profiles.length === 0) return []
    return [{ provider: p.provider, profiles, every: all.every((name) => gate.may(p.provider, name)) }]
  })
}

/** The 403 for a refused use: names the profile and what the user needs. */
export function profileRefusal(use: ProfileUse, what: string): string {
  const name = `${use.provider}/${use.profile}`
  const via = use.via ? `${use.via} covers ${name}, which is restricted` : `Profile ${name} is restricted`
  return `${via}: only the users and groups an admin listed for it on the Access page may ${what} with it, and you are not one of them. Ask an admin to add you (or a group of yours) to ${name}${use.via ? `, or pick only profiles you may use instead of ${use.via}` : ''}.`
}
