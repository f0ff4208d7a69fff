// The statement tokenizer follows StackQL's own (stackql-parser go/vt/sqlparser/token.go) and
// refuses what it cannot be sure of. Issue 12, finding 4.
import t, { type Test } from 'tap'
import { AppError } from '../src/errors.js'
import { codeTokens, identifierValue, type Token, tokenize } from '../src/stackql/tokenizer.js'

const kinds = (text: string) => tokenize(text).map((tk) => [tk.kind, tk.text])
const code = (text: string) => codeTokens(tokenize(text)).map((tk) => [tk.kind, tk.text])

function refused(t: Test, text: string, says: RegExp) {
  try {
    tokenize(text)
    t.fail(`expected a refusal of ${JSON.stringify(text)}`)
  } catch (err) {
    t.ok(err instanceof AppError, 'an AppError')
    t.equal((err as AppError).code, 'VALIDATION', JSON.stringify(text))
    t.match((err as AppError).message, says, JSON.stringify(text))
  }
}
declare namespace Tap {
  type Test = typeof t
}

t.test(
  'finding 4: offsets of every token point into the original text, and the tokens cover it',
  async (t) => {
    const text = 'sElEcT "naïve""x", \'ünï ☃ 🙂\' -- note\n, 1.5e3 FROM a.b.c # end'
    const tokens = tokenize(text)
    let at = 0
    for (const tk of tokens) {
      t.equal(tk.start, at, `token ${JSON.stringify(tk.text)} starts where the previous ended`)
      t.equal(text.slice(tk.start, tk.end), tk.text)
      at = tk.end
    }
    t.equal(at, text.length, 'the tokens cover the whole text')
    const quoted = tokens.find((tk) => tk.kind === 'quoted_ident') as Token
    t.equal(identifierValue(quoted), 'naïve"x', 'a doubled double quote is one quote')
  },
)

t.test('finding 4: comments are #, --, // to the end of the line, and /* */', async (t) => {
  t.same(code('SELECT 1 # x ; DELETE\n'), [
    ['word', 'SELECT'],
    ['number', '1'],
  ])
  t.same(code('SELECT 1 -- x ; DELETE'), [
    ['word', 'SELECT'],
    ['number', '1'],
  ])
  t.same(
    code('SELECT 1 --x ; DELETE'),
    [
      ['word', 'SELECT'],
      ['number', '1'],
    ],
    '"--" needs no space after it in StackQL',
  )
  t.same(
    code('SELECT 1--1'),
    [
      ['word', 'SELECT'],
      ['number', '1'],
    ],
    '"1--1" is 1 and a comment',
  )
  t.same(code("SELECT 1 // '\n; x"), [
    ['word', 'SELECT'],
    ['number', '1'],
    ['punct', ';'],
    ['word', 'x'],
  ])
  t.same(code('SELECT /* ; */ 1 /**/'), [
    ['word', 'SELECT'],
    ['number', '1'],
  ])
  t.same(
    code('SELECT 1 -- a\rDELETE'),
    [
      ['word', 'SELECT'],
      ['number', '1'],
    ],
    'only \\n ends a line comment',
  )
  t.same(code('SELECT 4/2, a->b, a->>b, a<=>b'), [
    ['word', 'SELECT'],
    ['number', '4'],
    ['punct', '/'],
    ['number', '2'],
    ['punct', ','],
    ['word', 'a'],
    ['punct', '->'],
    ['word', 'b'],
    ['punct', ','],
    ['word', 'a'],
    ['punct', '->>'],
    ['word', 'b'],
    ['punct', ','],
    ['word', 'a'],
    ['punct', '<=>'],
    ['word', 'b'],
  ])
})

t.test(
  'finding 4: strings take backslash escapes and doubled quotes; double quotes take doubled quotes only',
  async (t) => {
    t.same(kinds("'it''s; -- fine'"), [['string', "'it''s; -- fine'"]])
    t.same(kinds("'x\\'; y'"), [['string', "'x\\'; y'"]])
    t.same(kinds("'a\\\\'"), [['string', "'a\\\\'"]], 'an escaped backslash does not escape the quote')
    t.same(
      code('"a\\"; DELETE'),
      [
        ['quoted_ident', '"a\\"'],
        ['punct', ';'],
        ['word', 'DELETE'],
      ],
      'a backslash is ordinary in "..."',
    )
    t.same(kinds("x'0aFF' b'101'"), [
      ['string', "x'0aFF'"],
      ['space', ' '],
      ['string', "b'101'"],
    ])
    t.same(kinds('@region = :v @@x @"a b"'), [
      ['word', '@region'],
      ['space', ' '],
      ['punct', '='],
      ['space', ' '],
      ['punct', ':v'],
      ['space', ' '],
      ['word', '@@x'],
      ['space', ' '],
      ['word', '@"a b"'],
    ])
  },
)

t.test(
  'finding 4: what StackQL would read differently, or cannot read, is refused with its position',
  async (t) => {
    const cases: [string, RegExp][] = [
      [
        '/*!INSERT INTO aws.s3.buckets */ SELECT 1',
        /\/\*! \.\.\. \*\/ comment at line 1, column 1.*runs the inside/,
      ],
      ['SELECT 1 /*!50000 , 2 */', /\/\*!.*column 10/],
      ["SELECT 'abc", /unterminated string at line 1, column 8 \(near "'abc"\)/],
      ["SELECT 'abc\\", /unterminated string/],
      ['SELECT "abc', /unterminated double-quoted identifier/],
      ['SELECT 1 /* open', /unterminated \/\* comment/],
      ['SELECT ""', /empty double-quoted identifier/],
      ['SELECT `a`', /backtick.*double quotes/],
      ["SELECT 'a\u0000b'", /NUL/],
      ['SELECT naïve FROM t', /character "ï" \(U\+00EF\).*only inside quotes/],
      ['SELECT 🙂', /U\+1F642/],
      ['SELECT\u00a01', /U\+00A0/],
      ['SELECT\f1', /control character U\+000C/],
      ['SELECT a[0]', /character "\["/],
      ['SELECT 1abc', /number followed directly by a letter/],
      ["SELECT x'; DELETE'", /malformed hex literal/],
      ["SELECT x'abc'", /malformed hex literal/],
      ["SELECT b'102'", /malformed bit literal/],
      ["SELECT @a'; DELETE FROM t; '", /quote directly after an @ variable/],
      ['SELECT @;', /@ that does not start a variable/],
      ['SELECT :1', /bind variable/],
      ['SELECT 1\n  FROM t WHERE a = "x', /line 2, column 20/],
    ]
    for (const [text, says] of cases) refused(t, text, says)
  },
)

t.test('finding 4: unicode and emoji are fine inside strings, quoted identifiers and comments', async (t) => {
  t.same(code('SELECT "名前", \'🙂;\' -- ☃ ; x\n/* 🙂 */'), [
    ['word', 'SELECT'],
    ['quoted_ident', '"名前"'],
    ['punct', ','],
    ['string', "'🙂;'"],
  ])
})
