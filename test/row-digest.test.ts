// The delta write's hashes (row-digest.ts) and the table they are looked up in (digest-table.ts):
// what counts as the same content, and a hash table that finds every stored pair.
import t from 'tap'
import { DigestTable, KeyHashList } from '../src/db/digest-table.js'
import { rowHasher } from '../src/db/row-digest.js'

const h = rowHasher('1234567890123')

t.test('content: equal values digest equally; any change of value, type or name does not', async (t) => {
  const row = { id: 'i-1', n: '1', tags: { env: 'dev', ports: [22, 443] }, on: true }
  const same = { id: 'i-1', n: '1', tags: { env: 'dev', ports: [22, 443] }, on: true }
  t.equal(h.content(row), h.content(same))
  t.equal(
    h.content(row),
    h.content(row),
    'a second digest of one row is the same (no state leaks between calls)',
  )
  const others = [
    { ...row, n: 1 },
    { ...row, n: '2' },
    { ...row, on: false },
    { ...row, on: 'true' },
    { ...row, tags: { env: 'dev', ports: [443, 22] } },
    { ...row, tags: { env: 'dev', ports: [22, 443, null] } },
    { ...row, tags: { env: 'prod', ports: [22, 443] } },
    { id: 'i-1', m: '1', tags: row.tags, on: true },
    { id: 'i-1', n: '1', tags: row.tags, on: true, extra: null },
    { id: 'i-1n', n: '', tags: row.tags, on: true },
    { ...row, n: null },
    { ...row, n: 10n },
  ]
  const digests = new Set([h.content(row), ...others.map((o) => h.content(o))])
  t.equal(digests.size, others.length + 1, 'every variant has its own digest')
  t.not(
    h.content({ a: 'xy', b: 'z' }),
    h.content({ a: 'x', b: 'yz' }),
    'values cannot shift into one another',
  )
  t.not(
    h.content({ d: new Date(0) }),
    h.content({ d: new Date(1000) }),
    'a Date digests as what it is stored as, not as an empty object',
  )
  t.not(rowHasher('1').content(row), h.content(row), 'another seed, another digest')
})

t.test('keys: slice and key values; NULL or missing key values give no key', async (t) => {
  const row = { id: 'i-1', region: 'eu', x: 1 }
  t.equal(h.key(row, ['id'], ''), h.key({ id: 'i-1', other: 2 }, ['id'], ''))
  t.not(h.key(row, ['id'], 'prod'), h.key(row, ['id'], 'dev'), 'the slice is part of the key')
  t.not(h.key(row, ['id', 'region'], ''), h.key(row, ['id'], ''))
  t.equal(h.key({ id: null }, ['id'], ''), null)
  t.equal(h.key({}, ['id'], ''), null)
  t.not(h.key(row, ['id'], ''), h.content(row), 'keys and contents are hashed apart')
})

t.test('the digest table finds every pair it holds and nothing else', async (t) => {
  const n = 50_000
  const table = new DigestTable(1000) // a hint below the pairs to come: the table grows
  const key = (i: number) => (i * 2_654_435_761) % 2 ** 53
  for (let i = 0; i < n; i++) table.set(key(i), i)
  t.equal(table.size, n)
  let wrong = 0
  for (let i = 0; i < n; i++) if (table.digestAt(table.find(key(i))) !== i) wrong++
  t.equal(wrong, 0, 'every key hash finds its digest')
  t.equal(table.find(key(n) + 1), -1)
  const probe = Float64Array.of(key(1), Number.NaN, key(n) + 1, key(2))
  const found = new Int32Array(4)
  table.findMany(probe, 3, found)
  t.same(
    [...found],
    [table.find(key(1)), -1, -1, 0],
    'findMany: a row without a key (NaN) finds nothing; only `count` are looked up',
  )
  t.equal(table.mark(table.find(key(3))), true)
  t.equal(table.mark(table.find(key(3))), false, 'a second sighting of a key hash is reported')
  t.equal(table.digestAt(table.find(key(3))), 3, 'a seen entry keeps its digest')
  t.equal(table.unseen().length, n - 1)
  // The overlay over the packs: a newer digest replaces, a tombstone removes, a later entry revives.
  table.set(key(5), 123)
  t.equal(table.digestAt(table.find(key(5))), 123)
  table.remove(key(6))
  table.remove(key(n) + 1) // not held: nothing happens
  t.equal(table.find(key(6)), -1, 'a removed entry is not found')
  t.equal(table.size, n - 1)
  t.notOk(table.unseen().includes(key(6)), 'nor listed as gone')
  t.equal(table.unseen().length, n - 2)
  table.set(key(6), 66)
  t.equal(table.digestAt(table.find(key(6))), 66)
  t.equal(table.size, n)
  const edge = new DigestTable(4)
  edge.set(0, 0)
  edge.set(2 ** 53 - 1, 2 ** 53 - 1)
  t.equal(edge.digestAt(edge.find(0)), 0, 'key hash 0 and digest 0 are entries like any other')
  t.equal(edge.mark(edge.find(0)), true)
  t.equal(edge.mark(edge.find(0)), false)
  t.equal(edge.digestAt(edge.find(2 ** 53 - 1)), 2 ** 53 - 1)
  t.same(edge.unseen(), [2 ** 53 - 1])
  const list = new KeyHashList()
  for (let i = 0; i < 3000; i++) list.push(key(i))
  t.equal(list.hasDuplicate(), false)
  list.push(key(7))
  t.equal(list.hasDuplicate(), true)
})
