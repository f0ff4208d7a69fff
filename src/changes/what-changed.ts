// "What changed": the compact summary of one run's changes that is sent to the assistant in
// Interpret mode — counts, then at most 50 change records (shared fairly between the kinds),
// modified rows with only their changed columns (before -> after), added and removed rows in full
// but capped, and values that look like secrets replaced by [redacted]. Framework-free.
import { REDACTED } from '../stackql/redact.js'

export const WHAT_CHANGED_RECORDS = 50
/** Columns of an added / removed row shown; the rest are counted. */
export const ROW_COLUMNS = 40
/** Characters of one value shown (JSON text for objects); longer values are cut with "…". */
export const VALUE_CHARS = 300
/** Characters of all records together: the chat's whole conversation is limited (MAX_CHAT_CHARS). */
export const RECORDS_CHARS = 40_000

export type ChangeKind = 'added' | 'removed' | 'modified'

export interface WhatChangedRecord {
  change_kind: ChangeKind
  profile: string | null
  row_key: Record<string, unknown> | null
  changed_columns: string[] | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

export interface WhatChangedRun {
  id: number
  query_name: string | null
  target_schema: string
  target_table: string
  status: string
  started_at: Date
  added_count: number | null
  removed_count: number | null
  modified_count: number | null
  changes_baseline: boolean | null
  key_columns: string[] | null
}

// Column / field names whose values are credentials in their own right.
const SECRET_NAME =
  /secret|passw(or)?d|passphrase|token|credential|private_?key|api_?key|auth_?key|sas_?key|access_?key(?!_?ids?$)|connection_?string/i
// Values shaped like a credential whatever their column is called.
const SECRET_VALUE = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
  /^eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*$/, // a JWT
  /^(ghp|gho|ghs|ghu|ghr|github_pat)_[A-Za-z0-9_]{20,}$/,
  /^xox[abprs]-[A-Za-z0-9-]{10,}$/,
  /^sk-[A-Za-z0-9_-]{20,}$/,
  /^(AKIA|ASIA)[0-9A-Z]{16}$/,
]

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name)
}

/** A copy of `value` with secret-named fields and secret-shaped strings replaced by [redacted]. */
export function redactValue(value: unknown, name = ''): unknown {
  if (name && isSecretName(name) && value !== null && value !== undefined) return REDACTED
  if (typeof value === 'string') return SECRET_VALUE.some((re) => re.test(value.trim())) ? REDACTED : value
  if (Array.isArray(value)) return value.map((v) => redactValue(v))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]))
  }
  return value
}

/** A value as it is shown: redacted, and cut to VALUE_CHARS characters of its JSON text. */
function shown(value: unknown, name: string): unknown {
  const v = redactValue(value, name)
  const text = typeof v === 'string' ? v : JSON.stringify(v)
  if (text === undefined || text.length <= VALUE_CHARS) return v
  return `${text.slice(0, VALUE_CHARS)}… (${text.length} characters)`
}

/**
 * Takes records round-robin over removed, modified, added, so every kind present is represented,
 * until `cap` records are taken or the next one would pass `budget` (by `cost`, e.g. its characters).
 */
export function pickRecords<T extends { change_kind: ChangeKind }>(
  records: readonly T[],
  cap: number,
  cost: (r: T) => number = () => 0,
  budget = Number.POSITIVE_INFINITY,
): T[] {
  const order: ChangeKind[] = ['removed', 'modified', 'added']
  const queues = order.map((k) => records.filter((r) => r.change_kind === k))
  const picked: T[][] = order.map(() => [])
  let left = cap
  let spent = 0
  let full = false
  while (left > 0 && !full && queues.some((q) => q.length > 0)) {
    for (const [i, q] of queues.entries()) {
      const next = q[0]
      if (!next || left === 0) continue
      const c = cost(next)
      if (spent + c > budget) {
        full = true
        break
      }
      q.shift()
      picked[i]!.push(next)
      spent += c
      left--
    }
  }
  return picked.flat()
}

/** One record as the assistant sees it: key, profile, and the changed columns or the capped row. */
export function compactRecord(r: WhatChangedRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: r.change_kind }
  if (r.row_key) out.key = redactValue(r.row_key)
  if (r.profile) out.profile = r.profile
  if (r.change_kind === 'modified') {
    const changes: Record<string, unknown> = {}
    for (const col of r.changed_columns ?? []) {
      changes[col] = { before: shown(r.before?.[col], col), after: shown(r.after?.[col], col) }
    }
    out.changed = changes
    return out
  }
  const row = (r.change_kind === 'removed' ? r.before : r.after) ?? {}
  const entries = Object.entries(row)
  out.row = Object.fromEntries(entries.slice(0, ROW_COLUMNS).map(([c, v]) => [c, shown(v, c)]))
  if (entries.length > ROW_COLUMNS) out.more_columns = entries.length - ROW_COLUMNS
  return out
}

function fence(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  return '`'.repeat(Math.max(3, longest + 1))
}

/** The prompt "What changed" sends: the run, its counts and the first 50 records as JSON lines. */
export function whatChangedPrompt(run: WhatChangedRun, records: readonly WhatChangedRecord[]): string {
  const added = run.added_count ?? 0
  const removed = run.removed_count ?? 0
  const modified = run.modified_count ?? 0
  const total = added + removed + modified
  const lineOf = new Map(records.map((r) => [r, JSON.stringify(compactRecord(r))]))
  const picked = pickRecords(
    records,
    WHAT_CHANGED_RECORDS,
    (r) => (lineOf.get(r)?.length ?? 0) + 1,
    RECORDS_CHARS,
  )
  const table = `${run.target_schema}.${run.target_table}`
  const keys = run.key_columns?.length
    ? `key columns ${run.key_columns.join(', ')}`
    : 'no key columns (a changed row shows as removed + added)'
  const lines = [
    `What changed in the inventory table \`${table}\` in run ${run.id}${run.query_name ? ` of the query "${run.query_name}"` : ''} (${run.started_at.toISOString()}, ${run.status})?`,
    '',
    `Counts: ${added} added, ${removed} removed, ${modified} modified (${keys}).`,
  ]
  if (total === 0) {
    lines.push('', 'Nothing changed: every row is as in the previous snapshot.')
    return lines.join('\n')
  }
  if (picked.length === 0) {
    lines.push(
      '',
      'The change records of this run are no longer kept (older than CHANGE_RETENTION_DAYS): only the counts are known.',
    )
    return lines.join('\n')
  }
  const body = picked.map((r) => lineOf.get(r)).join('\n')
  lines.push(
    picked.length < total
      ? `The first ${picked.length} of ${total} change records, one JSON object per line:`
      : `All ${total} change records, one JSON object per line:`,
    'modified rows list only their changed columns (before -> after); added and removed rows are shown in full (values cut to 300 characters, at most 40 columns); [redacted] marks a value hidden because it looks like a secret.',
    '',
  )
  const f = fence(body)
  lines.push(`${f}json`, body, f)
  return lines.join('\n')
}
