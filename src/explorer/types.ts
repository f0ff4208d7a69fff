// Shapes the explorer, the check and the assistant's lookups share (no behaviour here).

export interface ProviderEntry {
  name: string
  version: string
}

export interface ProviderList {
  installed: ProviderEntry[]
  available: ProviderEntry[]
  /** Set when the registry's list could not be read (e.g. unreachable); `available` is then empty. */
  registryError?: string
}

export interface ServiceEntry {
  name: string
  id: string
  title: string
}

export type ResourceEntry = ServiceEntry

export interface ColumnEntry {
  name: string
  type: string
  description: string
}

export interface MethodEntry {
  name: string
  requiredParams: string[]
  sqlVerb: string
}

export interface MetadataOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

export interface CheckWarning {
  kind: 'unknown_resource' | 'unknown_column' | 'missing_parameter' | 'unchecked'
  message: string
  /** Character offsets into the checked text (end exclusive). */
  start: number
  end: number
  suggestions?: string[]
}
