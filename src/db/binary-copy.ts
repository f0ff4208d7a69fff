// Reads PostgreSQL's binary COPY format (`COPY (...) TO STDOUT (FORMAT binary)`) as it streams in,
// tuple by tuple: values arrive as the server stores them — a bytea as its bytes, a bigint as eight —
// instead of as the text protocol's hex and decimal text (reading 200k packed digest pairs as hex
// cost ~35-65 ms, most of it encoding and decoding 6.4 MB of text; a cursor added a round trip a row).
// Format: an 11-byte signature, flags and a header extension; per tuple a 16-bit field count, then
// per field a 32-bit length (-1 = NULL) and the bytes; a count of -1 ends the data.

import { Readable } from 'node:stream'
import type { Sql } from './connect.js'

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
const HEADER = SIGNATURE.length + 8

/**
 * Called per tuple with the buffer and the offset of its first field's length word. The buffer is
 * reused: read what the tuple holds before returning.
 */
export type TupleVisitor = (buf: Buffer, at: number, fields: number) => void

/**
 * Runs `COPY (...) TO STDOUT (FORMAT binary)` (trusted SQL text: COPY takes no parameters) and
 * returns its stream for readBinaryCopy. Two things about postgres.js's COPY streams are mended as
 * it creates the stream (through its query's `resolve`, which hands the stream over):
 * - it destroys the stream on an error answer that came in the same socket read as the COPY's start
 *   — before the caller can listen — and an 'error' nobody listens to would crash the process: a
 *   listener is put on at once, and readBinaryCopy reads the error from the stream (`errored`);
 * - it pauses its socket whenever `push` reports a full buffer, and resumes it only on the stream's
 *   next read; when the COPY's end came in the same socket read, no read follows and the
 *   transaction's next query is never answered. `push` reports room always: readBinaryCopy takes
 *   every chunk as it comes (flowing), so the buffer holds at most one socket read.
 */
export async function copyOut(tx: Sql, text: string): Promise<Readable> {
  const query = tx.unsafe(text)
  const hook = query as unknown as { resolve?: (x: unknown) => unknown }
  const resolve = hook.resolve
  if (typeof resolve !== 'function')
    throw new Error('postgres.js no longer hands COPY streams over as expected')
  hook.resolve = (x) => {
    if (x instanceof Readable) {
      x.on('error', () => {})
      const push = x.push.bind(x)
      x.push = (chunk: unknown, encoding?: BufferEncoding) => {
        push(chunk, encoding)
        return true
      }
    }
    return resolve(x)
  }
  return await query.readable()
}

/**
 * Visits every tuple of the stream (from copyOut); resolves to how many there were. Rejects on a
 * malformed stream or a failed query. The stream is read in flowing mode, each chunk parsed as it
 * comes.
 */
export function readBinaryCopy(stream: Readable, visit: TupleVisitor): Promise<number> {
  const parser = new Parser(visit)
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (e: unknown) => {
      if (settled) return
      settled = true
      stream.off('data', onData)
      stream.resume() // keep draining: the rest of the COPY must still be read off the connection
      reject(e)
    }
    const onData = (chunk: Buffer) => {
      try {
        parser.feed(chunk)
      } catch (e) {
        fail(e)
      }
    }
    if (stream.destroyed) {
      fail(stream.errored ?? new Error('the binary COPY stream was closed before it was read'))
      return
    }
    stream.on('data', onData)
    stream.on('error', fail)
    stream.once('end', () => {
      if (settled) return
      if (!parser.done) fail(new Error('the binary COPY stream ended early'))
      else {
        settled = true
        resolve(parser.tuples)
      }
    })
    // Destroyed without an 'end' (an error answered before this listened: see copyOut).
    stream.once('close', () => fail(stream.errored ?? new Error('the binary COPY stream ended early')))
  })
}

class Parser {
  private acc = Buffer.allocUnsafe(64 * 1024)
  private len = 0
  private pos = 0
  private header = false
  done = false
  tuples = 0

  constructor(private readonly visit: TupleVisitor) {}

  feed(chunk: Buffer): void {
    if (this.done) return
    this.append(chunk)
    const acc = this.acc
    const len = this.len
    if (!this.header) {
      if (len < HEADER) return
      if (!acc.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream')
      const extension = acc.readUInt32BE(SIGNATURE.length + 4)
      if (len < HEADER + extension) return
      this.pos = HEADER + extension
      this.header = true
    }
    let pos = this.pos
    for (;;) {
      if (len - pos < 2) break
      const fields = acc.readInt16BE(pos)
      if (fields === -1) {
        this.done = true
        break
      }
      let p = pos + 2
      let complete = true
      for (let f = 0; f < fields; f++) {
        if (len - p < 4) {
          complete = false
          break
        }
        const l = acc.readInt32BE(p)
        p += 4 + Math.max(l, 0)
        if (p > len) {
          complete = false
          break
        }
      }
      if (!complete) break
      this.visit(acc, pos + 2, fields)
      this.tuples++
      pos = p
    }
    this.pos = pos
  }

  /** Appends a chunk: first drops what was read, then grows (a tuple larger than the buffer). */
  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.acc.length) {
      this.acc.copy(this.acc, 0, this.pos, this.len)
      this.len -= this.pos
      this.pos = 0
      if (this.len + chunk.length > this.acc.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.acc.length * 2, this.len + chunk.length))
        this.acc.copy(grown, 0, 0, this.len)
        this.acc = grown
      }
    }
    chunk.copy(this.acc, this.len)
    this.len += chunk.length
  }
}

/** A non-negative bigint below 2^53 (a key hash, a digest) at `at`: exact as a number. */
export function readUint53(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4)
}
