// How result values look: table cells (JSON compact and readable), CSV (RFC 4180, with spreadsheet
// formula injection neutralised) and JSON downloads, produced in chunks so a large result streams.
import type { Row } from '../../src/models.js'
import { jsonText } from '../../src/render/format.js'

export const PAGE_SIZE = 1000
const ROWS_PER_CHUNK = 500

export interface DisplayCell {
  kind: 'null' | 'json' | 'bool' | 'num' | 'text'
  text: string
}

/** A value as the results table shows it; the template escapes `text`. */
export function displayCell(value: unknown): DisplayCell {
  if (value === null || value === undefined) return { kind: 'null', text: 'NULL' }
  if (typeof value === 'string') return { kind: 'text', text: value }
  if (typeof value === 'number' || typeof value === 'bigint') return { kind: 'num', text: String(value) }
  if (typeof value === 'boolean') return { kind: 'bool', text: String(value) }
  if (value instanceof Date) return { kind: 'text', text: value.toISOString() }
  return { kind: 'json', text: readableJson(JSON.parse(jsonText(value))) }
}

/** One-line JSON with a space after `:` and `,` (outside strings): compact but readable. */
function readableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(readableJson).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${readableJson(v)}`)
    return `{${entries.join(', ')}}`
  }
  return JSON.stringify(value)
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const FORMULA_START = /^[=+\-@\t\r]/

/** Text of one CSV field: RFC 4180 quoting; a leading = + - @ (a spreadsheet formula) gets a ' prefix. */
export function csvField(value: unknown): string {
  let s: string
  if (value === null || value === undefined) s = ''
  else if (typeof value === 'string') s = value
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    s = String(value)
  else if (value instanceof Date) s = value.toISOString()
  else s = jsonText(value)
  // Plain numbers such as "-5" stay numbers; anything else that a spreadsheet would evaluate is defused.
  if (FORMULA_START.test(s) && !NUMERIC.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The whole result as CSV (header line first, CRLF line ends), in chunks of a few hundred rows. */
export function* csvChunks(columns: string[], rows: Row[]): Generator<string> {
  yield `${columns.map(csvField).join(',')}\r\n`
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    let chunk = ''
    const end = Math.min(rows.length, start + ROWS_PER_CHUNK)
    for (let i = start; i < end; i++) {
      const row = rows[i]!
      chunk += `${columns.map((c) => csvField(row[c])).join(',')}\r\n`
    }
    yield chunk
  }
}

/** The whole result as a JSON array of row objects (keys in column order), in chunks. */
export function* jsonChunks(columns: string[], rows: Row[]): Generator<string> {
  yield '['
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    const end = Math.min(rows.length, start + ROWS_PER_CHUNK)
    const parts: string[] = []
    for (let i = start; i < end; i++) {
      const row = rows[i]!
      const ordered: Row = {}
      for (const c of columns) ordered[c] = row[c] ?? null
      parts.push(jsonText(ordered))
    }
    yield `${start === 0 ? '\n' : ',\n'}${parts.join(',\n')}`
  }
  yield '\n]\n'
}

export interface ResultPage {
  page: number
  pages: number
  first: number
  last: number
  rows: DisplayCell[][]
}

/** One page of the table (1-based page numbers, clamped to the result). */
export function resultPage(columns: string[], rows: Row[], page: number, pageSize = PAGE_SIZE): ResultPage {
  const pages = Math.max(1, Math.ceil(rows.length / pageSize))
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages)
  const start = (current - 1) * pageSize
  const slice = rows.slice(start, start + pageSize)
  return {
    page: current,
    pages,
    first: slice.length ? start + 1 : 0,
    last: start + slice.length,
    rows: slice.map((row) => columns.map((c) => displayCell(row[c]))),
  }
}

export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}
