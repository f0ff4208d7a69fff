// Finding 2 of issue 12: StackQL's JSON output is parsed without rounding numbers — the lossless,
// incremental rows parser against tricky JSON, fed whole and in every possible pair of chunks.
import t from 'tap'
import { JsonRowsParser, parseExact } from '../src/stackql/json-rows.js'
import { parseRows } from '../src/stackql/output.js'

function parseChunked(text: string, at: number[]): unknown[] {
  const p = new JsonRowsParser()
  const out: unknown[] = []
  let from = 0
  for (const cut of [...at, text.length]) {
    out.push(...p.push(text.slice(from, cut)))
    from = cut
  }
  out.push(...p.end())
  return out
}

const TRICKY = [
  '{"s": "quote \\" backslash \\\\ slash \\/ controls \\b\\f\\n\\r\\t"}',
  '{"u": "\\u00e9\\u4e2d\\ud83d\\ude80 é 中 🚀", "lone": "\\ud800x"}',
  '{"nested": {"a": [1, [2, {"b": "]}"}], {}], "c": {"d": null}}, "e": []}',
  '{"ws"  :\t\r\n  "x" ,\n "n" : -12 }',
  '{"exp": 1e3, "neg": -2.5E-3, "small": 0.1, "z": 0, "plus": 1E+2}',
  '{"t": true, "f": false, "n": null, "": "empty key", "__proto__": 1}',
  '{"brace in string": "{[", "escaped quote at end\\"": "\\\\"}',
]

t.test('finding 2: tricky JSON parses exactly as JSON.parse does when no number is at risk', async (t) => {
  const text = `  [${TRICKY.join(' ,\n')}]  `
  const expected = JSON.parse(text)
  t.same(parseChunked(text, []), expected)
  for (const row of TRICKY) t.same(parseExact(row), JSON.parse(row), row)
  t.same(Object.keys(parseExact(TRICKY[5]!) as object), ['t', 'f', 'n', '', '__proto__'])
  t.ok(Object.is((parseExact('{"z": -0}') as { z: number }).z, -0), 'negative zero keeps its sign')
  t.ok(Object.is(parseRows('[{"z": -0.0}]').rows[0]!.z, -0))
})

t.test(
  'finding 2: numbers a double cannot hold exactly stay their token text, everywhere in a row',
  async (t) => {
    const { rows } = parseRows(
      '[{"id": 9007199254740993, "ok": 9007199254740992, "u64": 18446744073709551615, "neg": -9223372036854775809,' +
        ' "long": 0.1000000000000000055511151231257827, "inf": 1e400, "tiny": 1e-400, "e": 1.5e300, "fine": 1e21,' +
        ' "deep": {"a": [12345678901234567890, 1.25]}}]',
    )
    t.same(rows[0], {
      id: '9007199254740993',
      ok: 9007199254740992,
      u64: '18446744073709551615',
      neg: '-9223372036854775809',
      long: '0.1000000000000000055511151231257827',
      inf: '1e400',
      tiny: '1e-400',
      e: '1.5e300',
      fine: 1e21,
      deep: { a: ['12345678901234567890', 1.25] },
    })
  },
)

t.test('finding 2: the parser gives the same rows whatever the chunks the text arrives in', async (t) => {
  const text = `[${TRICKY.join(',')}, {"big": 12345678901234567890, "x": "a\\\\\\"b"}]`
  const whole = parseChunked(text, [])
  t.equal(whole.length, TRICKY.length + 1)
  let same = 0
  for (let a = 0; a <= text.length; a += 3) {
    for (let b = a; b <= text.length; b += 17) {
      const got = parseChunked(text, [a, b])
      if (JSON.stringify(got) === JSON.stringify(whole)) same++
      else t.fail(`different at cuts ${a}, ${b}`)
    }
  }
  t.ok(same > 100, `${same} ways of cutting the text gave the same rows`)
  const p = new JsonRowsParser()
  t.same(p.push('[{"a":1},{"b"'), [{ a: 1 }], 'a row comes out as soon as it is complete')
  t.same(p.push(':2}]'), [{ b: 2 }])
  t.same(p.end(), [])
})

t.test(
  'finding 2: what is not one JSON array of objects is refused with the same messages as before',
  async (t) => {
    t.same(parseRows(''), { columns: [], rows: [] })
    t.same(parseRows(' null \n'), { columns: [], rows: [] })
    t.same(parseRows('[]'), { columns: [], rows: [] })
    t.throws(() => parseRows('{"a":1}'), /not an array/)
    t.throws(() => parseRows('[1,2]'), /not an object/)
    t.throws(() => parseRows('[{"a":1}, "x"]'), /not an object/)
    t.throws(() => parseRows('<html>'), /not JSON/)
    t.throws(() => parseRows('[{"a":1}] [{"a":2}]'), /several result sets/)
    for (const bad of [
      '[{"a":1},]',
      '[{"a":01}]',
      '[{"a":1',
      '[{"a":"x\ny"}]',
      '[{"a":"\\x"}]',
      '[{"a":tru}]',
      '[{"a":1}}',
      'nul',
      '[{"a":-}]',
      '[{"a":.5}]',
    ]) {
      t.throws(() => parseRows(bad), /not JSON/, bad)
    }
  },
)
