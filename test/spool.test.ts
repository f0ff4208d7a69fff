// Spooled output (scheduled runs): StackQL's stdout goes to a file, is checked once, and its rows are
// read from the file on every pass — the same rows, errors and completeness as the in-memory path.
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Row } from '../src/models.js'
import { OutputFormatError } from '../src/stackql/output.js'
import { spoolPath, surveySpool } from '../src/stackql/spool.js'
import { pulledRunner, tempDir } from './helpers/stackql.js'

const all = async (source: { batches(): AsyncIterable<readonly Row[]> }) => {
  const rows: Row[] = []
  for await (const batch of source.batches()) rows.push(...batch)
  return rows
}

t.test('a spooled result has the rows, columns and count of the in-memory one, on every pass', async (t) => {
  const { runner } = await pulledRunner(t, ['stackql_test'])
  const dir = tempDir(t)
  for (const q of [
    'SELECT * FROM stackql_test.util.nulls',
    "SELECT * FROM stackql_test.util.rows WHERE count = '5000'",
  ]) {
    const memory = await runner.run(q)
    const file = spoolPath(dir)
    const spooled = await runner.run(q, { spoolFile: file })
    t.same(spooled.rows, [], 'nothing is held in memory')
    t.same(spooled.columns, memory.columns)
    t.equal(spooled.spooled?.rowCount, memory.rows.length)
    t.equal(spooled.outputBytes, memory.outputBytes)
    // In memory, rows missing a later key get it as null; spooled rows just lack it (the writer writes NULL).
    const full = (rows: Row[]) =>
      rows.map((r) => Object.fromEntries(memory.columns.map((c) => [c, r[c] ?? null])))
    t.strictSame(
      full(await all(spooled.spooled!)),
      memory.rows,
      `${q}: the same rows (NULL wrappers unwrapped)`,
    )
    t.strictSame(full(await all(spooled.spooled!)), memory.rows, 'a second pass reads them again')
  }
})

t.test(
  'rows with an error are an incomplete spooled result; an error without rows still rejects',
  async (t) => {
    const { runner } = await pulledRunner(t, ['stackql_test'])
    const dir = tempDir(t)
    const partial = await runner.run("SELECT * FROM stackql_test.util.partial WHERE count = '30'", {
      spoolFile: spoolPath(dir),
    })
    t.equal(partial.complete, false)
    t.equal(partial.spooled?.rowCount, 10)
    t.match(partial.incomplete, /403/)
    await t.rejects(runner.run('SELECT * FROM stackql_test.util.crash', { spoolFile: spoolPath(dir) }), {
      code: 'STACKQL_QUERY',
    })
  },
)

t.test(
  'spooled output that is not one JSON array of objects is refused with the in-memory messages',
  async (t) => {
    const dir = tempDir(t)
    const cases: [string, RegExp][] = [
      ['<html>oops</html>', /StackQL printed output that is not JSON: <html>oops/],
      ['{"a": 1}', /StackQL printed JSON that is not an array/],
      ['[1, 2]', /StackQL printed a row that is not an object: 1/],
      ['[{"a": 1}][{"a": 2}]', /several result sets/],
      ['[{"a": 1},', /not JSON/],
    ]
    for (const [text, message] of cases) {
      const file = join(dir, `case-${cases.findIndex((c) => c[0] === text)}.json`)
      writeFileSync(file, text)
      await t.rejects(surveySpool(file), { message }, text)
      t.ok((await surveySpool(file).catch((e) => e)) instanceof OutputFormatError, 'an output format error')
    }
    const empty = join(dir, 'empty.json')
    writeFileSync(empty, '')
    t.equal((await surveySpool(empty)).rowCount, 0, 'no output is no rows')
    t.same(
      readdirSync(dir).filter((f) => f.startsWith('stackql-spool-')),
      [],
      'only files the test wrote are here',
    )
  },
)
