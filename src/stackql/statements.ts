// Splits StackQL input into statements and classifies them. One exec call runs ONE statement
// (several print concatenated JSON arrays), so multi-statement input is rejected up front.
import { AppError } from '../errors.js'

export type StatementKind =
  | 'SELECT'
  | 'SHOW'
  | 'DESCRIBE'
  | 'REGISTRY'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'EXEC'
  | 'OTHER'

const KINDS = new Set<StatementKind>([
  'SELECT',
  'SHOW',
  'DESCRIBE',
  'REGISTRY',
  'INSERT',
  'UPDATE',
  'DELETE',
  'EXEC',
])

/**
 * Splits on semicolons that are outside string literals ('...', "...", `...`, with '' and
 * backslash escapes) and comments (-- and # to end of line, /* ... *\/). Returns the statements
 * trimmed, without their terminating semicolon; statements that hold only whitespace or comments
 * are dropped, so a trailing semicolon or a trailing comment does not count as a statement.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = []
  let start = 0
  let hasCode = false
  let i = 0
  const n = text.length
  const push = (end: number) => {
    if (hasCode) out.push(text.slice(start, end).trim())
    start = end + 1
    hasCode = false
  }
  while (i < n) {
    const c = text[i]!
    const next = text[i + 1]
    if (c === "'" || c === '"' || c === '`') {
      hasCode = true
      i++
      while (i < n) {
        const d = text[i]!
        if (d === '\\' && c !== '`') {
          i += 2
          continue
        }
        if (d === c) {
          if (text[i + 1] === c) {
            i += 2
            continue
          }
          break
        }
        i++
      }
      i++
      continue
    }
    if ((c === '-' && next === '-') || c === '#') {
      while (i < n && text[i] !== '\n') i++
      continue
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
      continue
    }
    if (c === ';') {
      push(i)
      i++
      continue
    }
    if (!/\s/.test(c)) hasCode = true
    i++
  }
  push(n)
  return out
}

/** The one statement of `text`; throws VALIDATION when empty and STACKQL_MULTI_STATEMENT when there are several. */
export function singleStatement(text: string): string {
  // A NUL cannot travel in a process argument: say so, instead of failing to start StackQL.
  if (text.includes('\u0000')) {
    throw new AppError(
      'VALIDATION',
      'The query contains a NUL character (\\0), which cannot be passed to StackQL: remove it.',
    )
  }
  const statements = splitStatements(text)
  if (statements.length === 0)
    throw new AppError('VALIDATION', 'The query is empty: write one StackQL statement.')
  if (statements.length > 1) {
    throw new AppError(
      'STACKQL_MULTI_STATEMENT',
      `The query holds ${statements.length} statements. Run one statement at a time: StackQL returns one result per statement, and the results page shows one table.`,
      { details: { statements: statements.length } },
    )
  }
  return statements[0]!
}

/** The statement's verb (its first keyword after any leading comments). */
export function statementKind(statement: string): StatementKind {
  const code = statement.replace(/^(\s+|--[^\n]*(\n|$)|#[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/, '')
  const word = /^[A-Za-z]+/.exec(code)?.[0]?.toUpperCase() ?? ''
  if (word === 'DESC') return 'DESCRIBE'
  return KINDS.has(word as StatementKind) ? (word as StatementKind) : 'OTHER'
}

/**
 * Only read-only statements can fill an inventory table (schedules and the runner share this rule).
 * A SELECT may start with comments, whitespace or parentheses, or be WITH ... SELECT.
 */
export function assertReadOnlyQuery(text: string): void {
  const statement = singleStatement(text)
  const code = statement.replace(/^(\s+|\(|--[^\n]*(\n|$)|#[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/, '')
  const word = /^[A-Za-z]+/.exec(code)?.[0]?.toUpperCase() ?? ''
  const ok = word === 'SELECT' || (word === 'WITH' && /\bselect\b/i.test(code))
  if (!ok) {
    throw new AppError(
      'VALIDATION',
      `Only SELECT queries can be scheduled (this one starts with ${word ? `"${word}"` : 'no statement'}): a scheduled run writes the rows the query returns into the target table.`,
    )
  }
}

/** Metadata statements read the provider's registry documents only: they need no credentials. */
export function needsCredentials(kind: StatementKind): boolean {
  return kind !== 'SHOW' && kind !== 'DESCRIBE' && kind !== 'REGISTRY'
}
