// Where the inventory writer reads a run's rows from: an array in memory, or a source that reads them
// again from the start on every pass (a spooled StackQL output file, fan-out slices one after
// another), in batches, so the writer's memory does not grow with the result.
import type { Row, RowSource } from '../models.js'

export type { RowSource }

export interface InventoryData {
  /** Result column names in order; keys found only in rows are appended. */
  columns: readonly string[]
  rows: readonly Row[] | RowSource
}

const BATCH = 2000

export function isRowSource(rows: InventoryData['rows']): rows is RowSource {
  return !Array.isArray(rows) && typeof (rows as RowSource).batches === 'function'
}

/** One pass over the rows of `data`, in batches (an array is sliced, never copied whole). */
export async function* passOver(data: InventoryData): AsyncIterable<readonly Row[]> {
  const rows = data.rows
  if (isRowSource(rows)) {
    yield* rows.batches()
    return
  }
  const list = rows as readonly Row[]
  for (let i = 0; i < list.length; i += BATCH) yield list.slice(i, i + BATCH)
}
