// The statement tokenizer: the lexical rules of StackQL's own parser (stackql/stackql-parser,
// go/vt/sqlparser/token.go, a vitess-derived tokenizer), so that what we call one SELECT is what
// StackQL runs. Whatever StackQL would read differently, or that we cannot be sure of, is
// refused with VALIDATION instead of guessed. The rules are listed in ARCHITECTURE.md,
// "The statement tokenizer".
import {
  describeChar,
  isBlank,
  isDigit,
  isHex,
  isLetter,
  lineEnd,
  OPERATORS,
  refuse,
  SINGLE,
} from './token-chars.js'

export { describePosition } from './token-chars.js'

export type TokenKind = 'word' | 'quoted_ident' | 'string' | 'number' | 'punct' | 'comment' | 'space'

/** One token; `start`/`end` are offsets (JavaScript string indices) into the original text. */
export interface Token {
  kind: TokenKind
  text: string
  start: number
  end: number
}

/**
 * Splits `text` into tokens following StackQL's tokenizer. Throws AppError VALIDATION for a NUL,
 * an unterminated string, quoted identifier or comment, a `/*!` comment (StackQL runs its inside
 * as SQL), a backtick, a number glued to a letter, a malformed x'..'/b'..'
 * literal, an @ variable whose name would swallow a quote, and any character StackQL's tokenizer does not accept outside quotes (non-ASCII,
 * control characters, other whitespace, `[ ] { } \\`).
 */
