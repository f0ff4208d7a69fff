// The PostgreSQL sockets (src/db/tcp-socket.ts): opened with TCP_NODELAY through postgres.js's
// `socket` option, and still failing the way postgres.js's own do when nothing listens.
import net from 'node:net'
import postgres from 'postgres'
import t from 'tap'
import { NO_DELAY } from '../src/db/connect.js'
import { noDelaySocket } from '../src/db/tcp-socket.js'
import { adminUrl } from './helpers/db.js'

const listen = async (t: { teardown(fn: () => unknown): void }) => {
  const seen: net.Socket[] = []
  const server = net.createServer((s) => seen.push(s))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of seen) s.destroy()
    server.close()
  })
  return { port: (server.address() as net.AddressInfo).port, seen }
}

t.test('a socket connects to the configured host, named for TLS and error messages', async (t) => {
  const a = await listen(t)
  const b = await listen(t)
  const options = { host: ['127.0.0.1', '127.0.0.1'], port: [a.port, b.port] }
  const sockets = [noDelaySocket(options), noDelaySocket(options)] as (net.Socket & { host?: string })[]
  await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))))
  t.same(
    sockets.map((s) => s.host),
    ['127.0.0.1', '127.0.0.1'],
  )
  t.same([a.seen.length, b.seen.length], [1, 1], 'several hosts are taken in turn')
  for (const s of sockets) s.destroy()
})

t.test('queries run over it; a refused connection is an error, not a hang', async (t) => {
  const sql = postgres(adminUrl(), { max: 1, onnotice: () => {}, ...NO_DELAY })
  t.teardown(() => sql.end())
  const [r] = await sql<{ one: number }[]>`select 1 as one`
  t.equal(r?.one, 1)
  const refused = postgres({ host: '127.0.0.1', port: 1, max: 1, connect_timeout: 2, ...NO_DELAY })
  t.teardown(() => refused.end({ timeout: 0 }))
  await t.rejects(refused`select 1`, { code: 'ECONNREFUSED' })
  await t.rejects(refused`select 1`, { code: 'ECONNREFUSED' }, 'the pool tries again and fails again')
})
