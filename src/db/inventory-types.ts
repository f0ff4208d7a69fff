// How StackQL values become inventory-table column types: inferred from the values, LOSSLESS, and
// stable across runs (widen, never narrow). Column names: column-names.ts.
//
// The round-trip rule: a value gets a number, boolean or timestamp type only if what PostgreSQL
// stores reproduces it exactly; anything that would lose a digit, a sign, an offset or a
// sub-microsecond digit stays text.
//
// Value kinds (per value; NULL and '' carry no evidence):
//   an integer string without leading zeros (and not "-0"), or a JS integer / BigInt:
//     within ±2^53 -> bigint (internally "int": it also fits a double exactly),
//     within int64 -> bigint, beyond int64 -> numeric (never double)
//   a decimal string whose shortest double printing is the same text ("1.5", "0.25") -> double;
//     "1.10", "8.0", "0.10" (version strings), "1234e56", "1e3" do not survive and stay text
//   a finite non-integer JS number, or -0                                    -> double
//   JS boolean, or exactly "true" / "false"                                  -> boolean
//   ISO-8601 date-time (date, 'T' or space, hh:mm[:ss[.f{1,6}]], Z / +00:00 / no zone = UTC) that is a
//     real calendar date -> timestamptz; another offset or more than 6 fraction digits -> text
//   object or array                                                          -> jsonb
//   anything else                                                            -> text
// A column's type is the join of its values' kinds and of the existing column's type:
//   int + bigint = bigint; int + double = double; bigint + double = numeric; any number + numeric =
//   numeric (integers never pass through double); equal kinds stay; any other mix = text. An existing
//   column keeps its type when the new values fit it without loss; otherwise it is widened to the join
//   (double -> numeric goes through the shortest text, so no stored digit changes).

export type ColumnKind = 'bigint' | 'numeric' | 'double' | 'boolean' | 'timestamptz' | 'jsonb' | 'text'

/** A value's kind during inference: `int` is an integer within ±2^53 (exact in a double too). */
export type ValueKind = ColumnKind | 'int'

/** The SQL type each kind is created with (a fixed whitelist: these are the only type names we emit). */
export const SQL_TYPE: Record<ColumnKind, string> = {
  bigint: 'bigint',
  numeric: 'numeric',
  double: 'double precision',
  boolean: 'boolean',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
  text: 'text',
}

const INT_STRING = /^-?(0|[1-9][0-9]*)$/
const DECIMAL_STRING = /^-?(0|[1-9][0-9]*)\.[0-9]+$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const SAFE = 2 ** 53
/** numeric holds 131072 digits before the point; longer digit strings stay text. */
const MAX_NUMERIC_DIGITS = 1000

/** The kind of an integer string, or null when it is not one that survives (leading zeros, -0). */
function intStringKind(s: string): ValueKind | null {
  if (!INT_STRING.test(s) || s === '-0') return null
  const digits = s.length - (s[0] === '-' ? 1 : 0)
  if (digits < 16) return 'int'
  if (digits > MAX_NUMERIC_DIGITS) return null
  const n = BigInt(s)
  if (n >= -BigInt(SAFE) && n <= BigInt(SAFE)) return 'int'
  return n >= INT64_MIN && n <= INT64_MAX ? 'bigint' : 'numeric'
}

function numberKind(v: number): ValueKind {
  if (!Number.isFinite(v)) return 'text'
  if (Object.is(v, -0) || !Number.isInteger(v)) return 'double'
  if (Math.abs(v) <= SAFE) return 'int'
  // An integer-valued double beyond 2^53 is an exact integer: bigint/numeric hold it, its text is BigInt(v).
  return Math.abs(v) < 2 ** 63 ? 'bigint' : 'numeric'
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

/**
 * YYYY-MM-DD(T| )hh:mm[:ss[.f{1,6}]][Z|+00:00|+0000|+00], hand-parsed (this runs for every value of a
 * timestamp column), plus a calendar check. Other offsets and finer fractions would not survive
 * timestamptz (it keeps the instant in microseconds, not the offset), so they are not date-times here.
 */
function isIsoDateTime(s: string): boolean {
  const len = s.length
  if (len < 16 || len > 32) return false
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
      while (i < len && digits(s, i, 1) >= 0) i++
      if (i === start || i - start > 6) return false
    }
  }
  if (i < len) {
    const zone = s.slice(i)
    if (zone !== 'Z' && zone !== '+00:00' && zone !== '+0000' && zone !== '+00') return false
  }
  return day <= 28 || day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** A value's inference kind; null when the value carries no evidence (NULL, undefined, ''). */
