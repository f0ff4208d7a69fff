// Profile and variable names: the rules the Providers page, the IDE picker and the query service
// share. A profile is a named credential set of one provider (aws/prod); 'default' always exists.
import { AppError } from '../errors.js'
import { PROFILE_PATTERN, PROVIDER_PATTERN, VARIABLE_NAME_PATTERN } from '../models.js'

export { PROFILE_PATTERN, VARIABLE_NAME_PATTERN }

export const DEFAULT_PROFILE = 'default'

const PROFILE = new RegExp(PROFILE_PATTERN)
const PROVIDER = new RegExp(PROVIDER_PATTERN)
const VARIABLE = new RegExp(VARIABLE_NAME_PATTERN)

export function isProfileName(name: string): boolean {
  return PROFILE.test(name)
}

/** Throws VALIDATION unless `name` is a profile name. */
export function assertProfileName(name: string): string {
  if (!PROFILE.test(name)) {
    throw new AppError(
      'VALIDATION',
      `"${name.slice(0, 60)}" is not a profile name: use 1-40 lower-case letters, digits, _ and -, starting with a letter or digit (e.g. prod, eu-west, team_a).`,
    )
  }
  return name
}

export function assertVariableName(name: string): string {
  if (!VARIABLE.test(name)) {
    throw new AppError(
      'VALIDATION',
      `"${name.slice(0, 70)}" is not a variable name: use letters, digits and _, not starting with a digit, at most 64 characters (it is written {{ name }} in a query).`,
    )
  }
  return name
}

/** A picked profile, `provider/profile` (the IDE picker's value), split and checked. */
export function parseProfileRef(ref: string): { provider: string; profile: string } {
  const [provider = '', profile = '', ...rest] = ref.split('/')
  if (rest.length > 0 || !PROVIDER.test(provider)) {
    throw new AppError('VALIDATION', `"${ref.slice(0, 80)}" is not a provider/profile pair (e.g. aws/prod).`)
  }
  return { provider, profile: assertProfileName(profile) }
}
