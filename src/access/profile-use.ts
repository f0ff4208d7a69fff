// Which profiles' credentials a request would use, by the kind its rule names (src/access/rules.ts):
// a run (the providers of its text with the picked profiles, and fan-out specs), a new schedule (its
// profiles, else its query provider's default), an existing schedule (Run now, resume, edit), a
// mapping's Test, a profile's Test. `provider/*` covers every profile of the provider, known or
// restricted. The answer feeds ProfileGate.refused in plugins/web/access.ts.
import { DEFAULT_PROFILE } from '../profiles/names.js'
import { profilePicks } from './picks.js'
import type { ProfileGate, ProfileUse } from './profile-gate.js'

export type ProfileUseKind = 'run' | 'schedule-new' | 'schedule' | 'mapping' | 'profile'

export interface UseLookups {
  /** The provider of a saved query, or null. */
  queryProvider(id: number): Promise<string | null>
  /** A schedule's query provider and its profiles (null: the default profile), or null. */
  scheduleUse(id: number): Promise<{ provider: string; profiles: string[] | null } | null>
  mapping(id: number): Promise<{ provider: string; profile?: string | null } | null>
  /** The profiles the Providers page knows for a provider (mappings and variables). */
  knownProfiles(provider: string): Promise<string[]>
}

/** `aws/prod`, `aws/*`, comma lists, arrays; anything else is left to the route to refuse. */
function specsOf(field: unknown): { provider: string; profile: string }[] {
  const list = (Array.isArray(field) ? field : [field]).filter((v): v is string => typeof v === 'string')
  return list
    .flatMap((v) => v.split(','))
    .flatMap((v) => {
      const m = /^\s*([^/\s]+)\s*\/\s*([^/\s]+)\s*$/.exec(v)
      return m ? [{ provider: m[1]!.toLowerCase(), profile: m[2]!.toLowerCase() }] : []
    })
}

async function expand(
  specs: { provider: string; profile: string }[],
  gate: ProfileGate,
  lookups: UseLookups,
): Promise<ProfileUse[]> {
  const out: ProfileUse[] = []
  for (const s of specs) {
    if (s.profile !== '*') {
      out.push(s)
      continue
    }
    const names = new Set([
      DEFAULT_PROFILE,
      ...(await lookups.knownProfiles(s.provider)),
      ...gate.restrictedOf(s.provider),
    ])
    for (const profile of names) out.push({ provider: s.provider, profile, via: `${s.provider}/*` })
  }
  return out
}

const id = (v: unknown) => Number(v)

export async function profilesUsed(
  kind: ProfileUseKind,
  input: { params: unknown; body: unknown; providers?: string[] },
  gate: ProfileGate,
  lookups: UseLookups,
): Promise<ProfileUse[]> {
  const params = (input.params ?? {}) as Record<string, unknown>
  const body = (input.body ?? {}) as Record<string, unknown>
  switch (kind) {
    case 'run': {
      const picks = profilePicks(body.profile)
      const fanOut = specsOf(body.profiles)
      const picked = (input.providers ?? [])
        .filter((p) => !fanOut.some((s) => s.provider === p))
        .map((provider) => ({ provider, profile: picks.profileOf(provider) }))
      return [...picked, ...(await expand(fanOut, gate, lookups))]
    }
    case 'schedule-new': {
      const specs = specsOf(body.profiles)
      if (specs.length) return expand(specs, gate, lookups)
      const provider = await lookups.queryProvider(id(body.query_id))
      return provider ? [{ provider, profile: DEFAULT_PROFILE }] : []
    }
    case 'schedule': {
      const s = await lookups.scheduleUse(id(params.id))
      if (!s) return []
      if (s.profiles?.length) return expand(specsOf(s.profiles), gate, lookups)
      return [{ provider: s.provider, profile: DEFAULT_PROFILE }]
    }
    case 'mapping': {
      const m = await lookups.mapping(id(params.id))
      return m ? [{ provider: m.provider, profile: m.profile ?? DEFAULT_PROFILE }] : []
    }
    case 'profile': {
      const provider = typeof body.provider === 'string' ? body.provider.trim().toLowerCase() : ''
      const profile = typeof body.profile === 'string' ? body.profile.trim() : ''
      return provider ? [{ provider, profile: profile || DEFAULT_PROFILE }] : []
    }
  }
}