export function tokenize(text: string): Token[] {
  const nul = text.indexOf('\u0000')
  if (nul !== -1) {
    refuse(text, nul, 'a NUL character (\\0)', 'A NUL cannot be passed to StackQL: remove it.')
  }
  const out: Token[] = []
  const n = text.length
  let i = 0
  const push = (kind: TokenKind, start: number, end: number) => {
    out.push({ kind, text: text.slice(start, end), start, end })
    i = end
  }
  while (i < n) {
    const c = text[i]!
    const next = text[i + 1]
    const start = i
    if (isBlank(c)) {
      let j = i + 1
      while (j < n && isBlank(text[j])) j++
      push('space', start, j)
      continue
    }
    if (isLetter(c)) {
      // x'..' and b'..' are hex and bit literals in token.go; anything else after them is an error.
      if ((c === 'x' || c === 'X' || c === 'b' || c === 'B') && next === "'") {
        const hex = c === 'x' || c === 'X'
        let j = i + 2
        while (j < n && (hex ? isHex(text[j]) : text[j] === '0' || text[j] === '1')) j++
        if (text[j] !== "'" || (hex && (j - i - 2) % 2 !== 0)) {
          refuse(
            text,
            start,
            `a malformed ${hex ? 'hex' : 'bit'} literal`,
            `StackQL reads ${c}'...' as a ${hex ? 'hex literal (an even number of hex digits)' : 'bit literal (0 and 1 only)'}; put a space after ${c} if you meant a string.`,
          )
        }
        push('string', start, j + 1)
        continue
      }
      let j = i + 1
      while (j < n && (isLetter(text[j]) || isDigit(text[j]) || text[j] === '@')) j++
      push('word', start, j)
      continue
    }
    if (isDigit(c) || (c === '.' && isDigit(next))) {
      let j = i
      if (c === '0' && (next === 'x' || next === 'X')) {
        j += 2
        while (j < n && isHex(text[j])) j++
      } else {
        while (j < n && isDigit(text[j])) j++
        if (text[j] === '.') {
          j++
          while (j < n && isDigit(text[j])) j++
        }
        if (text[j] === 'e' || text[j] === 'E') {
          j++
          if (text[j] === '+' || text[j] === '-') j++
          while (j < n && isDigit(text[j])) j++
        }
      }
      if (isLetter(text[j])) {
        refuse(
          text,
          start,
          'a number followed directly by a letter',
          'StackQL does not accept this: put a space between them, or double-quote the identifier.',
        )
      }
      push('number', start, j)
      continue
    }
    if (c === "'") {
      // token.go scanString: backslash escapes the next character, '' is a quote.
      let j = i + 1
      for (;;) {
        if (j >= n)
          refuse(
            text,
            start,
            'an unterminated string',
            "Close the string with a single quote (write '' or \\' for a quote inside it).",
          )
        const d = text[j]!
        if (d === '\\') {
          if (j + 1 >= n)
            refuse(
              text,
              start,
              'an unterminated string (it ends in a backslash)',
              'Close the string with a single quote.',
            )
          j += 2
          continue
        }
        if (d === "'") {
          if (text[j + 1] === "'") {
            j += 2
            continue
          }
          break
        }
        j++
      }
      push('string', start, j + 1)
      continue
    }
    if (c === '"') {
      // token.go scanLiteralIdentifier: "" is a quote, a backslash is an ordinary character.
      let j = i + 1
      for (;;) {
        if (j >= n)
          refuse(
            text,
            start,
            'an unterminated double-quoted identifier',
            'Close it with a double quote (write "" for a quote inside it).',
          )
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            j += 2
            continue
          }
          break
        }
        j++
      }
      if (j === i + 1)
        refuse(
          text,
          start,
          'an empty double-quoted identifier ("")',
          'StackQL does not accept an empty identifier; strings take single quotes.',
        )
      push('quoted_ident', start, j + 1)
      continue
    }
    if (c === '#' || (c === '-' && next === '-') || (c === '/' && next === '/')) {
      // token.go scanCommentType1: to the end of the line; "--" needs no space after it.
      push('comment', start, lineEnd(text, i))
      continue
    }
    if (c === '/' && next === '*') {
      if (text[i + 2] === '!') {
        refuse(
          text,
          start,
          'a /*! ... */ comment',
          'StackQL runs the inside of /*! ... */ as SQL, so it cannot be checked as a comment: remove it.',
        )
      }
      const close = text.indexOf('*/', i + 2)
      if (close === -1) refuse(text, start, 'an unterminated /* comment', 'Close the comment with */.')
      push('comment', start, close + 2)
      continue
    }
    if (c === ':') {
      // token.go scanBindVar: ':' or '::' then a letter, then letters, digits and dots.
      let j = next === ':' ? i + 2 : i + 1
      if (!isLetter(text[j]))
        refuse(
          text,
          start,
          'a ":" that does not start a bind variable',
          'StackQL reads ":name" as a bind variable; remove the colon or quote the text.',
        )
      while (j < n && (isLetter(text[j]) || isDigit(text[j]) || text[j] === '.')) j++
      push('punct', start, j)
      continue
    }
    if (c === '`') {
      refuse(
        text,
        start,
        'a backtick',
        'StackQL quotes identifiers with double quotes ("name"), not backticks.',
      )
    }
    if (c === '@') {
      // token.go: '@' or '@@', then a double-quoted name, or ANY one character followed by letters,
      // digits, '@', '.', "'" and '"' (so a variable name can swallow quotes). EXEC passes its
      // parameters this way (@name = 'value'). We accept the plain shape only.
      let j = next === '@' ? i + 2 : i + 1
      if (text[j] === '"') {
        const close = text.indexOf('"', j + 1)
        if (close === -1 || close === j + 1 || text[close + 1] === '"') {
          refuse(
            text,
            start,
            'an @"..." variable StackQL would read differently',
            'Write variables as @name.',
          )
        }
        push('word', start, close + 1)
        continue
      }
      if (!isLetter(text[j])) {
        refuse(
          text,
          start,
          'an @ that does not start a variable name',
          'StackQL reads the character after @ as part of a variable name; write @name.',
        )
      }
      while (j < n && (isLetter(text[j]) || isDigit(text[j]) || text[j] === '@' || text[j] === '.')) j++
      if (text[j] === "'" || text[j] === '"') {
        refuse(
          text,
          start,
          'a quote directly after an @ variable name',
          'StackQL makes the quote part of the variable name: put a space or = between them.',
        )
      }
      push('word', start, j)
      continue
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i))
    if (op) {
      push('punct', start, i + op.length)
      continue
    }
    if (SINGLE.has(c)) {
      push('punct', start, i + 1)
      continue
    }
    const cp = text.codePointAt(i) ?? 0
    const ch = String.fromCodePoint(cp)
    refuse(
      text,
      start,
      describeChar(ch),
      cp > 0x7f
        ? 'StackQL accepts non-ASCII characters only inside quotes: put names in double quotes and text in single quotes.'
        : 'StackQL does not accept this character outside quotes.',
    )
  }
  return out
}

/** The tokens that carry code: no whitespace, no comments. */
export function codeTokens(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment')
}

/** The value of a word or quoted identifier: words as written, "a""b" as a"b. */
export function identifierValue(token: Token): string {
  return token.kind === 'quoted_ident' ? token.text.slice(1, -1).replace(/""/g, '"') : token.text
}
