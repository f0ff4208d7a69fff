// What an audit row says about an action: the request's named fields (a fixed list: a new field is
// never recorded by accident, so no secret value can slip in), and for a query run the statement's
// kind, its first 500 characters, and the providers and profiles it uses.
import { referencedProviders } from '../stackql/references.js'

/** Request fields worth recording. Names of secrets (scope, key) yes; values never exist here. */
const FIELDS = [
  'id',
  'name',
  'provider',
  'profile',
  'query_id',
  'cron_expression',
  'target_schema',
  'target_table',
  'env_var_name',
  'secret_scope',
  'secret_key',
  'principal',
] as const

const MAX_FIELD = 200
export const STATEMENT_CHARS = 500

function clip(v: unknown): unknown {
  if (typeof v === 'string') return v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD)}…` : v
  if (typeof v === 'number' || typeof v === 'boolean') return v
  return undefined
}

/** The listed fields of the route parameters and the body. */
export function requestDetails(params: unknown, body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const source of [params, body]) {
    if (!source || typeof source !== 'object') continue
    for (const field of FIELDS) {
      const v = clip((source as Record<string, unknown>)[field])
      if (v !== undefined && v !== '') out[field] = v
    }
  }
  return out
}

/** A query run's details (before it runs; rows and elapsed are added when it ends). */
export function runDetails(
  text: string,
  provider: string | undefined,
  profileOf: (provider: string) => string,
  kind: string,
) {
  let providers: string[] = []
  try {
    providers = referencedProviders(text)
  } catch {
    // Input the tokenizer refuses: the run is refused too, and the chosen provider still says enough.
  }
  if (provider && !providers.includes(provider.toLowerCase()))
    providers = [provider.toLowerCase(), ...providers]
  return {
    statement_kind: kind,
    statement: text.slice(0, STATEMENT_CHARS),
    statement_length: text.length,
    providers,
    profiles: providers.map((p) => `${p}:${profileOf(p)}`),
  }
}
