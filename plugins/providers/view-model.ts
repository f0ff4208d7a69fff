// What the Providers page shows: provider -> profiles -> mappings and variables. Values of
// mappings are never here (only scope and variable names); variables are plain and shown.
import type { ProviderProfiles } from '../../src/db/db-service.js'
import type { ProfileVariable, ProviderConfig } from '../../src/models.js'
import { profileEnvName, refusedEnvVarReason } from '../../src/profiles/env-names.js'
import { formatTime } from '../../src/render/format.js'

export interface SyncNote {
  ok: boolean
  text: string
}

export function rowOf(m: ProviderConfig) {
  const profile = m.profile ?? 'default'
  const refused = refusedEnvVarReason(m.provider, m.env_var_name)
  return {
    id: m.id,
    provider: m.provider,
    profile,
    envVar: m.env_var_name,
    scope: m.secret_scope,
    createdBy: m.created_by,
    createdAt: formatTime(m.created_at),
    createdAtIso: m.created_at instanceof Date ? m.created_at.toISOString() : '',
    /** Rows saved before names were checked: shown with the reason, refused when a query uses them. */
    refused: refused ? `Refused: ${m.env_var_name} ${refused}. Delete this mapping.` : undefined,
    /** Where local development (environment mode) reads the value. */
    envName: profileEnvName(m.provider, profile, m.env_var_name),
  }
}

function variableOf(v: ProfileVariable) {
  return { id: v.id, name: v.name, value: v.value, createdBy: v.created_by }
}

/** A stable, HTML-id-safe key of a profile (provider names hold _, profile names _ and -). */
export function profileKey(provider: string, profile: string): string {
  return `${provider}--${profile}`
}

export function pageModel(list: readonly ProviderProfiles[], highlight?: number, sync?: SyncNote) {
  const providers = list.map((p) => ({
    provider: p.provider,
    profiles: p.profiles.map((x) => ({
      key: profileKey(p.provider, x.profile),
      provider: p.provider,
      profile: x.profile,
      mappings: x.mappings.map(rowOf),
      variables: x.variables.map(variableOf),
    })),
  }))
  const count = list.reduce(
    (n, p) => n + p.profiles.reduce((m, x) => m + x.mappings.length + x.variables.length, 0),
    0,
  )
  return { providers, empty: count === 0, highlight, sync }
}
