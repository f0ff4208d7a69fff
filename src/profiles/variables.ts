// Profile variables in query text: `{{ regions }}` (the stackql-deploy convention) becomes SQL
// string literals — `'us-east-1', 'eu-west-1'` for the value `us-east-1, eu-west-1` — so a variable
// can never change the statement's shape. Placeholders must stand alone in SQL code: one inside a
// string literal or a comment is refused (write it without quotes; substitution adds them).
import { AppError } from '../errors.js'
import { literalContexts } from './placeholder-context.js'

export interface Placeholder {
  name: string
  start: number
  end: number
}

const OPEN = /\{\{/g
const PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/

/** Longest value accepted (a list of a few hundred regions or ids fits easily). */
export const MAX_VARIABLE_VALUE = 4000

function lineOf(text: string, at: number): number {
  let line = 1
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** Every `{{ name }}` of the text, in order; a `{{` that does not open one is refused. */
export function findPlaceholders(text: string): Placeholder[] {
  const out: Placeholder[] = []
  for (const m of text.matchAll(OPEN)) {
    const at = m.index
    if (out.length && at < out[out.length - 1]!.end) continue
    const p = PLACEHOLDER.exec(text.slice(at, at + 80))
    if (!p) {
      throw new AppError(
        'VALIDATION',
        `Line ${lineOf(text, at)}: "{{" does not open a variable. Write a profile variable as {{ name }} (letters, digits and _), e.g. region IN ({{ regions }}).`,
      )
    }
    out.push({ name: p[1]!, start: at, end: at + p[0].length })
  }
  return out
}

/** The text with each placeholder replaced by an identifier of the same length (for tokenizing). */
export function maskPlaceholders(text: string, placeholders: Placeholder[]): string {
  let out = ''
  let at = 0
  for (const p of placeholders) {
    out += `${text.slice(at, p.start)}${'x'.repeat(p.end - p.start)}`
    at = p.end
  }
  return out + text.slice(at)
}

/**
 * Refuses placeholders that sit inside a string literal or a comment, or that touch other code
 * characters (`abc{{ x }}`): a placeholder must be a token of its own.
 */
export function assertPlaceholdersInCode(text: string, placeholders: Placeholder[]): void {
  if (placeholders.length === 0) return
  const masked = maskPlaceholders(text, placeholders)
  const contexts = literalContexts(masked)
  for (const p of placeholders) {
    const inside = contexts.find((c) => c.start <= p.start && p.start < c.end)
    const written = text.slice(p.start, p.end)
    if (inside) {
      throw new AppError(
        'VALIDATION',
        inside.kind === 'string'
          ? `Line ${lineOf(text, p.start)}: ${written} is inside a string literal. Write it without quotes — substitution quotes the value itself, e.g. region = {{ region }} or region IN ({{ regions }}).`
          : `Line ${lineOf(text, p.start)}: ${written} is inside a comment. Variables are only substituted in SQL code: remove it from the comment.`,
      )
    }
    const before = masked[p.start - 1] ?? ' '
    const after = masked[p.end] ?? ' '
    if (/[A-Za-z0-9_$'"`]/.test(before) || /[A-Za-z0-9_$'"`]/.test(after)) {
      throw new AppError(
        'VALIDATION',
        `Line ${lineOf(text, p.start)}: ${written} touches other characters. A variable stands alone (it becomes one or more quoted values), e.g. region IN ({{ regions }}).`,
      )
    }
  }
}

/** Why `value` cannot be a variable's value, or undefined. */
export function invalidValueReason(value: string): string | undefined {
  if (value.trim() === '') return 'it is empty'
  if (value.length > MAX_VARIABLE_VALUE) return `it is longer than ${MAX_VARIABLE_VALUE} characters`
  if (/[\n\r]/.test(value)) return 'it contains a line break'
  if (value.includes('\u0000')) return 'it contains a NUL character'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) return 'it contains a control character'
  if (value.includes('{{') || value.includes('}}')) return 'it contains {{ or }}'
  // StackQL's tokenizer reads \ as an escape inside string literals: refuse it, never guess.
  if (value.includes('\\')) return 'it contains a backslash'
  if (value.split(',').some((item) => item.trim() === ''))
    return 'it has an empty list item (check the commas)'
  return undefined
}

/** Throws VALIDATION when `value` is not valid for variable `name`. */
export function assertVariableValue(name: string, value: string): void {
  const why = invalidValueReason(value)
  if (why) {
    throw new AppError(
      'VALIDATION',
      `The value of variable ${name} is not valid: ${why}. A value is plain text on one line; commas separate the items of a list (us-east-1, eu-west-1).`,
    )
  }
}

/** `us-east-1, eu-west-1` -> `'us-east-1', 'eu-west-1'`; single quotes are doubled. */
export function literalFor(value: string): string {
  return value
    .split(',')
    .map((item) => `'${item.trim().replace(/'/g, "''")}'`)
    .join(', ')
}

export interface SubstitutionScope {
  /** Variable name -> value, and where it was defined (aws/prod), for messages. */
  values: Map<string, { value: string; from: string }>
  /** The profiles searched, for the "not defined" message (e.g. aws/prod, github/default). */
  profiles: string[]
}

/** The text with every placeholder replaced by its literal; unknown or invalid variables are 4xx. */
export function substituteVariables(
  text: string,
  placeholders: Placeholder[],
  scope: SubstitutionScope,
): string {
  if (placeholders.length === 0) return text
  const missing = [...new Set(placeholders.map((p) => p.name).filter((n) => !scope.values.has(n)))]
  if (missing.length > 0) {
    const where = scope.profiles.length
      ? scope.profiles.join(', ')
      : 'no profile (the query references no provider)'
    throw new AppError(
      'VALIDATION',
      `The query uses ${missing.map((n) => `{{ ${n} }}`).join(', ')}, but ${missing.length === 1 ? 'that variable is' : 'those variables are'} not defined for ${where}. Add ${missing.length === 1 ? 'it' : 'them'} to the profile on the Providers page, or pick a profile that has ${missing.length === 1 ? 'it' : 'them'}.`,
      { details: { variables: missing } },
    )
  }
  let out = ''
  let at = 0
  for (const p of placeholders) {
    const v = scope.values.get(p.name)!
    assertVariableValue(`${p.name} (${v.from})`, v.value)
    out += text.slice(at, p.start) + literalFor(v.value)
    at = p.end
  }
  return out + text.slice(at)
}
