// Names that may be put into a metadata statement. StackQL metadata statements take identifiers,
// not parameters, so every name is checked against a strict pattern before it reaches the text.
import { AppError } from '../errors.js'
import { PROVIDER_PATTERN } from '../models.js'

/** Services and resources: letters, digits and _ (Google and Azure names are camelCase). */
export const METADATA_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'

const provider = new RegExp(PROVIDER_PATTERN)
const name = new RegExp(METADATA_NAME_PATTERN)

export function assertProviderName(value: string): string {
  if (typeof value !== 'string' || !provider.test(value)) {
    throw new AppError(
      'VALIDATION',
      `"${String(value).slice(0, 80)}" is not a provider name (lower-case letters, digits and _).`,
    )
  }
  return value
}

export function assertMetadataName(kind: 'service' | 'resource', value: string): string {
  if (typeof value !== 'string' || !name.test(value)) {
    throw new AppError(
      'VALIDATION',
      `"${String(value).slice(0, 80)}" is not a ${kind} name (letters, digits and _).`,
    )
  }
  return value
}
