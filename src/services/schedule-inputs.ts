// A schedule's inputs as the service takes them: the form values it parses (shrink guard, key
// columns) and its profiles resolved into the job's slices and provider mappings.
import { AppError } from '../errors.js'
import { expandSlices, parseSliceSpecs, type Slice } from '../fanout/slices.js'
import type { ProviderConfig, Query, Schedule } from '../models.js'
import { referencedProviders } from '../stackql/references.js'

/** Where the provider mappings come from (the schedule service's store). */
export interface ProviderConfigSource {
  getProviderConfigFor(provider: string): Promise<ProviderConfig[]>
}

/**
 * Reads the shrink guard as a form sends it: empty (or "off") = off, else a whole percentage
 * 1–100 (a trailing % is fine). Anything else is a VALIDATION error naming the field.
 */
export function parseShrinkGuard(value: unknown): number | null {
  if (value === undefined || value === null) return null
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100) return value
  const text = String(value).trim().replace(/%$/, '').trim()
  if (text === '' || /^off$/i.test(text)) return null
  if (/^[0-9]{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 100) return Number(text)
  throw new AppError(
    'VALIDATION',
    `Shrink guard: "${String(value).slice(0, 20)}" is not a percentage. Enter a whole number from 1 to 100 (e.g. 90 refuses a snapshot with fewer than 90% of the previous rows), or leave it empty to turn the guard off.`,
  )
}

/** Key columns as typed ("instance_id, _profile" or a list): trimmed, unique, at most 10; null when none. */
export function parseKeyColumns(keys: string | readonly string[] | null | undefined): string[] | null {
  const list = (typeof keys === 'string' ? keys.split(',') : (keys ?? []))
    .map((k) => k.trim())
    .filter(Boolean)
  const unique = [...new Set(list)]
  if (unique.length > 10 || unique.some((k) => k.length > 200)) {
    throw new AppError('VALIDATION', 'Name at most 10 key columns of at most 200 characters each.')
  }
  return unique.length ? unique : null
}

/**
 * What the job definition needs: the schedule's slices (its profiles, `aws/*` expanded to every
 * mapped profile) and only those profiles' mappings; without profiles, the query provider's
 * mappings and no slices (today's single task).
 */
export async function scheduleJobInputs(
  db: ProviderConfigSource,
  query: Query,
  schedule: Pick<Schedule, 'profiles'>,
): Promise<{ mappings: ProviderConfig[]; slices: Slice[] }> {
  if (!schedule.profiles?.length) {
    // No slices: the default profile of every provider the statement references (credentials follow the query).
    const providers = new Set([query.provider, ...referencedProviders(query.query_text)])
    const mappings: ProviderConfig[] = []
    for (const p of providers) {
      for (const m of await db.getProviderConfigFor(p))
        if ((m.profile ?? 'default') === 'default') mappings.push(m)
    }
    return { mappings, slices: [] }
  }
  const specs = parseSliceSpecs(schedule.profiles)
  const provider = specs[0]!.provider
  const configs = await db.getProviderConfigFor(provider)
  const known = new Map([
    [provider, [...new Set(['default', ...configs.map((c) => c.profile ?? 'default')])]],
  ])
  const slices = expandSlices(specs, known)
  const chosen = new Set(slices.map((s) => s.profile))
  return { mappings: configs.filter((c) => chosen.has(c.profile ?? 'default')), slices }
}
