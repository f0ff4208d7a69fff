// Which StackQL resources (provider.service.resource) a query names, found on the tokens of
// ./tokenizer.ts, so names inside strings and comments never count. A dotted name is a resource by
// its POSITION, not its shape: see ARCHITECTURE.md, "The statement tokenizer".
import { statementTokens } from './statements.js'
import { codeTokens, identifierValue, type Token } from './tokenizer.js'

export interface ResourceReference {
  provider: string
  service: string
  resource: string
  /** Offsets into the original text covering the whole dotted name (all four parts for EXEC). */
  start: number
  end: number
}

interface Found extends ResourceReference {
  /** Only reads the provider's documents (DESCRIBE, SHOW METHODS IN): no API call, no credentials. */
  metadata: boolean
}

const word = (t: Token | undefined): string => (t?.kind === 'word' ? t.text.toUpperCase() : '')
const isName = (t: Token | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'quoted_ident')
const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p

// Words after which a FROM list at the same paren depth has ended.
const END_FROM_LIST = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'HAVING',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'WINDOW',
  'FOR',
  'LOCK',
  'SET',
  'VALUES',
  'SELECT',
  'INTO',
])
const TABLE_KEYWORDS = new Set(['FROM', 'JOIN', 'STRAIGHT_JOIN', 'INTO', 'UPDATE'])

/** The parts of the dotted name that starts at code[i]: name ('.' name)*. */
function dottedName(code: Token[], i: number): Token[] {
  const parts = [code[i]!]
  let j = i + 1
  while (isPunct(code[j], '.') && isName(code[j + 1])) {
    parts.push(code[j + 1]!)
    j += 2
  }
  return parts
}

function findInStatement(code: Token[]): Found[] {
  const out: Found[] = []
  const first = word(code[0])
  // One entry per paren depth: did a SELECT (or a top-level statement) open it, is a FROM list open.
  const ctx: { select: boolean; fromList: boolean }[] = [{ select: true, fromList: false }]
  let i = 0
  while (i < code.length) {
    const t = code[i]!
    const top = ctx[ctx.length - 1]!
    if (isPunct(t, '(')) {
      ctx.push({ select: false, fromList: false })
      i++
      continue
    }
    if (isPunct(t, ')')) {
      if (ctx.length > 1) ctx.pop()
      i++
      continue
    }
    const w = word(t)
    if (w === 'SELECT') top.select = true
    if ((w === 'FROM' && top.select) || w === 'JOIN' || w === 'STRAIGHT_JOIN') top.fromList = true
    else if (END_FROM_LIST.has(w)) top.fromList = false
    if (!isName(t) || (i > 0 && isPunct(code[i - 1], '.'))) {
      i++
      continue
    }
    const parts = dottedName(code, i)
    const prev = code[i - 1]
    const prevWord = word(prev)
    const prev2 = word(code[i - 2])
    let want = 0
    let metadata = false
    if (TABLE_KEYWORDS.has(prevWord) && (prevWord !== 'FROM' || top.select)) want = 3
    else if (isPunct(prev, ',') && top.fromList) want = 3
    else if (prevWord === 'EXEC' && ctx.length === 1) want = 4
    else if (
      ctx.length === 1 &&
      (prevWord === 'DESCRIBE' ||
        prevWord === 'DESC' ||
        (prevWord === 'EXTENDED' && (prev2 === 'DESCRIBE' || prev2 === 'DESC')) ||
        (prevWord === 'IN' && first === 'SHOW'))
    ) {
      want = 3
      metadata = true
    }
    if (want > 0 && parts.length === want) {
      out.push({
        provider: identifierValue(parts[0]!),
        service: identifierValue(parts[1]!),
        resource: identifierValue(parts[2]!),
        start: parts[0]!.start,
        end: parts[parts.length - 1]!.end,
        metadata,
      })
    }
    i += parts.length * 2 - 1
  }
  return out
}

function findAll(text: string): Found[] {
  return statementTokens(text).flatMap((tokens) => findInStatement(codeTokens(tokens)))
}

/**
 * Every provider.service.resource the text names outside strings and comments, in text order:
 * after FROM (of a SELECT or DELETE), JOIN, INTO, UPDATE, DESCRIBE [EXTENDED], SHOW ... IN, after a
 * comma of a FROM list, and EXEC p.s.r.method (the resource is the first three parts). Throws
 * VALIDATION for input the tokenizer refuses.
 */
export function resourceReferences(text: string): ResourceReference[] {
  return findAll(text).map(({ metadata: _m, ...ref }) => ref)
}

/**
 * The providers (unique, sorted, lower-cased) whose resources the text queries or changes, i.e.
 * that make API calls and need credentials. DESCRIBE and SHOW METHODS IN read only the provider's
 * documents and do not count; see namedProvider for those.
 */
export function referencedProviders(text: string): string[] {
  const names = findAll(text)
    .filter((ref) => !ref.metadata)
    .map((ref) => ref.provider.toLowerCase())
  return [...new Set(names)].sort()
}

/**
 * The provider a metadata statement names, lower-cased: SHOW ... IN p[.s[.r]], DESCRIBE p.s.r,
 * REGISTRY PULL p. Null for other statements (and when the first statement names none).
 */
export function namedProvider(text: string): string | null {
  const tokens = statementTokens(text)[0]
  if (!tokens) return null
  const code = codeTokens(tokens)
  const first = word(code[0])
  let at = -1
  if (first === 'REGISTRY' && word(code[1]) === 'PULL') at = 2
  else if (first === 'SHOW') at = code.findIndex((t, i) => word(t) === 'IN' && isName(code[i + 1])) + 1
  else if (first === 'DESCRIBE' || first === 'DESC') at = word(code[1]) === 'EXTENDED' ? 2 : 1
  const token = at > 0 ? code[at] : undefined
  return isName(token) ? identifierValue(token!).toLowerCase() : null
}
