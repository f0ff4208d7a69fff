// Finds what the check looks at in one SELECT: its resource references (src/stackql/references.ts, with
// their [AS] alias), the column names of its SELECT list and WHERE clause, and the WHERE parameters given
// (`col = literal`, `col IN (...)`). A deliberately small reading: anything it does not follow is skipped.

import { resourceReferences } from '../stackql/references.js'
import { statementTokens } from '../stackql/statements.js'
import { codeTokens } from '../stackql/tokenizer.js'

export interface Tok {
  kind: 'word' | 'string' | 'number' | 'punct' | 'quoted'
  text: string
  start: number
  end: number
}

export interface ResourceRef {
  provider: string
  service: string
  resource: string
  alias?: string
  start: number
  end: number
}

export interface ColumnRef {
  name: string
  /** The alias or resource name it was qualified with (`i.instance_id`). */
  qualifier?: string
  clause: 'select' | 'where'
  start: number
  end: number
}

export interface SelectParts {
  refs: ResourceRef[]
  columns: ColumnRef[]
  /** Column names compared with a value in WHERE (lower case). */
  params: Set<string>
  /** Output aliases defined in the SELECT list (lower case). */
  aliases: Set<string>
}

const KEYWORDS = new Set(
  `select from where and or not null is in like ilike between as distinct all case when then else end
  true false join inner left right outer full cross on using group by order having limit offset asc desc
  union except intersect exists any some escape glob regexp collate cast interval current_date current_time
  current_timestamp`
    .split(/\s+/)
    .filter(Boolean),
)

const END_OF_WHERE = new Set(['group', 'order', 'limit', 'having', 'union', 'except', 'intersect', 'window'])

/** The first statement's code tokens, from the statement tokenizer (so strings and comments never count). */
export function lex(text: string): Tok[] {
  const first = statementTokens(text)[0] ?? []
  return codeTokens(first).map((t) => ({
    kind: t.kind === 'quoted_ident' ? 'quoted' : (t.kind as Tok['kind']),
    text: t.text,
    start: t.start,
    end: t.end,
  }))
}

const isWord = (t: Tok | undefined, w?: string) =>
  t?.kind === 'word' && (w === undefined || t.text.toLowerCase() === w)
const isPunct = (t: Tok | undefined, p: string) => t?.kind === 'punct' && t.text === p
const isKeyword = (t: Tok | undefined) => t?.kind === 'word' && KEYWORDS.has(t.text.toLowerCase())

/** The parts of the first SELECT in `text`, or undefined when it is not a SELECT. */
export function selectParts(text: string): SelectParts | undefined {
  const toks = lex(text)
  let i = 0
  while (isPunct(toks[i], '(') || isPunct(toks[i], ';')) i++
  if (!isWord(toks[i], 'select')) return undefined
  const parts: SelectParts = { refs: [], columns: [], params: new Set(), aliases: new Set() }
  // Resource references from the shared finder; the alias is the name after it ([AS] alias).
  const last = toks[toks.length - 1]!.end
  for (const ref of resourceReferences(text)) {
    if (ref.end > last) break
    let a = toks.findIndex((tk) => tk.start >= ref.end)
    if (a < 0) a = toks.length
    if (isWord(toks[a], 'as')) a++
    const alias = isWord(toks[a]) && !isKeyword(toks[a]) ? toks[a]!.text : undefined
    parts.refs.push({ ...ref, alias })
  }
  const from = findTop(toks, i + 1, (t) => isWord(t, 'from'))
  collectColumns(toks, i + 1, from, 'select', parts)
  const where = findTop(toks, from, (t) => isWord(t, 'where'))
  if (where < toks.length) {
    const end = findTop(toks, where + 1, (t) => isWord(t) && END_OF_WHERE.has(t.text.toLowerCase()))
    collectColumns(toks, where + 1, end, 'where', parts)
  }
  return parts
}

/** The index of the first token at parenthesis depth 0 (from `from`) matching `pred`, or toks.length. */
function findTop(toks: Tok[], from: number, pred: (t: Tok) => boolean): number {
  let depth = 0
  for (let j = from; j < toks.length; j++) {
    const t = toks[j]!
    if (isPunct(t, '(')) depth++
    else if (isPunct(t, ')')) depth--
    else if (depth === 0 && pred(t)) return j
  }
  return toks.length
}

function collectColumns(
  toks: Tok[],
  from: number,
  to: number,
  clause: 'select' | 'where',
  parts: SelectParts,
) {
  for (let j = from; j < to; j++) {
    const t = toks[j]!
    if (t.kind !== 'word' || isKeyword(t)) continue
    const prev = toks[j - 1]
    const next = toks[j + 1]
    if (isPunct(next, '(')) continue // a function name
    if (isPunct(prev, '.')) continue // the tail of a qualified name, handled at its head
    if (isWord(prev, 'as')) {
      if (clause === 'select') parts.aliases.add(t.text.toLowerCase())
      continue
    }
    // `expr alias` without AS in the SELECT list
    if (clause === 'select' && prev && (prev.kind === 'word' || isPunct(prev, ')')) && !isKeyword(prev)) {
      if (j - 1 >= from) {
        parts.aliases.add(t.text.toLowerCase())
        continue
      }
    }
    let at = j
    let qualifier: string | undefined
    if (isPunct(next, '.') && isWord(toks[j + 2])) {
      if (isPunct(toks[j + 3], '.')) continue // a.b.c: a resource path, not a column
      qualifier = t.text
      at = j + 2
    }
    const name = toks[at]!
    parts.columns.push({ name: name.text, qualifier, clause, start: name.start, end: name.end })
    if (clause === 'where') {
      const after = toks[at + 1]
      const value = toks[at + 2]
      if (
        (isPunct(after, '=') && (value?.kind === 'string' || value?.kind === 'number')) ||
        isWord(after, 'in')
      ) {
        parts.params.add(name.text.toLowerCase())
      }
    }
  }
}
