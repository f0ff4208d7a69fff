// Turns what `stackql exec --output json` printed into columns and rows, and decides from the
// stderr text (not the exit code, which does not reflect query errors) whether the run failed.
import type { Row } from '../models.js'
import { JsonRowsError, JsonRowsParser } from './json-rows.js'

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
 * null for them). Values stay as printed (numbers-as-strings stay strings) except NULL wrappers;
 * a JSON number a JS number cannot hold exactly (beyond 2^53, more digits than a double) is kept
 * as its token text, a string, so no digit is lost (json-rows.ts).
 */
export function parseRows(stdout: string): { columns: string[]; rows: Row[] } {
  const rows = new RowCollector()
  const parser = new JsonRowsParser()
  try {
    rows.add(parser.push(stdout))
    rows.add(parser.end())
  } catch (e) {
    if (!(e instanceof JsonRowsError)) throw e
    throw new OutputFormatError(formatErrorMessage(e, stdout))
  }
  return rows.result()
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** A parsed element as a row: it must be an object (StackQL prints one per row). */
export function asRowObject(item: unknown): Row {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new OutputFormatError(
      `StackQL printed a row that is not an object: ${preview(JSON.stringify(item) ?? String(item))}`,
    )
  }
  return item as Row
}

/** Unwraps Go's NULL wrappers in a row's values, in place. */
export function unwrapRow(row: Row): Row {
  for (const key in row) {
    const v = row[key]
    if (v !== null && typeof v === 'object') row[key] = unwrapNull(v)
  }
  return row
}

/** The message for output the JSON rows parser refused (`text`: the output, or its beginning). */
export function formatErrorMessage(e: JsonRowsError, text: string): string {
  const t = text.trim()
  return e.message === 'several result sets'
    ? 'StackQL printed several result sets; run one statement at a time.'
    : isJson(t)
      ? `StackQL printed JSON that is not an array: ${preview(t)}`
      : `StackQL printed output that is not JSON: ${preview(t)}`
}

/**
 * Collects parsed rows (in pieces, as a stream parser hands them over): checks each is an object,
 * unwraps NULL wrappers, and keeps the column list.
 */
export class RowCollector {
  private readonly columns: string[] = []
  private readonly seen = new Set<string>()
  private readonly rows: Row[] = []
  // Set when a row lacks a column, orders keys differently, or brings a new key: rows get rebuilt.
  private irregular = false

  add(items: unknown[]): void {
    const { columns, seen } = this
    for (const item of items) {
      const row = asRowObject(item)
      const first = this.rows.length === 0
      let j = 0
      for (const key in row) {
        const v = row[key]
        if (v !== null && typeof v === 'object') row[key] = unwrapNull(v)
        if (columns[j] !== key) {
          if (!first) this.irregular = true
          if (!seen.has(key)) {
            seen.add(key)
            columns.push(key)
          }
        }
        j++
      }
      if (j !== columns.length) this.irregular = true
      this.rows.push(row)
    }
  }

  result(): { columns: string[]; rows: Row[] } {
    return { columns: this.columns, rows: this.irregular ? normalise(this.rows, this.columns) : this.rows }
  }
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
