// Where the string literals and comments of a (masked) statement are, so a placeholder inside one
// can be refused. The shared tokenizer (src/stackql/tokenizer.ts) follows StackQL's own rules; input
// it refuses (an unterminated string, /*! ... */) is refused here too, with its message.
import { tokenize } from '../stackql/tokenizer.js'

export interface LiteralContext {
  kind: 'string' | 'comment'
  start: number
  end: number
}

export function literalContexts(text: string): LiteralContext[] {
  const out: LiteralContext[] = []
  for (const t of tokenize(text)) {
    if (t.kind === 'string' || t.kind === 'comment' || t.kind === 'quoted_ident') {
      out.push({ kind: t.kind === 'comment' ? 'comment' : 'string', start: t.start, end: t.end })
    }
  }
  return out
}
