// Finds the SQL an assistant answer proposes: the first fenced ```sql block, for "Insert into editor".

const OPENING_FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/

interface Fence {
  indent: string
  marker: string
  info: string
}

function openingFence(line: string): Fence | undefined {
  const m = OPENING_FENCE.exec(line)
  if (!m) return undefined
  const [, indent = '', marker = '', info = ''] = m
  // CommonMark: a backtick fence's info string cannot contain backticks (that is inline code).
  if (marker.startsWith('`') && info.includes('`')) return undefined
  return { indent, marker, info: info.trim() }
}

function closesFence(line: string, fence: Fence): boolean {
  const trimmed = line.trim()
  const char = fence.marker[0]!
  if (trimmed.length < fence.marker.length) return false
  return [...trimmed].every((c) => c === char)
}

/** The info string's language word is `sql` (any case); attributes may follow: `sql title="x"`, `sql {.a}`. */
function isSqlInfo(info: string): boolean {
  const language = info.split(/[\s{]/, 1)[0] ?? ''
  return language.toLowerCase() === 'sql'
}

/** Removes up to the opening fence's indentation from a content line, as CommonMark does. */
function dedent(line: string, indent: string): string {
  let i = 0
  while (i < indent.length && i < line.length && (line[i] === ' ' || line[i] === '\t')) i++
  return line.slice(i)
}

/**
 * Returns the first fenced sql block (``` or ~~~, info string `sql` in any case) without its fences,
 * trimmed; null when there is none.
 *
 * Decisions: blocks in other languages are skipped whole, so a ```sql example nested inside a
 * ````markdown block is not picked. An unclosed ```sql fence returns null: it means the answer was
 * cut off, and inserting half a query into the editor is worse than offering nothing. An empty
 * sql block is skipped and the search continues. Fences may be indented (answers put them in lists).
 */
export function extractSql(response: string): string | null {
  const lines = response.split(/\r\n|\r|\n/)
  let i = 0
  while (i < lines.length) {
    const fence = openingFence(lines[i]!)
    i++
    if (!fence) continue
    const body: string[] = []
    let closed = false
    while (i < lines.length) {
      const line = lines[i]!
      i++
      if (closesFence(line, fence)) {
        closed = true
        break
      }
      body.push(dedent(line, fence.indent))
    }
    if (!closed) return null
    if (!isSqlInfo(fence.info)) continue
    const sql = body.join('\n').trim()
    if (sql !== '') return sql
  }
  return null
}
