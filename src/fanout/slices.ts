// Fan-out slices: one profile of one provider, run as its own StackQL process with only that
// profile's credentials and variables. Parsing and expanding slice specs, and the bounded pool.
import { AppError } from '../errors.js'
import { DEFAULT_PROFILE } from '../profiles/names.js'

export interface Slice {
  provider: string
  profile: string
}

const SPEC = /^([a-z][a-z0-9_]{0,62})\/([a-z0-9][a-z0-9_-]{0,39}|\*)$/

/** `aws/prod,aws/staging` or `['aws/prod', 'aws/*']` -> specs; a 4xx naming the bad one. */
export function parseSliceSpecs(input: string | string[]): Slice[] {
  const parts = (Array.isArray(input) ? input : input.split(',')).map((p) => p.trim()).filter(Boolean)
  const out: Slice[] = []
  for (const p of parts) {
    const m = SPEC.exec(p)
    if (!m) {
      throw new AppError(
        'VALIDATION',
        `"${p.slice(0, 80)}" is not a profile slice: write provider/profile (profile names match [a-z0-9][a-z0-9_-]{0,39}) or provider/* for every profile.`,
      )
    }
    if (!out.some((s) => s.provider === m[1] && s.profile === m[2]))
      out.push({ provider: m[1]!, profile: m[2]! })
  }
  const providers = new Set(out.map((s) => s.provider))
  if (providers.size > 1) {
    throw new AppError(
      'VALIDATION',
      `A run fans out across the profiles of one provider, not ${[...providers].join(' and ')}.`,
    )
  }
  return out
}

/**
 * Expands `provider/*` into every known profile of the provider (`known`: provider -> profiles),
 * and refuses a named profile that does not exist (a 4xx naming it and the known ones).
 */
export function expandSlices(specs: Slice[], known: Map<string, string[]>): Slice[] {
  const out: Slice[] = []
  for (const s of specs) {
    const profiles = known.get(s.provider) ?? [DEFAULT_PROFILE]
    const names = s.profile === '*' ? profiles : [s.profile]
    for (const profile of names) {
      if (!profiles.includes(profile)) {
        throw new AppError(
          'VALIDATION',
          `Provider ${s.provider} has no profile "${profile}" (its profiles: ${profiles.join(', ')}). Add it on the Providers page or remove it from the run.`,
        )
      }
      if (!out.some((o) => o.provider === s.provider && o.profile === profile))
        out.push({ provider: s.provider, profile })
    }
  }
  return out
}

/** True when the run spans more than the default profile: every row then gets a `_profile` column. */
export function spansProfiles(slices: Slice[]): boolean {
  return slices.length > 1 || (slices.length === 1 && slices[0]!.profile !== DEFAULT_PROFILE)
}

export const sliceLabel = (s: Slice): string => `${s.provider}/${s.profile}`

/** Runs `fn` over `items` with at most `limit` at once; results in input order. Never rejects early. */
export async function runBounded<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return results
}

/**
 * Spaces launches: a call resolves no sooner than `gapMs` after the previous call resolved, so a
 * pool that opens (or frees several slots at once) does not start its processes in the same instant.
 * Measured from the actual launches: a timer that fired late never lets the next one follow closer.
 * Resolves with the launch time (performance.now()).
 */
export function launchSpacer(gapMs: number): () => Promise<number> {
  let last = Number.NEGATIVE_INFINITY
  return async () => {
    if (gapMs <= 0) return performance.now()
    for (;;) {
      const wait = last + gapMs - performance.now()
      if (wait <= 0) break
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)))
    }
    last = performance.now()
    return last
  }
}
