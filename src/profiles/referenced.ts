// The providers a statement needs: those whose resources it queries or changes get credentials
// (the shared tokenizer's referencedProviders: FROM, JOIN, sub-queries, INSERT INTO, ...); the one
// a metadata statement names (DESCRIBE aws.ec2.instances, SHOW SERVICES IN aws) is only pulled.
import { namedProvider, referencedProviders, resourceReferences } from '../stackql/references.js'
import { findPlaceholders, maskPlaceholders } from './variables.js'

export { referencedProviders }

/** Providers to pull before running `text`: the referenced ones and the one a metadata statement names. */
export function providersToPull(text: string): string[] {
  const named = namedProvider(text)
  const all = referencedProviders(text)
  return named && !all.includes(named) ? [...all, named] : all
}

/**
 * A saved query's `provider` column (kept for compatibility): the first provider the text names,
 * or '' (SHOW PROVIDERS, REGISTRY LIST, or text the tokenizer refuses).
 */
export function savedQueryProvider(text: string): string {
  try {
    const masked = maskPlaceholders(text, findPlaceholders(text))
    return resourceReferences(masked)[0]?.provider.toLowerCase() ?? namedProvider(masked) ?? ''
  } catch {
    return ''
  }
}

/** The providers the IDE picker offers profiles for; text that cannot be read yet offers none. */
export function pickerProviders(text: string): { providers: string[]; error?: string } {
  try {
    return { providers: referencedProviders(maskPlaceholders(text, findPlaceholders(text))) }
  } catch (e) {
    return { providers: [], error: (e as Error).message }
  }
}
