// The providers a statement references (provider.service.resource in FROM, JOIN, sub-queries,
// INSERT INTO ...), outside strings and comments, in order of first appearance.
// TODO(int-tokenizer): delegate to the shared tokenizer's referencedProviders once merged.
import { literalContexts } from './placeholder-context.js'

const RESOURCE =
  /(?<![A-Za-z0-9_$.])([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*[A-Za-z_][A-Za-z0-9_]*\s*\.\s*[A-Za-z_][A-Za-z0-9_]*/g

export function referencedProviders(text: string): string[] {
  let code = text
  for (const c of literalContexts(text)) {
    code = code.slice(0, c.start) + ' '.repeat(c.end - c.start) + code.slice(c.end)
  }
  const out: string[] = []
  for (const m of code.matchAll(RESOURCE)) {
    const p = m[1]!.toLowerCase()
    if (!out.includes(p)) out.push(p)
  }
  return out
}
