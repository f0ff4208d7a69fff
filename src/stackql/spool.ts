// StackQL's output spooled to a file (scheduled runs): the runner writes stdout to disk instead of
// memory, checks it once (one JSON array of objects; its columns and row count), and the inventory
// writer reads the rows from the file again on each of its passes, a batch at a time — so a run's
// memory does not grow with the size of its result.
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Row, RowSource } from '../models.js'
import { JsonRowsError, JsonRowsParser } from './json-rows.js'
import { asRowObject, formatErrorMessage, OutputFormatError, unwrapRow } from './output.js'

/** Bytes read per chunk (one batch of rows per chunk). */
const CHUNK = 1 << 20

/** A fresh spool file path in `dir` (default: the OS temp directory). */
export function spoolPath(dir = tmpdir()): string {
  return join(dir, `stackql-spool-${process.pid}-${randomBytes(6).toString('hex')}.json`)
}

export async function removeSpool(path: string): Promise<void> {
  await rm(path, { force: true })
}

/** The elements of the file's JSON array, a chunk at a time; throws JsonRowsError on bad output. */
async function* elements(path: string): AsyncIterable<unknown[]> {
  const parser = new JsonRowsParser()
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK })) {
    const out = parser.push(chunk as string)
    if (out.length) yield out
  }
  const last = parser.end()
  if (last.length) yield last
}

/** The rows of a checked spool file (see surveySpool), re-read on every pass. */
export class SpooledRows implements RowSource {
  constructor(
    readonly path: string,
    readonly columns: string[],
    readonly rowCount: number,
  ) {}

  async *batches(): AsyncIterable<readonly Row[]> {
    for await (const items of elements(this.path)) yield items.map((item) => unwrapRow(asRowObject(item)))
  }
}

/**
 * Reads the spooled output once: every element must be an object; the columns are the first row's
 * keys plus keys first seen later (as parseRows does), the rows are counted, none is kept.
 * Throws OutputFormatError with parseRows' messages.
 */
export async function surveySpool(path: string): Promise<SpooledRows> {
  const columns: string[] = []
  const seen = new Set<string>()
  let rowCount = 0
  try {
    for await (const items of elements(path)) {
      for (const item of items) {
        const row = asRowObject(item)
        for (const key in row) {
          if (!seen.has(key)) {
            seen.add(key)
            columns.push(key)
          }
        }
        rowCount++
      }
    }
  } catch (e) {
    if (!(e instanceof JsonRowsError)) throw e
    throw new OutputFormatError(formatErrorMessage(e, await head(path)))
  }
  return new SpooledRows(path, columns, rowCount)
}

/** The beginning of the file (for an error message's preview). */
async function head(path: string): Promise<string> {
  for await (const chunk of createReadStream(path, { encoding: 'utf8', start: 0, end: 64 * 1024 }))
    return chunk as string
  return ''
}
