// Server-Sent Events written straight to the socket of a hijacked reply: one frame per event,
// multi-line data split into `data:` lines as the SSE format requires, and write backpressure honoured.
import { once } from 'node:events'
import type { FastifyReply } from 'fastify'

export interface SseWriter {
  /** Sends one event; resolves when the socket can take more. False once the client has gone. */
  send(event: string, data: string): Promise<boolean>
  end(): void
  readonly closed: boolean
}

export function sseFrame(event: string, data: string): string {
  const lines = data.replace(/\r\n?/g, '\n').split('\n')
  return `event: ${event}\n${lines.map((l) => `data: ${l}`).join('\n')}\n\n`
}

/** Takes the response over from Fastify and answers `text/event-stream` (never cached, never buffered). */
export function openSse(reply: FastifyReply): SseWriter {
  reply.hijack()
  const raw = reply.raw
  const headers: Record<string, string | number | string[]> = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value as string | number | string[]
  }
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  })
  const gone = () => raw.destroyed || raw.writableEnded
  return {
    get closed() {
      return gone()
    },
    async send(event, data) {
      if (gone()) return false
      if (!raw.write(sseFrame(event, data))) {
        await Promise.race([once(raw, 'drain'), once(raw, 'close')])
      }
      return !gone()
    },
    end() {
      if (!gone()) raw.end()
    },
  }
}
