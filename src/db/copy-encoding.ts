// COPY text-format encoding of result rows for the inventory writer: escaping, JSON documents jsonb
// accepts (NULs dropped, lone surrogates replaced, BigInts as strings), numbers written exactly.
import type { Row } from '../models.js'

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '' }
const NEEDS_ESCAPE = /[\\\n\r\t\0]/
const ESCAPE_ALL = /[\\\n\r\t\0]/g

/** COPY text-format escaping; NUL characters are dropped (PostgreSQL text cannot hold them). */
function escapeCopy(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE_ALL, (c) => ESCAPES[c]!) : s
}

const SURROGATE = /[\uD800-\uDFFF]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Replaces unpaired UTF-16 surrogates (which jsonb rejects as escapes) with U+FFFD. */
function wellFormed(s: string): string {
  return SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s
}

/** What JSON.stringify leaves that jsonb refuses: a NUL escape, or an escaped lone surrogate (false positives are fine). */
const JSONB_REFUSES = /\\u(0000|d[89a-f])/

/** JSON for a jsonb column: NULs dropped, lone surrogates replaced, bigints as strings — jsonb accepts all of it. */
function toJson(value: unknown): string {
  // The common case — plain JSON that jsonb takes as is — without a replacer call per value.
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    // a BigInt inside: the replacer below turns it into a string
  }
  if (text !== undefined && !JSONB_REFUSES.test(text)) return text
  text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'string') return wellFormed(v.replaceAll('\0', ''))
    if (typeof v === 'bigint') return v.toString()
    return v
  })
  // NULs can still hide in object keys (escaped as \u0000, which jsonb rejects).
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : text
}

export function encodeValue(v: unknown, isText: boolean): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'string') return v === '' && !isText ? '\\N' : escapeCopy(v)
  if (typeof v === 'object') return escapeCopy(toJson(v))
  // String(-0) is "0": keep the sign a double column can hold.
  if (typeof v === 'number' && v === 0 && Object.is(v, -0)) return '-0'
  return escapeCopy(String(v))
}

/** One row as a COPY text-format line (no newline): the values of `keys` in order, tab-separated. */
export function encodeRow(row: Row, keys: readonly string[], isText: readonly boolean[]): string {
  let line = encodeValue(row[keys[0]!], isText[0]!)
  for (let i = 1; i < keys.length; i++) line += `\t${encodeValue(row[keys[i]!], isText[i]!)}`
  return line
}

/** COPY text-format escaping of one field (also for fields the writer builds itself). */
export { escapeCopy }
