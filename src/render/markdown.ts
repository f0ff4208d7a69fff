// Safe rendering of the assistant's (untrusted) markdown, and the prompts the IDE sends on the
// user's behalf ("Explain Query", "Interpret Results").
import markdownIt, { type MarkdownIt } from 'markdown-it'
import { AppError } from '../errors.js'
import { jsonText } from './format.js'

const SAFE_URL = /^(https?:\/\/|mailto:)/i
const LINK_REL = 'noopener noreferrer nofollow'

/** Only absolute http(s) and mailto links; anything else (javascript:, data:, relative, //host) stays text. */
export function isSafeLinkUrl(url: string): boolean {
  return SAFE_URL.test(url.trim())
}

function createRenderer(): MarkdownIt {
  // html: false escapes every raw tag; typographer stays off so code samples are not altered.
  const md = markdownIt({ html: false, linkify: true, typographer: false, langPrefix: 'language-' })
  md.validateLink = isSafeLinkUrl
  const escapeHtml = md.utils.escapeHtml

  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    const token = tokens[idx]!
    token.attrSet('target', '_blank')
    token.attrSet('rel', LINK_REL)
    return self.renderToken(tokens, idx, options)
  }
  // No <img>: a model-chosen image URL would load on render (a tracking pixel). Show the alt text,
  // as a link to the image when its URL is safe.
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!
    const alt = self.renderInlineAsText(token.children ?? [], options, env).trim()
    const src = String(token.attrGet('src') ?? '')
    const label = escapeHtml(`image: ${alt || src || 'untitled'}`)
    if (src && isSafeLinkUrl(src)) {
      return `<a href="${escapeHtml(src)}" target="_blank" rel="${LINK_REL}" class="md-image">[${label}]</a>`
    }
    return `<span class="md-image">[${label}]</span>`
  }
  return md
}

const renderer = createRenderer()

/** Renders model output to HTML that is safe to insert into the page: no raw HTML, no script, safe links. */
export function renderMarkdown(text: string): string {
  return renderer.render(text)
}

const MAX_CELL_CHARS = 300

function cellText(value: unknown): string {
  let s: string
  if (value === null || value === undefined) s = ''
  else if (typeof value === 'string') s = value
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    s = String(value)
  else if (value instanceof Date) s = value.toISOString()
  else s = jsonText(value)
  s = s.replace(/\r\n|\r|\n/g, ' ')
  if (s.length > MAX_CELL_CHARS) s = `${s.slice(0, MAX_CELL_CHARS)}…`
  // `|` ends a cell: escape it, doubling any backslashes before it so they stay literal.
  return s.replace(/(\\*)\|/g, (_m, slashes: string) => `${slashes}${slashes}\\|`)
}

/**
 * The first `maxRows` rows as a markdown table for "Interpret Results". Cells: null -> empty,
 * objects as JSON, newlines as spaces, `|` escaped, long values shortened. A note says when rows were left out.
 */
export function rowsToMarkdownTable(
  columns: string[],
  rows: Record<string, unknown>[],
  maxRows = 20,
  totalRows = rows.length,
): string {
  if (columns.length === 0) return '_The result has no columns._'
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const shown = rows.slice(0, Math.max(0, maxRows))
  const out = [line(columns.map(cellText)), line(columns.map(() => '---'))]
  for (const row of shown) out.push(line(columns.map((c) => cellText(row[c]))))
  if (totalRows === 0) out.push('', '_No rows._')
  else if (totalRows > shown.length) out.push('', `_First ${shown.length} of ${totalRows} rows._`)
  return out.join('\n')
}

/** A code fence longer than any backtick run inside the text, so the text cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  return '`'.repeat(Math.max(3, longest + 1))
}

/** The "Explain Query" prompt, sent as if the user had typed it. */
export function explainPrompt(queryText: string): string {
  const query = queryText.trim()
  if (query === '')
    throw new AppError('VALIDATION', 'There is no query to explain: write one in the editor first.')
  const fence = fenceFor(query)
  return [
    'Explain this StackQL query: what it returns, which provider resources and parameters it uses, and anything that looks wrong or could be improved.',
    '',
    `${fence}sql`,
    query,
    fence,
  ].join('\n')
}

/** The "Interpret Results" prompt: the table from rowsToMarkdownTable plus the result's size. */
export function interpretPrompt(table: string, totalRows: number): string {
  const size = totalRows === 1 ? '1 row' : `${totalRows} rows`
  return [`Interpret these StackQL query results (${size} in total):`, '', table].join('\n')
}
