// The "Insert SELECT" template of a resource: its columns, FROM provider.service.resource, and a
// WHERE with every required parameter of its SELECT method as a <placeholder> the editor jumps to.
import type { ColumnEntry, MethodEntry } from './types.js'

/** The SELECT method needing the fewest parameters (StackQL picks the method the WHERE satisfies). */
export function selectMethod(methods: MethodEntry[]): MethodEntry | undefined {
  return methods
    .filter((m) => m.sqlVerb === 'SELECT')
    .sort((a, b) => a.requiredParams.length - b.requiredParams.length)[0]
}

/** Columns one per line; placeholders written as '<name>' so the editor can select them in turn. */
export function selectTemplate(
  path: { provider: string; service: string; resource: string },
  columns: ColumnEntry[],
  methods: MethodEntry[],
): string {
  const names = columns.map((c) => c.name).filter(Boolean)
  const list = names.length ? names.map((n) => `  ${n}`).join(',\n') : '  *'
  const params = selectMethod(methods)?.requiredParams ?? []
  const where = params.length
    ? `\nWHERE ${params.map((p, i) => `${i ? '  AND ' : ''}${p} = '<${p}>'`).join('\n')}`
    : ''
  return `SELECT\n${list}\nFROM ${path.provider}.${path.service}.${path.resource}${where}\n`
}
