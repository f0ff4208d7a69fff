// Splits StackQL input into statements and classifies them, on the tokens of ./tokenizer.ts (which
// follows StackQL's own tokenizer and refuses what it cannot be sure of). One exec call runs ONE
// statement (several print concatenated JSON arrays), so multi-statement input is rejected up front.
import { AppError } from '../errors.js'
import { codeTokens, type Token, tokenize } from './tokenizer.js'

export type StatementKind =
  | 'SELECT'
  | 'SHOW'
  | 'DESCRIBE'
  | 'REGISTRY'
  | 'INSERT'
  | 'REPLACE'
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
  'REPLACE',
  'UPDATE',
  'DELETE',
  'EXEC',
])

// Statement kinds that change nothing in any cloud account. REGISTRY (LIST / PULL) only reads or
// downloads provider documents into StackQL's local registry. Everything else (OTHER included) is
// treated as a possible mutation.
const READ_ONLY_KINDS = new Set<StatementKind>(['SELECT', 'SHOW', 'DESCRIBE', 'REGISTRY'])

// Words that must not appear anywhere in a statement we accept as a read-only SELECT: they start or
// belong to statements that change something. A column of that name can be double-quoted.
const MUTATING_WORDS = new Set([
  'INSERT',
  'REPLACE',
  'UPDATE',
  'DELETE',
  'EXEC',
  'EXECUTE',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
  'RENAME',
  'PURGE',
  'CALL',
  'LOAD',
  'REGISTRY',
  'INTO',
])

/** The statements of `text` as token lists (space and comments included), split on `;` tokens. */
export function statementTokens(text: string): Token[][] {
  const out: Token[][] = []
  let current: Token[] = []
  for (const token of tokenize(text)) {
    if (token.kind === 'punct' && token.text === ';') {
      out.push(current)
      current = []
    } else current.push(token)
  }
  out.push(current)
  return out.filter((statement) => codeTokens(statement).length > 0)
}

/**
 * Splits on `;` tokens (so never inside strings, quoted identifiers or comments: `#`, `--`, `//`
 * and `/* *\/`). Returns the statements trimmed, without their terminating semicolon; statements
 * that hold only whitespace or comments are dropped, so a trailing semicolon or a trailing comment
 * does not count as a statement. Throws VALIDATION for input the tokenizer refuses.
 */
export function splitStatements(text: string): string[] {
  return statementTokens(text).map((tokens) =>
    text.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end).trim(),
  )
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

const isWord = (t: Token | undefined, word: string) =>
  t !== undefined && t.kind === 'word' && t.text.toUpperCase() === word
const isPunct = (t: Token | undefined, p: string) => t !== undefined && t.kind === 'punct' && t.text === p

/** The index after the parenthesised group that opens at `code[i]` (a '('), or -1 when unbalanced. */
function skipGroup(code: Token[], i: number): number {
  let depth = 0
  for (let j = i; j < code.length; j++) {
    if (isPunct(code[j], '(')) depth++
    else if (isPunct(code[j], ')')) {
      depth--
      if (depth === 0) return j + 1
    }
  }
  return -1
}

/**
 * The index of the main statement's verb in `code`: after leading '(' and after the CTEs of a
 * WITH clause (`WITH [RECURSIVE] name [(cols)] AS (...) [, ...]`). -1 when the shape is not that.
 */
function verbIndex(code: Token[]): number {
  let i = 0
  while (isPunct(code[i], '(')) i++
  if (!isWord(code[i], 'WITH')) return i
  i++
  if (isWord(code[i], 'RECURSIVE')) i++
  for (;;) {
    const name = code[i]
    if (!name || (name.kind !== 'word' && name.kind !== 'quoted_ident')) return -1
    i++
    if (isPunct(code[i], '(')) i = skipGroup(code, i)
    if (i < 0 || !isWord(code[i], 'AS') || !isPunct(code[i + 1], '(')) return -1
    i = skipGroup(code, i + 1)
    if (i < 0) return -1
    if (!isPunct(code[i], ',')) break
    i++
  }
  while (isPunct(code[i], '(')) i++
  // A nested WITH is not a shape StackQL's grammar has: not classified.
  return isWord(code[i], 'WITH') ? -1 : i
}

function kindOfCode(code: Token[]): StatementKind {
  const at = verbIndex(code)
  const token = at < 0 ? undefined : code[at]
  const word = token?.kind === 'word' ? token.text.toUpperCase() : ''
  if (word === 'DESC') return 'DESCRIBE'
  return KINDS.has(word as StatementKind) ? (word as StatementKind) : 'OTHER'
}

/**
 * The statement's kind: its first keyword after comments and leading parentheses; for
 * `WITH ... <verb>` the verb of the main statement after the CTEs. Throws VALIDATION for input the
 * tokenizer refuses.
 */
export function statementKind(statement: string): StatementKind {
  return kindOfCode(codeTokens(tokenize(statement)))
}

/** Whether a statement of this kind is known to change nothing in a cloud account (conservative: OTHER is not). */
export function isReadOnlyKind(kind: StatementKind): boolean {
  return READ_ONLY_KINDS.has(kind)
}

/**
 * Only read-only statements can fill an inventory table (schedules and the runner share this rule).
 * A SELECT may start with comments, whitespace or parentheses, or be WITH ... SELECT; it may not
 * contain a word that starts or belongs to a changing statement (INSERT, DELETE, EXEC, INTO, ...).
 */
export function assertReadOnlyQuery(text: string): void {
  const statement = singleStatement(text)
  const code = codeTokens(tokenize(statement))
  const kind = kindOfCode(code)
  if (kind !== 'SELECT') {
    const first = code.find((t) => t.kind === 'word')?.text.toUpperCase() ?? ''
    const what = !first
      ? 'this one starts with no statement'
      : first === 'WITH' && kind !== 'OTHER'
        ? `this one starts with "WITH" and its main statement is ${kind}`
        : `this one starts with "${first}"`
    throw new AppError(
      'VALIDATION',
      `Only SELECT queries can be scheduled (${what}): a scheduled run writes the rows the query returns into the target table.`,
    )
  }
  const bad = code.find((t) => t.kind === 'word' && MUTATING_WORDS.has(t.text.toUpperCase()))
  if (bad) {
    throw new AppError(
      'VALIDATION',
      `Only read-only SELECT queries can be scheduled, and this one contains "${bad.text}", which belongs to a statement that changes data. If it is a column or resource name, put it in double quotes.`,
    )
  }
}

/** Metadata statements read the provider's registry documents only: they need no credentials. */
export function needsCredentials(kind: StatementKind): boolean {
  return kind !== 'SHOW' && kind !== 'DESCRIBE' && kind !== 'REGISTRY'
}
