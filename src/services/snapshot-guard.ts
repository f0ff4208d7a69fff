// Whether a query result may replace an inventory table (become its snapshot). A scheduled run
// writes only a complete result, and never one that shrinks the table suspiciously: the previous
// rows are worth more than a snapshot StackQL itself said was broken.

export interface SnapshotCandidate {
  /** schema.table, for the message. */
  target: string
  result: {
    rows: readonly unknown[]
    /** Rows of a spooled result (its `rows` is empty). */
    spooled?: { rowCount: number }
    message?: string
    complete: boolean
    incomplete?: string
  }
  /** Rows the table holds now; null when it does not exist yet. */
  previousRows: number | null
  /** The schedule's shrink guard (1–100), or null when it is off. */
  shrinkGuardPct: number | null
}

const rows = (n: number) => `${n} ${n === 1 ? 'row' : 'rows'}`

/** Why the result must not be written (one message for the run record), or null when it may. */
export function snapshotRefusal(c: SnapshotCandidate): string | null {
  const { target, result, previousRows } = c
  const got = result.spooled?.rowCount ?? result.rows.length
  const kept =
    previousRows === null ? `${target} was not created` : `${target} keeps its previous ${rows(previousRows)}`
  if (!result.complete) {
    return `Incomplete result: StackQL printed ${rows(got)} but reported an error, so this is not a complete snapshot and nothing was written (${kept}). StackQL: ${result.incomplete ?? 'no message'}`
  }
  if (previousRows === null || previousRows === 0) return null
  // Always on: StackQL wrote something to stderr and a full table would become empty.
  if (got === 0 && result.message) {
    return `StackQL returned no rows but wrote to stderr, so the empty result was not taken as a snapshot (${kept}). StackQL: ${result.message}`
  }
  const pct = c.shrinkGuardPct
  if (pct !== null && got * 100 < previousRows * pct) {
    const share = Math.floor((got * 1000) / previousRows) / 10
    return `Shrink guard: the new snapshot has ${rows(got)}, ${share}% of the previous ${rows(previousRows)}, and this schedule refuses less than ${pct}% (${kept}). If the drop is expected, lower or turn off the schedule's shrink guard and run again.`
  }
  return null
}
