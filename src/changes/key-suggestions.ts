// Key column suggestions for the New Schedule / Edit dialogs: the output names of a query's SELECT
// list (aliases count; read on the statement tokenizer's tokens, so strings and comments never
// count), or for `SELECT *` the resource's columns from the explorer metadata, filtered by the
// issue's rule (src/changes/summary.ts suggestKeyColumns). Framework-free; no I/O here.
import { AppError } from '../errors.js'
import { type ResourceReference, resourceReferences } from '../stackql/references.js'
import { statementTokens } from '../stackql/statements.js'
import { codeTokens, identifierValue, type Token } from '../stackql/tokenizer.js'
import { suggestKeyColumns } from './summary.js'

export interface OutputColumns {
  /** Output names of the SELECT list, in order (an expression without an alias has none). */
  names: string[]
  /** The resource whose columns `*` (or `alias.*`) stands for, when the list has one. */
  star: ResourceReference | null
}

const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p
const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w
const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'quoted_ident'
const SELECT_MODIFIERS = new Set(['distinct', 'all', 'distinctrow', 'sql_no_cache', 'sql_cache'])
// Words that end a bare expression rather than name it (`a IS NULL`, `CASE ... END`).
const NOT_ALIAS = new Set(['null', 'true', 'false', 'end', 'and', 'or', 'not', 'is', 'in', 'like'])

/** Splits code tokens at top-level commas between `from` and `to` (exclusive). */
function splitItems(code: Token[], from: number, to: number): Token[][] {
  const items: Token[][] = []
  let item: Token[] = []
  let depth = 0
  for (let i = from; i < to; i++) {
    const t = code[i]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    if (depth === 0 && isPunct(t, ',')) {
      items.push(item)
      item = []
    } else item.push(t)
  }
  if (item.length) items.push(item)
  return items
}

/** The output name of one SELECT item: its alias, or the column of a plain (qualified) column reference. */
function itemName(item: Token[]): string | null {
  const last = item[item.length - 1]
  const before = item[item.length - 2]
  if (!isName(last)) return null
  if (item.length >= 2 && isWord(before, 'as')) return identifierValue(last!)
  if (item.length === 1) return identifierValue(last!)
  // a.b (or p.s.r.col, never a column): the last name of a dotted chain is the output name.
  if (isPunct(before, '.'))
    return item.every((t, i) => (i % 2 ? isPunct(t, '.') : isName(t))) ? identifierValue(last!) : null
  // `expr alias` without AS: a name after a closing parenthesis, a literal or another name.
  const bareAlias =
    last!.kind === 'quoted_ident' || !NOT_ALIAS.has(last!.text.toLowerCase())
      ? isPunct(before, ')') || before?.kind === 'string' || before?.kind === 'number' || isName(before)
      : false
  return bareAlias ? identifierValue(last!) : null
}

/**
 * The output columns of the first SELECT of `text`: names in order, and the resource `*` reads.
 * Not a SELECT (or text the tokenizer refuses): no names.
 */
export function selectOutputColumns(text: string): OutputColumns {
  let code: Token[]
  try {
    code = codeTokens(statementTokens(text)[0] ?? [])
  } catch (e) {
    if (e instanceof AppError) return { names: [], star: null }
    throw e
  }
  let i = 0
  while (isPunct(code[i], '(')) i++
  if (!isWord(code[i], 'select')) return { names: [], star: null }
  i++
  while (code[i]?.kind === 'word' && SELECT_MODIFIERS.has(code[i]!.text.toLowerCase())) i++
  let depth = 0
  let end = i
  for (; end < code.length; end++) {
    const t = code[end]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    else if (depth === 0 && isWord(t, 'from')) break
  }
  const names: string[] = []
  let starQualifier: string | null | undefined
  for (const item of splitItems(code, i, end)) {
    const last = item[item.length - 1]
    if (isPunct(last, '*') && (item.length === 1 || isPunct(item[item.length - 2], '.'))) {
      starQualifier ??= item.length >= 3 ? identifierValue(item[item.length - 3]!) : null
      continue
    }
    const name = itemName(item)
    if (name && !names.includes(name)) names.push(name)
  }
  let star: ResourceReference | null = null
  if (starQualifier !== undefined) {
    const from = code[end]
    const refs = from ? resourceReferences(text).filter((r) => r.start >= from.start) : []
    star =
      (starQualifier
        ? refs.find((r) => aliasOf(code, r) === starQualifier || r.resource === starQualifier)
        : undefined) ??
      refs[0] ??
      null
  }
  return { names, star }
}

/** The [AS] alias after a resource reference, if any. */
function aliasOf(code: Token[], ref: ResourceReference): string | undefined {
  let j = code.findIndex((t) => t.start >= ref.end)
  if (j < 0) return undefined
  if (isWord(code[j], 'as')) j++
  return code[j]?.kind === 'word' ? code[j]!.text : undefined
}

export interface KeySuggestionInput {
  /** The saved query's text. */
  text: string
  /** The schedule runs over profiles (every row then has `_profile`). */
  fansOut: boolean
  /** Columns of the resource `SELECT *` reads, when the metadata knows them. */
  starColumns?: readonly string[]
}

/** Suggested key columns for a query (most specific first), `_profile` last when it fans out. */
export function keySuggestions(input: KeySuggestionInput): string[] {
  const { names, star } = selectOutputColumns(input.text)
  const columns = [...names]
  if (star) for (const c of input.starColumns ?? []) if (!columns.includes(c)) columns.push(c)
  return suggestKeyColumns(columns, input.fansOut)
}
