// The exact half of the lossless rows parser (json-rows.ts): the JSON grammar of JSON.parse, except
// that a number becomes a JS number only when that double has exactly the token's value; otherwise
// the token text is kept (a string).

export class JsonRowsError extends Error {}

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** The exact parser: the same grammar as JSON.parse, numbers kept as text when a double would change them. */
export function parseExact(text: string): unknown {
  const p = { s: text, i: 0 }
  const v = value(p)
  skip(p)
  if (p.i !== text.length) fail(p, 'unexpected text after a value')
  return v
}

interface Cursor {
  s: string
  i: number
}

function fail(p: Cursor, what: string): never {
  throw new JsonRowsError(`${what} at position ${p.i}`)
}

function skip(p: Cursor): void {
  const s = p.s
  while (p.i < s.length && WS(s.charCodeAt(p.i))) p.i++
}

function value(p: Cursor): unknown {
  skip(p)
  const s = p.s
  const c = s.charCodeAt(p.i)
  if (c === 0x22) return string(p)
  if (c === 0x7b) {
    p.i++
    const o: Record<string, unknown> = {}
    skip(p)
    if (s.charCodeAt(p.i) === 0x7d) {
      p.i++
      return o
    }
    for (;;) {
      skip(p)
      if (s.charCodeAt(p.i) !== 0x22) fail(p, 'expected a property name')
      const k = string(p)
      skip(p)
      if (s.charCodeAt(p.i) !== 0x3a) fail(p, 'expected a colon')
      p.i++
      const v = value(p)
      // JSON.parse semantics: a later duplicate key wins; __proto__ is an ordinary key.
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
      skip(p)
      const d = s.charCodeAt(p.i++)
      if (d === 0x7d) return o
      if (d !== 0x2c) fail(p, 'expected , or }')
    }
  }
  if (c === 0x5b) {
    p.i++
    const a: unknown[] = []
    skip(p)
    if (s.charCodeAt(p.i) === 0x5d) {
      p.i++
      return a
    }
    for (;;) {
      a.push(value(p))
      skip(p)
      const d = s.charCodeAt(p.i++)
      if (d === 0x5d) return a
      if (d !== 0x2c) fail(p, 'expected , or ]')
    }
  }
  if (s.startsWith('true', p.i)) {
    p.i += 4
    return true
  }
  if (s.startsWith('false', p.i)) {
    p.i += 5
    return false
  }
  if (s.startsWith('null', p.i)) {
    p.i += 4
    return null
  }
  return number(p)
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

function number(p: Cursor): number | string {
  NUMBER.lastIndex = p.i
  const m = NUMBER.exec(p.s)
  if (!m || m[0] === '' || m[0] === '-') fail(p, 'unexpected character')
  const token = m[0]
  p.i += token.length
  const n = Number(token)
  return Number.isFinite(n) && sameValue(token, n) ? n : token
}

/** Whether the double `n` has exactly the decimal value written as `token`. */
function sameValue(token: string, n: number): boolean {
  if (n === 0) return /^-?0(\.0+)?([eE][+-]?[0-9]+)?$/.test(token)
  return decimalOf(token) === decimalOf(exactText(n))
}

/** The exact decimal expansion of a double (its shortest text is not its exact value beyond 2^53). */
function exactText(n: number): string {
  if (Number.isInteger(n)) return BigInt(n).toString()
  return String(n) // a non-integer's shortest text identifies it; compared against the token as decimals
}

/** Canonical decimal form: sign, digits without leading/trailing zeros, exponent of the first digit. */
function decimalOf(t: string): string {
  let s = t
  let sign = ''
  if (s[0] === '-') {
    sign = '-'
    s = s.slice(1)
  }
  let exp = 0
  const e = s.search(/[eE]/)
  if (e >= 0) {
    exp = Number(s.slice(e + 1))
    s = s.slice(0, e)
  }
  const dot = s.indexOf('.')
  let digits = s
  if (dot >= 0) {
    digits = s.slice(0, dot) + s.slice(dot + 1)
    exp += dot
  } else exp += s.length
  const lead = digits.match(/^0*/)![0].length
  digits = digits.slice(lead).replace(/0+$/, '')
  return `${sign}${digits}e${exp - lead}`
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true
  return false
}

function string(p: Cursor): string {
  const s = p.s
  const start = ++p.i
  const q = s.indexOf('"', start)
  if (q < 0) fail(p, 'unterminated string')
  const plain = s.slice(start, q)
  // The common case: no escapes, no control characters.
  if (plain.indexOf('\\') < 0 && !hasControl(plain)) {
    p.i = q + 1
    return plain
  }
  let out = ''
  let i = start
  for (;;) {
    const c = s.charCodeAt(i)
    if (Number.isNaN(c)) fail(p, 'unterminated string')
    if (c === 0x22) break
    if (c < 0x20) {
      p.i = i
      fail(p, 'control character in a string')
    }
    if (c !== 0x5c) {
      out += s[i]
      i++
      continue
    }
    const e = s[i + 1]
    i += 2
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e
        break
      case 'b':
        out += '\b'
        break
      case 'f':
        out += '\f'
        break
      case 'n':
        out += '\n'
        break
      case 'r':
        out += '\r'
        break
      case 't':
        out += '\t'
        break
      case 'u': {
        const hex = s.slice(i, i + 4)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          p.i = i
          fail(p, 'bad \\u escape')
        }
        // Code units one by one: a surrogate pair written as two escapes becomes one character.
        out += String.fromCharCode(Number.parseInt(hex, 16))
        i += 4
        break
      }
      default:
        p.i = i - 1
        fail(p, 'bad escape')
    }
  }
  p.i = i + 1
  return out
}
