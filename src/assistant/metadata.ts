// What the assistant needs from the StackQL metadata (the explorer's MetadataService satisfies it):
// read-only lookups that run without credentials, and the check of a statement before it runs.

export interface LookupOptions {
  signal?: AbortSignal
  timeoutMs?: number
}

export interface MetadataColumn {
  name: string
  type: string
  description: string
}

export interface MetadataMethod {
  name: string
  requiredParams: string[]
  sqlVerb: string
}

export interface StatementWarning {
  kind: string
  message: string
  start: number
  end: number
  suggestions?: string[]
}

/** A service or resource row; the metadata service may return names or objects with a name. */
export type NamedEntry = string | { name: string; title?: string }

export interface AssistantMetadata {
  listServices(provider: string, opts?: LookupOptions): Promise<NamedEntry[]>
  listResources(provider: string, service: string, opts?: LookupOptions): Promise<NamedEntry[]>
  describeResource(
    provider: string,
    service: string,
    resource: string,
    opts?: LookupOptions,
  ): Promise<MetadataColumn[]>
  showMethods(
    provider: string,
    service: string,
    resource: string,
    opts?: LookupOptions,
  ): Promise<MetadataMethod[]>
  checkStatement(text: string, opts?: LookupOptions): Promise<StatementWarning[]>
}
