// The binary COPY reader (src/db/binary-copy.ts) against PostgreSQL's own output: tuples of every
// size (one larger than the reader's buffer and than a socket read), NULLs, no rows; the query after
// a COPY in the same transaction is answered (postgres.js could leave its socket paused); malformed,
// truncated and failing streams reject instead of hanging — and a COPY whose error comes with its
// first answer (the division by zero below, most runs) does not crash the process (copyOut).
import { Readable } from 'node:stream'
import postgres from 'postgres'
import t from 'tap'
import { copyOut, readBinaryCopy, readUint53 } from '../src/db/binary-copy.js'
import type { Sql } from '../src/db/connect.js'
import { testDb } from './helpers/db.js'

const copy = (tx: Sql, query: string) => copyOut(tx, `copy (${query}) to stdout (format binary)`)

t.test(
  'every tuple is visited with its fields, whatever its size, and the next query is answered',
  async (t) => {
    const { sql } = await testDb(t)
    await sql.begin(async (tx) => {
      const seen: [number, number | null, number][] = []
      const n = await readBinaryCopy(
        await copy(
          tx as unknown as Sql,
          `select g::bigint * 4294967296 + 7, case when g % 2 = 0 then null else g end::bigint,
           decode(repeat('ab', (g * 70000)::int), 'hex')
         from generate_series(1, 4) g`,
        ),
        (buf, at, fields) => {
          t.equal(fields, 3)
          const key = readUint53(buf, at + 4)
          const second = buf.readInt32BE(at + 12)
          const digest = second < 0 ? null : readUint53(buf, at + 16)
          const third = at + 16 + Math.max(second, 0)
          const bytes = buf.subarray(third + 4, third + 4 + buf.readInt32BE(third))
          t.ok(
            bytes.every((b) => b === 0xab),
            'the bytea arrives as its bytes',
          )
          seen.push([key, digest, bytes.length])
        },
      )
      t.equal(n, 4)
      t.same(seen, [
        [4294967296 + 7, 1, 70000],
        [2 * 4294967296 + 7, null, 140000],
        [3 * 4294967296 + 7, 3, 210000],
        [4 * 4294967296 + 7, null, 280000],
      ])
      t.equal(
        await readBinaryCopy(await copy(tx as unknown as Sql, 'select 1 where false'), () => {}),
        0,
        'no rows',
      )
      const [after] = await tx<{ one: number }[]>`select 1 as one`
      t.equal(after?.one, 1, 'the transaction goes on after the COPY')
    })
  },
)

t.test('the transaction answers its next query after COPYs of every size (no paused socket)', async (t) => {
  const { url } = await testDb(t)
  // A client of its own: a connection whose socket stays paused cannot even roll back; it is closed.
  const client = postgres(url, { max: 1, onnotice: () => {} })
  let answered = 0
  const sizes = [20_000, 40_000, 60_000, 100_000, 20_000, 40_000, 60_000, 100_000]
  const run = client.begin(async (tx) => {
    for (const size of sizes) {
      await readBinaryCopy(
        await copy(tx as unknown as Sql, `select decode(repeat('ab', ${size}), 'hex')`),
        () => {},
      )
      await tx`select 1 as one`
      answered++
    }
  })
  const timer = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())
  const outcome = await Promise.race([run.then(() => 'done' as const), timer])
  if (outcome === 'hung') await client.end({ timeout: 0 })
  else await client.end()
  await run.catch(() => {})
  t.equal(outcome, 'done', 'every query after a COPY was answered')
  t.equal(answered, sizes.length)
})

t.test('a stream that is not a binary COPY, or ends early, or whose query fails, rejects', async (t) => {
  await t.rejects(
    readBinaryCopy(Readable.from([Buffer.from('id\tname\n1\tx\n'.repeat(3))]), () => {}),
    {
      message: 'not a binary COPY stream',
    },
  )
  const { sql } = await testDb(t)
  const whole = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = []
    copy(sql, 'select g::bigint from generate_series(1, 3) g')
      .then((s) =>
        s
          .on('data', (c: Buffer) => parts.push(c))
          .on('end', () => resolve(Buffer.concat(parts)))
          .on('error', reject),
      )
      .catch(reject)
  })
  let visited = 0
  await t.rejects(
    readBinaryCopy(Readable.from([whole.subarray(0, whole.length - 5)]), () => visited++),
    { message: 'the binary COPY stream ended early' },
  )
  t.equal(visited, 2, 'the whole tuples before the cut were visited')
  const sliced = [...whole].map((b) => Buffer.of(b)) // one byte at a time
  t.equal(await readBinaryCopy(Readable.from(sliced), () => {}), 3, 'tuples split across chunks are whole')
  await t.rejects(
    copy(sql, 'select 1 / (g - 3) from generate_series(1, 5) g').then((s) => readBinaryCopy(s, () => {})),
    /division by zero/,
  )
  const [still] = await sql<{ one: number }[]>`select 1 as one`
  t.equal(still?.one, 1, 'the connection is usable after the failed COPY')
})
