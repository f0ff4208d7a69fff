// How StackQL result columns become inventory-table columns: names made into safe lower-case
// identifiers, and PostgreSQL types inferred from the values — stable across runs (widen, never narrow).
//
// Column names: a name already matching ^[a-z_][a-z0-9_]{0,59}$ is kept; otherwise camelCase is
// split (machineType -> machine_type), everything is lower-cased, each run of characters outside
// [a-z0-9_] becomes one `_`, leading/trailing `_` are trimmed, a leading digit gets a `_` prefix,
// an empty result becomes `column_<n>`, PostgreSQL system-column names (xmin, ctid, ...) get a `_`
// suffix, and the result is cut to 60 characters. Duplicates (after sanitising) get `_2`, `_3`, ...
// in column order.
//
// Value kinds (per value; NULL and '' carry no evidence):
//   JS integer within int64, or a string of an integer within int64 without leading zeros -> bigint
//     (leading zeros, e.g. AWS account ids "012345678901", stay text so no digit is lost)
//   other finite JS number, or a decimal/exponent number string          -> double precision
//   JS boolean, or exactly "true" / "false"                               -> boolean
//   ISO-8601 date-time string (date, 'T' or space, hh:mm[:ss[.frac]], optional Z/±hh[:mm];
//     no zone = UTC) that is a real calendar date                         -> timestamptz
//   object or array                                                        -> jsonb
//   anything else                                                          -> text
// A column's type is the join of its values' kinds and of the existing column's type:
//   bigint + double = double; equal kinds stay; any other mix = text. An existing column keeps its
//   type when the new values fit it (integer/numeric fit a double or numeric column; everything fits
//   text); otherwise it is widened to the join. A column whose values are all NULL is created as text.

export type ColumnKind = 'bigint' | 'double' | 'boolean' | 'timestamptz' | 'jsonb' | 'text'

/** The SQL type each kind is created with (a fixed whitelist: these are the only type names we emit). */
export const SQL_TYPE: Record<ColumnKind, string> = {
  bigint: 'bigint',
  double: 'double precision',
  boolean: 'boolean',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
  text: 'text',
}

const VALID_NAME = /^[a-z_][a-z0-9_]{0,59}$/
const SYSTEM_COLUMNS = new Set(['tableoid', 'xmin', 'xmax', 'cmin', 'cmax', 'ctid', 'oid'])
const MAX_NAME = 60

function sanitiseOne(raw: string, position: number): string {
  if (VALID_NAME.test(raw) && !SYSTEM_COLUMNS.has(raw)) return raw
  let name = raw
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (name === '') name = `column_${position + 1}`
  if (/^[0-9]/.test(name)) name = `_${name}`
  if (SYSTEM_COLUMNS.has(name)) name = `${name}_`
  return name.slice(0, MAX_NAME)
}

/** Maps each result column name to a unique, valid column identifier (order preserved). */
export function sanitiseColumnNames(columns: readonly string[]): string[] {
  const used = new Set<string>()
  return columns.map((raw, i) => {
    const base = sanitiseOne(raw, i)
    let name = base
    for (let n = 2; used.has(name); n++) {
      const suffix = `_${n}`
      name = base.slice(0, MAX_NAME - suffix.length) + suffix
    }
    used.add(name)
    return name
  })
}

const INT_STRING = /^-?(0|[1-9][0-9]{0,18})$/
const NUMBER_STRING = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function isInt64String(s: string): boolean {
  if (!INT_STRING.test(s)) return false
  if (s.length < 16) return true
  const n = BigInt(s)
  return n >= INT64_MIN && n <= INT64_MAX
}

