// The chat's markdown renderer treats model output as hostile; and the prompts built for the IDE.
import t from 'tap'
import {
  explainPrompt,
  interpretPrompt,
  isSafeLinkUrl,
  renderMarkdown,
  rowsToMarkdownTable,
} from '../src/render/markdown.js'

/** Every tag in the output, and every attribute of every tag, must be on this list. */
const ALLOWED_TAGS = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'ul',
  'ol',
  'li',
  'strong',
  'em',
  's',
  'code',
  'pre',
  'blockquote',
  'a',
  'span',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'hr',
  'br',
])
const ALLOWED_ATTRS = new Set(['href', 'target', 'rel', 'class', 'style', 'start'])

/** Everything in the HTML that is not on the allow-lists above; empty means safe. */
function unsafeParts(html: string): string[] {
  const found: string[] = []
  for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
    const tag = m[1]!.toLowerCase()
    if (!ALLOWED_TAGS.has(tag)) found.push(`<${tag}>`)
    for (const a of (m[2] ?? '').matchAll(/([^\s=/]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/g)) {
      const name = a[1]!.toLowerCase()
      const value = a[2] ?? ''
      if (!ALLOWED_ATTRS.has(name)) found.push(`${name}=`)
      if (name === 'href' && !/^"(https?:\/\/|mailto:)/i.test(value)) found.push(`href=${value}`)
      if (name === 'style' && !/^"text-align:(left|right|center)"$/.test(value)) found.push(`style=${value}`)
    }
  }
  return found
}

const attacks: [string, string][] = [
  ['script tag', '<script>alert(1)</script>'],
  ['inline script in paragraph', 'Hello <script>alert(1)</script> world'],
  ['img onerror', '<img src=x onerror=alert(1)>'],
  ['raw html block', '<div onclick="alert(1)">\n\n*x*\n\n</div>'],
  ['iframe', '<iframe src="https://evil.example"></iframe>'],
  ['svg onload', '<svg onload=alert(1)>'],
  ['javascript link', '[click](javascript:alert(1))'],
  ['mixed-case javascript link', '[x](jAvAsCrIpT:alert(1))'],
  ['entity-encoded javascript link', '[x](&#106;avascript:alert(1))'],
  ['tab-split javascript link', '[x](java&#x09;script:alert(1))'],
  ['vbscript link', '[x](vbscript:msgbox(1))'],
  ['data uri link', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['data uri image', '![x](data:image/png;base64,iVBORw0KGgo=)'],
  ['javascript autolink', '<javascript:alert(1)>'],
  ['reference link to javascript', '[x][r]\n\n[r]: javascript:alert(1)'],
  ['protocol-relative link', '[x](//evil.example/path)'],
  ['relative link', '[x](/admin/delete)'],
  ['link title breakout', '[x](https://a.example "t\\" onmouseover=\\"alert(1))'],
  ['attribute breakout in href', '[x](https://a.example/"onmouseover="alert(1))'],
  ['code fence info breakout', '```"><script>alert(1)</script>\ncode\n```'],
  ['html in table', '| a |\n|---|\n| <b onmouseover=alert(1)>x</b> |'],
  ['html comment', '<!-- x --><script>alert(1)</script>'],
  ['tracking image', '![pixel](https://tracker.example/p.gif)'],
]

t.test('model output cannot produce executable or loading HTML', async (t) => {
  for (const [label, input] of attacks) {
    const html = renderMarkdown(input)
    t.same(unsafeParts(html), [], label)
    t.notMatch(html, /<(script|img|iframe|svg|object|embed|style|form|input)/i, label)
  }
})

t.test('raw HTML is shown as text, not interpreted', async (t) => {
  t.equal(renderMarkdown('<script>alert(1)</script>'), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n')
  t.match(renderMarkdown('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert(1)&gt;')
})

t.test('unsafe links render as plain text, without an anchor', async (t) => {
  for (const input of [
    '[x](jAvAsCrIpT:alert(1))',
    '[x](data:text/html,hi)',
    '[x](/relative)',
    '<javascript:alert(1)>',
  ]) {
    const html = renderMarkdown(input)
    t.notMatch(html, /<a /, input)
  }
  t.match(renderMarkdown('[x](jAvAsCrIpT:alert(1))'), '[x](jAvAsCrIpT:alert(1))')
})

t.test('safe links open in a new tab with noopener noreferrer nofollow', async (t) => {
  t.equal(
    renderMarkdown('[docs](https://stackql.io/docs)'),
    '<p><a href="https://stackql.io/docs" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>\n',
  )
  t.match(
    renderMarkdown('[mail](mailto:ops@example.com)'),
    '<a href="mailto:ops@example.com" target="_blank"',
  )
})

t.test('bare URLs and autolinks become safe links', async (t) => {
  t.match(
    renderMarkdown('see https://example.com/x for more'),
    '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer nofollow">',
  )
  t.match(renderMarkdown('<https://example.com/y>'), '<a href="https://example.com/y" target="_blank"')
})

t.test('images never load: the alt text is shown, linked when the URL is safe', async (t) => {
  t.equal(
    renderMarkdown('![a chart](https://img.example/c.png)'),
    '<p><a href="https://img.example/c.png" target="_blank" rel="noopener noreferrer nofollow" class="md-image">[image: a chart]</a></p>\n',
  )
  t.equal(
    renderMarkdown('![<b>x</b>](data:image/png;base64,AAAA)'),
    '<p>![&lt;b&gt;x&lt;/b&gt;](data:image/png;base64,AAAA)</p>\n',
  )
})

t.test('normal markdown renders: headings, lists, emphasis, code and tables', async (t) => {
  const html = renderMarkdown(
    [
      '## Findings',
      '',
      '- **3** instances are *stopped*',
      '- `t3.micro` is common',
      '',
      '1. first',
      '2. second',
      '',
      '```sql',
      "SELECT a FROM b WHERE c = 'd' AND e < 5",
      '```',
      '',
      '| region | count |',
      '|:--|--:|',
      '| us-east-1 | 4 |',
    ].join('\n'),
  )
  t.match(html, '<h2>Findings</h2>')
  t.match(html, '<li><strong>3</strong> instances are <em>stopped</em></li>')
  t.match(html, '<code>t3.micro</code>')
  t.match(html, '<ol>')
  t.match(html, '<pre><code class="language-sql">SELECT a FROM b WHERE c = \'d\' AND e &lt; 5\n</code></pre>')
  t.match(html, '<table>')
  t.match(html, '<th style="text-align:left">region</th>')
  t.match(html, '<td style="text-align:right">4</td>')
  t.same(unsafeParts(html), [])
})

t.test('isSafeLinkUrl accepts only absolute http(s) and mailto', async (t) => {
  for (const ok of ['https://a.example', 'HTTP://a.example', 'mailto:a@b.c']) t.ok(isSafeLinkUrl(ok), ok)
  for (const bad of ['javascript:x', 'data:text/html,x', '//a.example', '/x', '#top', 'ftp://a', 'http:x']) {
    t.notOk(isSafeLinkUrl(bad), bad)
  }
})

t.test(
  'rowsToMarkdownTable escapes pipes and newlines, stringifies objects and shows nulls empty',
  async (t) => {
    const table = rowsToMarkdownTable(
      ['name', 'tags', 'note', 'size'],
      [{ name: 'a|b', tags: { env: 'prod', n: [1, 2] }, note: 'line1\nline2\r\nline3', size: null }],
    )
    t.equal(
      table,
      [
        '| name | tags | note | size |',
        '| --- | --- | --- | --- |',
        '| a\\|b | {"env":"prod","n":[1,2]} | line1 line2 line3 |  |',
      ].join('\n'),
    )
    const html = renderMarkdown(table)
    t.match(html, '<td>a|b</td>', 'the escaped pipe renders inside its cell')
    t.match(html, '<td>line1 line2 line3</td>')
  },
)

t.test('a backslash before a pipe stays literal and does not end the cell', async (t) => {
  const html = renderMarkdown(rowsToMarkdownTable(['p'], [{ p: 'C:\\|x' }]))
  t.match(html, '<td>C:\\|x</td>')
})

t.test('rowsToMarkdownTable shows the first 20 rows and says how many there were', async (t) => {
  const rows = Array.from({ length: 55 }, (_, i) => ({ id: i, ok: i % 2 === 0, big: BigInt(i) }))
  const table = rowsToMarkdownTable(['id', 'ok', 'big'], rows)
  const lines = table.split('\n')
  t.equal(lines.filter((l) => l.startsWith('| ') && /^\| \d/.test(l)).length, 20)
  t.match(table, '| 19 | false | 19 |')
  t.notMatch(table, '| 20 |')
  t.match(table, '_First 20 of 55 rows._')
  t.notMatch(rowsToMarkdownTable(['id'], rows.slice(0, 5)), 'First')
  t.match(rowsToMarkdownTable(['id'], rows.slice(0, 5), 20, 5000), '_First 5 of 5000 rows._')
  t.match(rowsToMarkdownTable(['id'], []), '_No rows._')
})

t.test('very long cell values are shortened', async (t) => {
  const table = rowsToMarkdownTable(['v'], [{ v: 'x'.repeat(5000) }])
  t.ok(table.length < 500)
  t.match(table, 'x…')
})

t.test('explainPrompt wraps the query in a sql fence the query cannot close', async (t) => {
  const prompt = explainPrompt("  SELECT name FROM google.compute.instances WHERE project = 'p'  ")
  t.match(prompt, /^Explain this StackQL query/)
  t.match(prompt, "```sql\nSELECT name FROM google.compute.instances WHERE project = 'p'\n```")
  const tricky = explainPrompt('SELECT 1 -- ```\nSELECT 2')
  t.match(tricky, '````sql\nSELECT 1 -- ```\nSELECT 2\n````')
  t.throws(() => explainPrompt('   '), { code: 'VALIDATION' })
})

t.test('interpretPrompt states the total row count and carries the table', async (t) => {
  const table = rowsToMarkdownTable(['id'], [{ id: 1 }])
  t.equal(interpretPrompt(table, 1), `Interpret these StackQL query results (1 row in total):\n\n${table}`)
  t.match(interpretPrompt(table, 1234), '(1234 rows in total)')
})
