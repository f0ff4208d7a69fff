// Check before run: a SELECT's resource references, columns and WHERE parameters against the
// cached StackQL metadata. Only metadata statements are used (no cloud API is called); anything
// that cannot be looked up becomes an `unchecked` warning, never a silent pass.
import { AppError } from '../errors.js'
import { type ColumnRef, type ResourceRef, selectParts } from './select-parts.js'
import { closestNames } from './suggest.js'
import type { CheckWarning, ColumnEntry, MethodEntry, ResourceEntry, ServiceEntry } from './types.js'

export interface CheckLookup {
  installed(): Promise<Set<string>>
  services(provider: string): Promise<ServiceEntry[]>
  resources(provider: string, service: string): Promise<ResourceEntry[]>
  columns(provider: string, service: string, resource: string): Promise<ColumnEntry[]>
  methods(provider: string, service: string, resource: string): Promise<MethodEntry[]>
}

interface Known {
  ref: ResourceRef
  columns: ColumnEntry[]
  methods: MethodEntry[]
}

const lower = (s: string) => s.toLowerCase()

export async function checkStatementText(text: string, lookup: CheckLookup): Promise<CheckWarning[]> {
  let parts: ReturnType<typeof selectParts>
  try {
    parts = selectParts(text)
  } catch (e) {
    // The statement tokenizer refuses what StackQL would read differently; Run refuses it too.
    if (!(e instanceof AppError)) throw e
    return [{ kind: 'unchecked', message: e.message, start: 0, end: 0 }]
  }
  if (!parts || parts.refs.length === 0) return []
  const warnings: CheckWarning[] = []
  const known: Known[] = []
  let installed: Set<string>
  try {
    installed = await lookup.installed()
  } catch (e) {
    return [unchecked(parts.refs[0]!, e)]
  }
  for (const ref of parts.refs) {
    try {
      const found = await resolve(ref, installed, lookup, warnings)
      if (found) known.push(found)
    } catch (e) {
      warnings.push(unchecked(ref, e))
    }
  }
  // Columns can only be judged when every table of the statement is known.
  if (known.length !== parts.refs.length) return warnings
  for (const col of parts.columns) {
    const w = checkColumn(col, known, parts.aliases)
    if (w) warnings.push(w)
  }
  for (const k of known) {
    const w = checkParameters(k, parts.params)
    if (w) warnings.push(w)
  }
  return warnings.sort((a, b) => a.start - b.start)
}

async function resolve(
  ref: ResourceRef,
  installed: Set<string>,
  lookup: CheckLookup,
  warnings: CheckWarning[],
): Promise<Known | undefined> {
  const { provider, service, resource, start, end } = ref
  if (!installed.has(provider)) {
    const near = closestNames(provider, [...installed])
    warnings.push({
      kind: 'unchecked',
      message: `The provider "${provider}" is not installed, so this query was not checked${near.length ? ` (did you mean ${quoteList(near)}?)` : ''}. Pull it in the Explorer to check it.`,
      start,
      end: start + provider.length,
      ...(near.length ? { suggestions: near } : {}),
    })
    return undefined
  }
  const services = await lookup.services(provider)
  if (!services.some((s) => lower(s.name) === lower(service))) {
    const near = closestNames(
      service,
      services.map((s) => s.name),
    )
    const at = start + provider.length + 1
    warnings.push(unknownResource(`${provider} has no service "${service}"`, near, at, at + service.length))
    return undefined
  }
  const resources = await lookup.resources(provider, service)
  if (!resources.some((r) => lower(r.name) === lower(resource))) {
    const near = closestNames(
      resource,
      resources.map((r) => r.name),
    )
    warnings.push(
      unknownResource(
        `${provider}.${service} has no resource "${resource}"`,
        near,
        end - resource.length,
        end,
      ),
    )
    return undefined
  }
  const [columns, methods] = await Promise.all([
    lookup.columns(provider, service, resource),
    lookup.methods(provider, service, resource),
  ])
  return { ref, columns, methods }
}

function checkColumn(col: ColumnRef, known: Known[], aliases: Set<string>): CheckWarning | undefined {
  let tables = known
  if (col.qualifier) {
    const q = lower(col.qualifier)
    tables = known.filter((k) => lower(k.ref.alias ?? '') === q || lower(k.ref.resource) === q)
    if (tables.length === 0) return undefined // a qualifier we do not follow (subquery, json path)
  }
  const names = tables.flatMap((k) => [
    ...k.columns.map((c) => c.name),
    ...k.methods.flatMap((m) => m.requiredParams),
  ])
  const n = lower(col.name)
  if (names.some((x) => lower(x) === n)) return undefined
  if (col.clause === 'where' && !col.qualifier && aliases.has(n)) return undefined
  const near = closestNames(col.name, [...new Set(tables.flatMap((k) => k.columns.map((c) => c.name)))])
  const where = tables.length === 1 ? ` of ${pathOf(tables[0]!.ref)}` : ''
  return {
    kind: 'unknown_column',
    message: `Unknown column "${col.name}"${where}${near.length ? ` — did you mean ${quoteList(near)}?` : '.'}`,
    start: col.start,
    end: col.end,
    ...(near.length ? { suggestions: near } : {}),
  }
}

/** A SELECT needs one SELECT method whose required parameters all appear in WHERE. */
function checkParameters(k: Known, given: Set<string>): CheckWarning | undefined {
  const selects = k.methods.filter((m) => m.sqlVerb === 'SELECT')
  if (selects.length === 0) return undefined
  const missingOf = (m: MethodEntry) => m.requiredParams.filter((p) => !given.has(lower(p)))
  const best = selects
    .map((m) => ({ m, missing: missingOf(m) }))
    .sort((a, b) => a.missing.length - b.missing.length)[0]!
  if (best.missing.length === 0) return undefined
  const names = quoteList(best.missing, 'and')
  return {
    kind: 'missing_parameter',
    message: `${pathOf(k.ref)} needs ${names} in WHERE (required by the ${best.m.name} method), e.g. WHERE ${best.missing[0]} = '...'.`,
    start: k.ref.start,
    end: k.ref.end,
    suggestions: best.missing,
  }
}

function unknownResource(what: string, near: string[], start: number, end: number): CheckWarning {
  return {
    kind: 'unknown_resource',
    message: `${what}${near.length ? ` — did you mean ${quoteList(near)}?` : '.'}`,
    start,
    end,
    ...(near.length ? { suggestions: near } : {}),
  }
}

function unchecked(ref: ResourceRef, e: unknown): CheckWarning {
  const why = e instanceof AppError ? e.message : 'the metadata could not be read'
  return {
    kind: 'unchecked',
    message: `${pathOf(ref)} was not checked: ${why}`,
    start: ref.start,
    end: ref.end,
  }
}

const pathOf = (r: ResourceRef) => `${r.provider}.${r.service}.${r.resource}`

function quoteList(names: string[], joiner = 'or'): string {
  const q = names.map((n) => `"${n}"`)
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} ${joiner} ${q.at(-1)}`
}
