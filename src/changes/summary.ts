// How a run's change counts read on the pages: "+added −removed ~modified", or "baseline" for a
// table's first run (counts only). Framework-free; used by the Schedules run history.
import type { Run } from '../models.js'

/** "+3 −1 ~2", "baseline", or null when the run recorded no counts (failed, running, older version). */
export function changeCountsText(
  run: Pick<Run, 'added_count' | 'removed_count' | 'modified_count' | 'changes_baseline'>,
): string | null {
  if (run.added_count == null || run.removed_count == null || run.modified_count == null) return null
  if (run.changes_baseline) return 'baseline'
  return `+${run.added_count} −${run.removed_count} ~${run.modified_count}`
}

/** Key column suggestions from a query's result columns: id, arn, *_id, self_link, resource_id, name (+ _profile). */
export function suggestKeyColumns(columns: readonly string[], fansOut = false): string[] {
  const rank = (c: string): number => {
    const l = c.toLowerCase()
    if (l === 'id' || l === 'arn' || l === 'resource_id' || l === 'self_link' || l === 'selflink') return 0
    if (l.endsWith('_id') || /[a-z]Id$/.test(c)) return 1
    if (l === 'name') return 2
    return -1
  }
  const picked = columns.filter((c) => rank(c) >= 0 && c !== '_profile').sort((a, b) => rank(a) - rank(b))
  return fansOut || columns.includes('_profile') ? [...picked, '_profile'] : picked
}