function digits(s: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/** YYYY-MM-DD(T| )hh:mm[:ss[.f{1,9}]][Z|±hh[:]mm|±hh], hand-parsed (this runs for every value of a timestamp column), plus a calendar check. */
function isIsoDateTime(s: string): boolean {
  const len = s.length
  if (len < 16 || len > 35) return false
  if (s[4] !== '-' || s[7] !== '-' || (s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':') return false
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return false
  let i = 16
  if (s[i] === ':') {
    const second = digits(s, i + 1, 2)
    if (second < 0 || second > 59) return false
    i += 3
    if (s[i] === '.') {
      const start = ++i
      while (i < len && i - start < 9 && digits(s, i, 1) >= 0) i++
      if (i === start) return false
    }
  }
  if (i < len) {
    const zone = s.slice(i)
    if (zone !== 'Z' && !/^[+-]\d{2}(:?\d{2})?$/.test(zone)) return false
  }
  return day <= 28 || day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** The kind of one value; null when the value carries no evidence (NULL, undefined, ''). */
export function kindOf(value: unknown): ColumnKind | null {
  switch (typeof value) {
    case 'string':
      if (value === '') return null
      if (isInt64String(value)) return 'bigint'
      if (NUMBER_STRING.test(value)) return Number.isFinite(Number(value)) ? 'double' : 'text'
      if (value === 'true' || value === 'false') return 'boolean'
      if (isIsoDateTime(value)) return 'timestamptz'
      return 'text'
    case 'number':
      if (!Number.isFinite(value)) return 'text'
      return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? 'bigint' : 'double'
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'bigint' : 'text'
    case 'boolean':
      return 'boolean'
    case 'object':
      return value === null ? null : 'jsonb'
    case 'undefined':
      return null
    default:
      return 'text'
  }
}

/**
 * Fast path of the inference loop: true when `value` leaves a column of kind `kind` unchanged
 * (it has that kind, or carries no evidence). Equivalent to joinKinds(kind, kindOf(value)) === kind.
 */
export function keepsKind(value: unknown, kind: ColumnKind): boolean {
  if (value === null || value === undefined || value === '' || kind === 'text') return true
  switch (kind) {
    case 'bigint':
      return typeof value === 'string'
        ? isInt64String(value)
        : typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 63
    case 'double':
      return typeof value === 'string'
        ? NUMBER_STRING.test(value) && Number.isFinite(Number(value))
        : typeof value === 'number' && Number.isFinite(value)
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
    case 'timestamptz':
      return typeof value === 'string' && isIsoDateTime(value)
    case 'jsonb':
      return typeof value === 'object'
  }
}

/** The narrowest kind holding values of both kinds. */
export function joinKinds(a: ColumnKind | null, b: ColumnKind | null): ColumnKind | null {
  if (a === null) return b
  if (b === null || a === b) return a
  if ((a === 'bigint' && b === 'double') || (a === 'double' && b === 'bigint')) return 'double'
  return 'text'
}

/** Our kind for an existing column's type (format_type output); unknown types count as text. */
export function kindOfSqlType(sqlType: string): ColumnKind {
  if (/^(bigint|integer|smallint)$/.test(sqlType)) return 'bigint'
  if (/^(double precision|real|numeric(\(.*\))?)$/.test(sqlType)) return 'double'
  if (sqlType === 'boolean') return 'boolean'
  if (sqlType === 'timestamp with time zone') return 'timestamptz'
  if (sqlType === 'jsonb' || sqlType === 'json') return 'jsonb'
  return 'text'
}

/**
 * Whether values of `kind` can be written into an existing column of `sqlType` unchanged.
 * Only types we know how to feed count; everything fits text.
 */
export function fitsExisting(sqlType: string, kind: ColumnKind | null): boolean {
  if (kind === null || sqlType === 'text') return true
  switch (sqlType) {
    case 'bigint':
      return kind === 'bigint'
    case 'double precision':
      return kind === 'bigint' || kind === 'double'
    case 'boolean':
      return kind === 'boolean'
    case 'timestamp with time zone':
      return kind === 'timestamptz'
    case 'jsonb':
      return kind === 'jsonb'
    default:
      return /^numeric(\(.*\))?$/.test(sqlType) && (kind === 'bigint' || kind === 'double')
  }
}
