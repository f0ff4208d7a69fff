// The character classes and operators of StackQL's tokenizer (stackql/stackql-parser,
// go/vt/sqlparser/token.go), and how tokenizer.ts words a refusal: the position (line, column)
// and the text near it.
import { AppError } from '../errors.js'

// token.go isLetter: ASCII letters, '_' and '$'; identifiers continue with digits and '@'.
export const isLetter = (c: string | undefined) => c !== undefined && /^[A-Za-z_$]$/.test(c)
export const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'
export const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c)
// token.go skipBlank: exactly these four are whitespace.
export const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r'
// Operators token.go returns as one token (longest first); single characters of its switch after.
export const OPERATORS = ['<=>', '->>', '&&', '||', '->', '<>', '<<', '<=', '>>', '>=', '!=']
export const SINGLE = new Set([
  '=',
  ',',
  '(',
  ')',
  '+',
  '*',
  '%',
  '^',
  '~',
  '&',
  '|',
  '?',
  '.',
  '<',
  '>',
  '!',
  '-',
  '/',
  ';',
])

/** "line 2, column 5" for an offset (1-based, counting JavaScript characters). */
export function describePosition(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return `line ${line}, column ${column}`
}

export function refuse(text: string, offset: number, what: string, advice: string): never {
  const near = text.slice(offset, offset + 40).replace(/\s+/g, ' ')
  throw new AppError(
    'VALIDATION',
    `The query was refused: ${what} at ${describePosition(text, offset)} (near "${near}"). ${advice}`,
    { details: { offset } },
  )
}

export function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  return code < 0x20 || code === 0x7f ? `the control character ${hex}` : `the character "${c}" (${hex})`
}

/** Scans to the end of a line comment (the newline is not part of it, as a 'space' token follows). */
export function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from)
  return nl === -1 ? text.length : nl
}
