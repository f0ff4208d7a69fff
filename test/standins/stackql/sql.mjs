// The stand-in's tiny StackQL parser: the statement shapes the reference lists, nothing more.
// Errors read like the real parser's: `syntax error at position N near 'tok'`.

export class SqlError extends Error {}

export function tokenize(text) {
  const tokens = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 2
    } else if (c === "'" || c === '"') {
      let v = ''
      let j = i + 1
      for (;;) {
        if (j >= text.length) throw new SqlError(`syntax error at position ${j + 1} near '${text.slice(i)}'`)
        if (text[j] === '\\') {
          v += text[j + 1]
          j += 2
        } else if (text[j] === c && text[j + 1] === c) {
          v += c
          j += 2
        } else if (text[j] === c) break
        else v += text[j++]
      }
      tokens.push({ t: 'str', v, pos: i })
      i = j + 1
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i))
      tokens.push({ t: 'num', v: m[0], pos: i })
      i += m[0].length
    } else if (/[A-Za-z_`]/.test(c)) {
      const m = /^(`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)/.exec(text.slice(i))
      tokens.push({ t: 'id', v: m[0].replace(/`/g, ''), pos: i })
      i += m[0].length
    } else if ('(),*=.;'.includes(c)) {
      tokens.push({ t: 'p', v: c, pos: i })
      i++
    } else {
      throw new SqlError(`syntax error at position ${i + 1} near '${c}'`)
    }
  }
  return tokens
}

class Parser {
  constructor(tokens) {
    this.tokens = tokens
    this.i = 0
  }
  peek() {
    return this.tokens[this.i]
  }
  fail() {
    const tok = this.peek()
    if (!tok) throw new SqlError('syntax error at end of input')
    throw new SqlError(`syntax error at position ${tok.pos + 1} near '${tok.v}'`)
  }
  isKw(word) {
    const tok = this.peek()
    return tok?.t === 'id' && tok.v.toUpperCase() === word
  }
  kw(word) {
    if (!this.isKw(word)) this.fail()
    this.i++
  }
  optKw(word) {
    if (this.isKw(word)) {
      this.i++
      return true
    }
    return false
  }
  punct(p) {
    const tok = this.peek()
    if (tok?.t !== 'p' || tok.v !== p) this.fail()
    this.i++
  }
  optPunct(p) {
    const tok = this.peek()
    if (tok?.t === 'p' && tok.v === p) {
      this.i++
      return true
    }
    return false
  }
  ident() {
    const tok = this.peek()
    if (tok?.t !== 'id') this.fail()
    this.i++
    return tok.v
  }
  /** a.b.c with at most `max` parts */
  path(max) {
    const parts = [this.ident()]
    while (parts.length < max && this.optPunct('.')) parts.push(this.ident())
    return parts
  }
  literal() {
    const tok = this.peek()
    if (tok?.t !== 'str' && tok?.t !== 'num') this.fail()
    this.i++
    return tok.v
  }
  end() {
    if (this.peek()) this.fail()
  }
}

/** Parses one statement into a plain object the executor understands. */
export function parse(text) {
  const p = new Parser(tokenize(text))
  while (p.optPunct(';')) {}
  const stmt = statement(p)
  while (p.optPunct(';')) {}
  p.end()
  return stmt
}

function statement(p) {
  if (p.optKw('SHOW')) {
    const extended = p.optKw('EXTENDED')
    if (p.optKw('PROVIDERS')) return { kind: 'show_providers', extended }
    for (const [word, kind, parts] of [
      ['SERVICES', 'show_services', 1],
      ['RESOURCES', 'show_resources', 2],
      ['METHODS', 'show_methods', 3],
    ]) {
      if (p.optKw(word)) return { kind, extended, ...inPath(p, parts) }
    }
    p.fail()
  }
  if (p.optKw('DESCRIBE') || p.optKw('DESC')) {
    const extended = p.optKw('EXTENDED')
    return { kind: 'describe', extended, path: p.path(3) }
  }
  if (p.optKw('REGISTRY')) {
    if (p.optKw('LIST')) return { kind: 'registry_list', provider: p.peek() ? p.ident() : undefined }
    if (p.optKw('PULL')) {
      const provider = p.ident()
      const version = p.peek()?.t === 'str' ? p.literal() : undefined
      return { kind: 'registry_pull', provider, version }
    }
    p.fail()
  }
  if (p.optKw('SELECT')) return select(p)
  for (const [word, next] of [
    ['INSERT', 'INTO'],
    ['DELETE', 'FROM'],
    ['UPDATE', null],
    ['EXEC', null],
  ]) {
    if (p.optKw(word)) {
      if (next) p.kw(next)
      const path = p.path(word === 'EXEC' ? 4 : 3)
      p.i = p.tokens.length // the rest (values, WHERE) is not interpreted
      return { kind: 'mutation', verb: word, path }
    }
  }
  p.fail()
}

function inPath(p, parts) {
  p.kw('IN')
  const path = p.path(parts)
  if (path.length !== parts) p.fail()
  const like = p.optKw('LIKE') ? p.literal() : undefined
  return { path, like }
}

/** SQL LIKE ('%' any run, '_' one character), case-insensitive as in SQLite. */
export function likeMatcher(pattern) {
  const re = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.')
  return new RegExp(`^${re}$`, 'is')
}

function select(p) {
  const items = []
  do {
    if (p.optPunct('*')) items.push({ star: true })
    else if (p.isKw('COUNT')) {
      p.i++
      p.punct('(')
      p.punct('*')
      p.punct(')')
      items.push({ count: true, as: alias(p) ?? 'count(*)' })
    } else {
      const [qualifier, name] = qualified(p)
      items.push({ column: name, qualifier, as: alias(p) ?? name })
    }
  } while (p.optPunct(','))
  p.kw('FROM')
  const path = p.path(3)
  if (path.length !== 3) p.fail()
  // JOIN (multi-provider queries): FROM p.s.r a [INNER] JOIN p.s.r b ON a.x = b.y [AND b.c = 'v'] ...
  const from = sourceAlias(p)
  const joins = []
  while (p.optKw('INNER') || p.isKw('JOIN')) {
    p.kw('JOIN')
    const jpath = p.path(3)
    if (jpath.length !== 3) p.fail()
    const jalias = sourceAlias(p)
    p.kw('ON')
    joins.push({ path: jpath, alias: jalias, on: conditions(p) })
  }
  const where = p.optKw('WHERE') ? conditions(p) : []
  const groupBy = []
  if (p.optKw('GROUP')) {
    p.kw('BY')
    do groupBy.push(p.ident())
    while (p.optPunct(','))
  }
  let orderBy
  if (p.optKw('ORDER')) {
    p.kw('BY')
    orderBy = { column: p.ident(), desc: p.optKw('DESC') || (p.optKw('ASC') && false) }
  }
  let limit
  if (p.optKw('LIMIT')) limit = Number(p.literal())
  return { kind: 'select', items, path, alias: from, joins, where, groupBy, orderBy, limit }
}

const CLAUSE_WORDS = new Set(['WHERE', 'JOIN', 'INNER', 'ON', 'GROUP', 'ORDER', 'LIMIT', 'AND'])

function sourceAlias(p) {
  if (p.optKw('AS')) return p.ident()
  const tok = p.peek()
  return tok?.t === 'id' && !CLAUSE_WORDS.has(tok.v.toUpperCase()) ? p.ident() : undefined
}

/** `col` or `alias.col` -> [alias | undefined, col] */
function qualified(p) {
  const first = p.ident()
  return p.optPunct('.') ? [first, p.ident()] : [undefined, first]
}

function conditions(p) {
  const out = []
  do {
    const [qualifier, column] = qualified(p)
    if (p.optKw('IN')) {
      p.punct('(')
      const values = [p.literal()]
      while (p.optPunct(',')) values.push(p.literal())
      p.punct(')')
      out.push({ qualifier, column, values })
    } else {
      p.punct('=')
      const tok = p.peek()
      if (tok?.t === 'id') {
        const [rq, rc] = qualified(p)
        out.push({ qualifier, column, equals: { qualifier: rq, column: rc } })
      } else out.push({ qualifier, column, values: [p.literal()] })
    }
  } while (p.optKw('AND'))
  return out
}

function alias(p) {
  if (p.optKw('AS')) return p.ident()
  return undefined
}
