// The profile a run uses per provider, from the run form's `profile` field: one or more
// `provider/profile` picks (the profile picker), or a bare profile name for every provider.
// Unnamed providers use `default`.
export interface ProfilePicks {
  /** The field's values as sent, for re-posting them (the confirmation dialog). */
  raw: string[]
  profileOf(provider: string): string
}

export function profilePicks(field: unknown): ProfilePicks {
  const raw = (Array.isArray(field) ? field : [field]).filter(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  )
  const byProvider = new Map<string, string>()
  let all = 'default'
  for (const pick of raw) {
    const at = pick.indexOf('/')
    if (at < 0) all = pick.trim()
    else byProvider.set(pick.slice(0, at).trim().toLowerCase(), pick.slice(at + 1).trim() || 'default')
  }
  return { raw, profileOf: (provider) => byProvider.get(provider.toLowerCase()) ?? all }
}
