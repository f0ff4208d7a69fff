// Which table column each StackQL result key is stored in. The mapping of a table is kept in
// stackql_app.inventory_columns (column-map.ts) and reused on every run, so a key's values never move
// to another column; only keys seen for the first time get a name, by rules that do not depend on the
// order of keys within a row or across rows.
//
// A key already matching ^[a-z_][a-z0-9_]{0,59}$ (and not a system column name) keeps it. Other keys
// are made into one: camelCase split (machineType -> machine_type), lower-cased, each run of
// characters outside [a-z0-9_] becomes one `_`, leading/trailing `_` trimmed, a leading digit gets a `_`
// prefix, system-column names (xmin, ctid, ...) a `_` suffix, cut to 60 characters; nothing left ->
// `column_<hash>`. When that name is taken (by the table, the mapping, or a key that keeps its own
// name), the key gets `_<first 6 hex digits of sha256(key)>` instead — a function of the key alone.
import { createHash } from 'node:crypto'

const VALID_NAME = /^[a-z_][a-z0-9_]{0,59}$/
const SYSTEM_COLUMNS = new Set(['tableoid', 'xmin', 'xmax', 'cmin', 'cmax', 'ctid', 'oid'])
const MAX_NAME = 60

/** True when a key is used as its column name unchanged. */
export function keepsOwnName(key: string): boolean {
  return VALID_NAME.test(key) && !SYSTEM_COLUMNS.has(key)
}

/** The first `length` hex digits of the SHA-256 of `key` (stable names derived from a key). */
export function hashOf(key: string, length: number): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, length)
}

/** The preferred column name of a key (before collisions). */
export function baseName(key: string): string {
  if (keepsOwnName(key)) return key
  let name = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (name === '') return `column_${hashOf(key, 6)}`
  if (/^[0-9]/.test(name)) name = `_${name}`
  if (SYSTEM_COLUMNS.has(name)) name = `${name}_`
  return name.slice(0, MAX_NAME)
}

/** `base` with a suffix derived from the key; longer suffixes only if even that is taken. */
function suffixed(key: string, base: string, taken: ReadonlySet<string>): string {
  for (let length = 6; length <= 64; length += 2) {
    const suffix = `_${hashOf(key, length)}`
    const name = base.slice(0, MAX_NAME - suffix.length) + suffix
    if (!taken.has(name)) return name
  }
  throw new Error(`no free column name for key ${JSON.stringify(key)}`)
}

/**
 * Names for keys that have no column yet. `taken` holds every name in use (table columns and mapped
 * names). Keys that keep their own name claim it first; the others follow in code-unit order of the
 * key, so the result is the same whatever order the keys arrive in.
 */
export function nameNewKeys(keys: Iterable<string>, taken: ReadonlySet<string>): Map<string, string> {
  const used = new Set(taken)
  const out = new Map<string, string>()
  const rest: string[] = []
  for (const key of new Set(keys)) {
    if (keepsOwnName(key) && !used.has(key)) {
      out.set(key, key)
      used.add(key)
    } else rest.push(key)
  }
  // A key that keeps its own name is only displaced by the table or the stored mapping, never by a
  // key of the same run: reserve those names before the others choose.
  rest.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  for (const key of rest) {
    const base = baseName(key)
    const name = used.has(base) ? suffixed(key, base, used) : base
    out.set(key, name)
    used.add(name)
  }
  return out
}

/**
 * The previous version's naming (sanitised, duplicates numbered `_2`, `_3`... by position): used once
 * per table, to recover which key filled which column of a table it made (see column-map.ts).
 */
export function legacyColumnNames(columns: readonly string[]): string[] {
  const used = new Set<string>()
  return columns.map((raw, i) => {
    let base: string
    if (keepsOwnName(raw)) base = raw
    else {
      base = baseName(raw)
      if (base.startsWith('column_') && !/[a-z0-9]/i.test(raw)) base = `column_${i + 1}`
    }
    let name = base
    for (let n = 2; used.has(name); n++) {
      const suffix = `_${n}`
      name = base.slice(0, MAX_NAME - suffix.length) + suffix
    }
    used.add(name)
    return name
  })
}
