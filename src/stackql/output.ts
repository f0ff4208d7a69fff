// Turns what `stackql exec --output json` printed into columns and rows, and decides from the
// stderr text (not the exit code, which does not reflect query errors) whether the run failed.
import type { Row } from '../models.js'

/** Substrings (case-insensitive) pystackql treats as errors (reference/stackql.md, errors.yaml). */
const ERROR_SUBSTRINGS = [
  'http response status code: 4',
  'http response status code: 5',
  'disparity in fields',
  'cannot find matching operation',
  'invalid query',
  'syntax error',
]
const ERROR_PREFIXES = ['error:', 'ERROR:', 'Error:', 'FAILED', 'FAILURE']
const ERROR_REGEXES = [
  /dial tcp:.*no such host/,
  /dial tcp.*connection refused/,
  /context deadline exceeded/,
  /dial tcp.*i\/o timeout/,
  /net\/http.*timeout/,
]

/** True when StackQL's stderr text reports an error (as opposed to an informational message). */
export function isErrorMessage(text: string): boolean {
  const lower = text.toLowerCase()
  if (ERROR_SUBSTRINGS.some((s) => lower.includes(s))) return true
  const lines = text.split('\n').map((l) => l.trimStart())
  if (lines.some((l) => ERROR_PREFIXES.some((p) => l.startsWith(p)))) return true
  return ERROR_REGEXES.some((r) => r.test(text))
}

export class OutputFormatError extends Error {}

const WRAPPER_VALUE_KEYS = new Set(['String', 'Int64', 'Int32', 'Int16', 'Float64', 'Bool', 'Time', 'Byte'])

/** Go's sql.NullX wrappers: {"String":"x","Valid":true} -> "x", {"Valid":false} -> null. Anything else unchanged. */
export function unwrapNull(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const o = value as Record<string, unknown>
  if (typeof o.Valid !== 'boolean') return value
  const keys = Object.keys(o)
  if (keys.length > 2) return value
  let inner: string | undefined
  for (const k of keys) {
    if (k === 'Valid') continue
    if (!WRAPPER_VALUE_KEYS.has(k)) return value
    inner = k
  }
  if (!o.Valid) return null
  return inner === undefined ? null : o[inner]
}

/**
 * Parses stdout: ONE JSON array of objects; '', 'null' and '[]' are zero rows. Column order is
 * the key order of the first row, plus keys first seen in later rows appended (earlier rows get
 * null for them). Values stay as printed (numbers-as-strings stay strings) except NULL wrappers.
 */
export function parseRows(stdout: string): { columns: string[]; rows: Row[] } {
  const text = stdout.trim()
  if (text === '' || text === 'null') return { columns: [], rows: [] }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new OutputFormatError(
      /^\[.*\]\s*\[/s.test(text)
        ? 'StackQL printed several result sets; run one statement at a time.'
        : `StackQL printed output that is not JSON: ${preview(text)}`,
    )
  }
  if (parsed === null) return { columns: [], rows: [] }
  if (!Array.isArray(parsed))
    throw new OutputFormatError(`StackQL printed JSON that is not an array: ${preview(text)}`)
  const columns: string[] = []
  const seen = new Set<string>()
  // Set when a row lacks a column, orders keys differently, or brings a new key: rows get rebuilt.
  let irregular = false
  const rows: Row[] = new Array(parsed.length)
  for (let i = 0; i < parsed.length; i++) {
    const item = parsed[i]
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new OutputFormatError(
        `StackQL printed a row that is not an object: ${preview(JSON.stringify(item))}`,
      )
    }
    const row = item as Row
    let j = 0
    for (const key in row) {
      const v = row[key]
      if (v !== null && typeof v === 'object') row[key] = unwrapNull(v)
      if (columns[j] !== key) {
        irregular ||= i > 0
        if (!seen.has(key)) {
          seen.add(key)
          columns.push(key)
        }
      }
      j++
    }
    if (j !== columns.length) irregular = true
    rows[i] = row
  }
  return { columns, rows: irregular ? normalise(rows, columns) : rows }
}

/** Rebuilds rows with every column, in column order (missing -> null). */
function normalise(rows: Row[], columns: string[]): Row[] {
  return rows.map((row) => {
    const out: Row = {}
    for (const c of columns) out[c] = row[c] === undefined ? null : row[c]
    return out
  })
}

function preview(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