export function valueKindOf(value: unknown): ValueKind | null {
  switch (typeof value) {
    case 'string': {
      if (value === '') return null
      const c = value.charCodeAt(0)
      if ((c >= 48 && c <= 57) || c === 45) {
        const k = intStringKind(value)
        if (k) return k
        if (DECIMAL_STRING.test(value) && String(Number(value)) === value) return 'double'
      }
      if (value === 'true' || value === 'false') return 'boolean'
      if (isIsoDateTime(value)) return 'timestamptz'
      return 'text'
    }
    case 'number':
      return numberKind(value)
    case 'bigint':
      if (value >= -BigInt(SAFE) && value <= BigInt(SAFE)) return 'int'
      return value >= INT64_MIN && value <= INT64_MAX ? 'bigint' : 'numeric'
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

/** The column kind of one value; null when the value carries no evidence (NULL, undefined, ''). */
export function kindOf(value: unknown): ColumnKind | null {
  const k = valueKindOf(value)
  return k === 'int' ? 'bigint' : k
}

/** The column kind an inference kind is created as. */
export function columnKind(k: ValueKind | null): ColumnKind | null {
  return k === 'int' ? 'bigint' : k
}

const NUMERIC_RANK: Partial<Record<ValueKind, true>> = {
  int: true,
  bigint: true,
  double: true,
  numeric: true,
}

/** The narrowest kind holding values of both kinds without loss. */
export function joinKinds(a: ValueKind | null, b: ValueKind | null): ValueKind | null {
  if (a === null) return b
  if (b === null || a === b) return a
  if (NUMERIC_RANK[a] && NUMERIC_RANK[b]) {
    if (a === 'numeric' || b === 'numeric') return 'numeric'
    if (a === 'int') return b
    if (b === 'int') return a
    return 'numeric' // bigint + double: a double would round the big integers
  }
  return 'text'
}

/**
 * Fast path of the inference loop: true when `value` leaves a column of kind `kind` unchanged
 * (equivalent to joinKinds(kind, valueKindOf(value)) === kind).
 */
export function keepsKind(value: unknown, kind: ValueKind): boolean {
  if (value === null || value === undefined || value === '' || kind === 'text') return true
  if (kind === 'jsonb') return typeof value === 'object'
  if (kind === 'boolean') return typeof value === 'boolean' || value === 'true' || value === 'false'
  if (kind === 'int' && typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) <= SAFE && !Object.is(value, -0)
  return joinKinds(kind, valueKindOf(value)) === kind
}

/** Our kind for an existing column's type (format_type output); unknown types count as text. */
export function kindOfSqlType(sqlType: string): ColumnKind {
  if (/^(bigint|integer|smallint)$/.test(sqlType)) return 'bigint'
  if (/^numeric(\(.*\))?$/.test(sqlType)) return 'numeric'
  if (/^(double precision|real)$/.test(sqlType)) return 'double'
  if (sqlType === 'boolean') return 'boolean'
  if (sqlType === 'timestamp with time zone') return 'timestamptz'
  if (sqlType === 'jsonb' || sqlType === 'json') return 'jsonb'
  return 'text'
}

/**
 * Whether values of `kind` can be written into an existing column of `sqlType` without loss.
 * Only types we know how to feed count; everything fits text. A double column takes integers only
 * within ±2^53; a numeric(p,s) column (it would round) takes nothing numeric.
 */
export function fitsExisting(sqlType: string, kind: ValueKind | null): boolean {
  if (kind === null || sqlType === 'text') return true
  switch (sqlType) {
    case 'bigint':
      return kind === 'int' || kind === 'bigint'
    case 'numeric':
      return kind === 'int' || kind === 'bigint' || kind === 'double' || kind === 'numeric'
    case 'double precision':
      return kind === 'int' || kind === 'double'
    case 'boolean':
      return kind === 'boolean'
    case 'timestamp with time zone':
      return kind === 'timestamptz'
    case 'jsonb':
      return kind === 'jsonb'
    default:
      return false
  }
}

/** The type an existing column of `sqlType` is widened to so it holds values of `kind` too. */
export function widenedType(sqlType: string, kind: ValueKind | null): ColumnKind {
  return columnKind(joinKinds(kindOfSqlType(sqlType), kind)) ?? 'text'
}
