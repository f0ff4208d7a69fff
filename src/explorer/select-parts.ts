// Finds what the check looks at in one SELECT: its resource references (FROM/JOIN provider.service.resource
// [alias]), the column names of its SELECT list and WHERE clause, and the WHERE parameters given
// (`col = literal`, `col IN (...)`). A deliberately small reading: anything it does not follow is skipped.

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

/** A plain lexer: comments and whitespace dropped; 'strings' and "quoted"/`quoted` names kept whole. */
export function lex(text: string): Tok[] {
  const out: Tok[] = []
  const re =
    /(--[^\n]*|#[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^'\\]|\\.|'')*'?)|("(?:[^"]|"")*"?|`[^`]*`?)|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_$]*)|(\s+)|([^\s])/g
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [all, comment, str, quoted, num, word, space] = m
    if (comment || space) continue
    const base = { text: all, start: m.index, end: m.index + all.length }
    if (str) out.push({ kind: 'string', ...base })
    else if (quoted) out.push({ kind: 'quoted', ...base })
    else if (num) out.push({ kind: 'number', ...base })
    else if (word) out.push({ kind: 'word', ...base })
    else out.push({ kind: 'punct', ...base })
  }
  return out
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
  // Resource references: FROM / JOIN a.b.c [AS] [alias] and , a.b.c in a FROM list.
  for (let k = 0; k < toks.length; k++) {
    const prev = toks[k - 1]
    if (!(isWord(prev, 'from') || isWord(prev, 'join') || (isPunct(prev, ',') && inFromList(toks, k))))
      continue
    const ref = dottedName(toks, k)
    if (ref?.names.length !== 3) continue
    let a = ref.next
    if (isWord(toks[a], 'as')) a++
    const alias = isWord(toks[a]) && !isKeyword(toks[a]) ? toks[a]!.text : undefined
    const [provider, service, resource] = ref.names as [string, string, string]
    parts.refs.push({
      provider,
      service,
      resource,
      alias,
      start: toks[k]!.start,
      end: toks[ref.next - 1]!.end,
    })
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

function inFromList(toks: Tok[], k: number): boolean {
  for (let j = k - 1; j >= 0; j--) {
    const t = toks[j]!
    if (isWord(t, 'from')) return true
    if (isWord(t) && KEYWORDS.has(t.text.toLowerCase()) && !isWord(t, 'as')) return false
  }
  return false
}

function dottedName(toks: Tok[], k: number): { names: string[]; next: number } | undefined {
  if (!isWord(toks[k]) || isKeyword(toks[k])) return undefined
  const names = [toks[k]!.text]
  let j = k + 1
  while (isPunct(toks[j], '.') && isWord(toks[j + 1])) {
    names.push(toks[j + 1]!.text)
    j += 2
  }
  return { names, next: j }
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
