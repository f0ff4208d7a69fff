// SQL of provider profiles: the credential mappings (stackql_app.provider_config, one profile each)
// and the profiles' plain variables (stackql_app.profile_variables). DbService wraps these in its
// error mapping and list cache; nothing here caches.
import type { Sql, TransactionSql } from 'postgres'
import type { ProfileVariable, ProviderConfig, ProviderConfigInput } from '../models.js'

type Q = Sql | TransactionSql

/** One provider's profiles, each with its mappings and variables. */
export interface ProviderProfiles {
  provider: string
  profiles: { profile: string; mappings: ProviderConfig[]; variables: ProfileVariable[] }[]
}

export function allMappings(sql: Q): Promise<ProviderConfig[]> {
  return sql<ProviderConfig[]>`
    select * from stackql_app.provider_config order by provider, profile = 'default' desc, profile, env_var_name`
}

export function mappingsOf(sql: Q, provider: string): Promise<ProviderConfig[]> {
  return sql<ProviderConfig[]>`
    select * from stackql_app.provider_config where provider = ${provider} order by profile, env_var_name`
}

export async function insertMapping(
  sql: Q,
  input: ProviderConfigInput & { profile: string },
  createdBy: string,
): Promise<ProviderConfig> {
  const [row] = await sql<ProviderConfig[]>`
    insert into stackql_app.provider_config (provider, profile, env_var_name, secret_scope, secret_key, created_by)
    values (${input.provider}, ${input.profile}, ${input.env_var_name}, ${input.secret_scope}, ${input.secret_key}, ${createdBy})
    returning *`
  return row!
}

export function allVariables(sql: Q): Promise<ProfileVariable[]> {
  return sql<ProfileVariable[]>`
    select * from stackql_app.profile_variables order by provider, profile, name`
}

export function variablesOf(sql: Q, provider: string): Promise<ProfileVariable[]> {
  return sql<ProfileVariable[]>`
    select * from stackql_app.profile_variables where provider = ${provider} order by profile, name`
}

export async function variableById(sql: Q, id: number): Promise<ProfileVariable | null> {
  return (
    (await sql<ProfileVariable[]>`select * from stackql_app.profile_variables where id = ${id}`)[0] ?? null
  )
}

/** Sets a variable (a new value replaces the old one). */
export async function upsertVariable(
  sql: Q,
  v: Pick<ProfileVariable, 'provider' | 'profile' | 'name' | 'value'>,
  createdBy: string,
): Promise<ProfileVariable> {
  const [row] = await sql<ProfileVariable[]>`
    insert into stackql_app.profile_variables (provider, profile, name, value, created_by)
    values (${v.provider}, ${v.profile}, ${v.name}, ${v.value}, ${createdBy})
    on conflict (provider, profile, name)
    do update set value = excluded.value, created_by = excluded.created_by, created_at = now()
    returning *`
  return row!
}

export async function deleteVariable(sql: Q, id: number): Promise<number> {
  return (await sql`delete from stackql_app.profile_variables where id = ${id}`).count
}

/** Every provider with its profiles (from mappings and variables), 'default' first. */
export async function providerProfiles(sql: Q): Promise<ProviderProfiles[]> {
  const [mappings, variables] = await Promise.all([allMappings(sql), allVariables(sql)])
  return groupProfiles(mappings, variables)
}

export function groupProfiles(mappings: ProviderConfig[], variables: ProfileVariable[]): ProviderProfiles[] {
  const byProvider = new Map<string, Map<string, ProviderProfiles['profiles'][number]>>()
  const slot = (provider: string, profile: string) => {
    const profiles = byProvider.get(provider) ?? new Map()
    byProvider.set(provider, profiles)
    const p = profiles.get(profile) ?? { profile, mappings: [], variables: [] }
    profiles.set(profile, p)
    return p
  }
  for (const m of mappings) slot(m.provider, m.profile ?? 'default').mappings.push(m)
  for (const v of variables) slot(v.provider, v.profile).variables.push(v)
  return [...byProvider.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, profiles]) => ({
      provider,
      profiles: [...profiles.values()].sort(
        (a, b) =>
          Number(b.profile === 'default') - Number(a.profile === 'default') ||
          a.profile.localeCompare(b.profile),
      ),
    }))
}
