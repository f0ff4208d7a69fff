// Where the string literals and comments of a (masked) statement are, so a placeholder inside one
// can be refused. Follows StackQL's tokenizer rules ('...', "...", `...` with doubled quotes and
// backslash escapes; --, #, // line comments; /* */ block comments).
// TODO(int-tokenizer): replace by the shared tokenizer's tokens once that branch is merged.

export interface LiteralContext {
  kind: 'string' | 'comment'
  start: number
  end: number
}

export function literalContexts(text: string): LiteralContext[] {
  const out: LiteralContext[] = []
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text[i]!
    const next = text[i + 1]
    if (c === "'" || c === '"' || c === '`') {
      const start = i
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
      out.push({ kind: 'string', start, end: Math.min(i, n) })
      continue
    }
    if ((c === '-' && next === '-') || c === '#' || (c === '/' && next === '/')) {
      const start = i
      while (i < n && text[i] !== '\n') i++
      out.push({ kind: 'comment', start, end: i })
      continue
    }
    if (c === '/' && next === '*') {
      const start = i
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? n : end + 2
      out.push({ kind: 'comment', start, end: i })
      continue
    }
    i++
  }
  return out
}
