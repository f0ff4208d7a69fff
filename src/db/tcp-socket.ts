// The sockets postgres.js talks to PostgreSQL over, opened with TCP_NODELAY. postgres.js opens its
// own with Nagle's algorithm on; the last small write of a COPY (the CopyDone after the data) then
// waits for the server to acknowledge the previous segment — Linux delays that ACK by up to ~40 ms —
// at every COPY of an inventory write (the staged rows, the keys that went, the digests: ~120 ms of
// a small delta write were spent waiting). Used through postgres.js's `socket` option. The socket is
// handed over while it connects, as postgres.js's own is: writes wait in it until it is connected,
// and a refused or failed connection reaches postgres.js as the socket's `error` and `close`
// events, so its connect timeout, retries and error messages work as without the option. TLS
// (SSLRequest) is still negotiated by postgres.js on top of it.
import net from 'node:net'

interface SocketOptions {
  host: string[]
  port: number[]
  path?: string | false
}

type Named = net.Socket & { host?: string; port?: number }

let next = 0

/** postgres.js `socket` option: a socket connecting (with TCP_NODELAY) to the next configured host. */
export function noDelaySocket(options: SocketOptions): net.Socket {
  if (options.path) return net.connect({ path: options.path })
  // Several hosts are taken in turn, one per new connection, as postgres.js does.
  const i = options.host.length > 1 ? next++ % options.host.length : 0
  const host = options.host[i]!
  const port = options.port[i] ?? options.port[0]!
  const socket: Named = net.connect({ host, port, noDelay: true })
  // postgres.js reads these for TLS (the server name) and its error messages.
  socket.host = host
  socket.port = port
  return socket
}
