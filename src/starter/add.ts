// Adding starter queries to the saved library: idempotent (a starter already there is left alone)
// and never overwriting a query the user changed (same name, different statement: theirs is kept).
import type { Query, QueryInput } from '../models.js'
import type { StarterQuery } from './library.js'

/** What adding needs from the database (DbService has it). */
export interface QueryStore {
  getQueries(): Promise<readonly Query[]>
  saveQuery(input: QueryInput, createdBy: string): Promise<Query>
}

export interface AddOutcome {
  /** Newly saved. */
  added: StarterQuery[]
  /** Already in the library, unchanged. */
  present: StarterQuery[]
  /** A saved query of that name differs from the starter: the user's version was kept. */
  kept: StarterQuery[]
}

const same = (a: string, b: string) => a.trim() === b.trim()

/** The saved query a starter became (matched by name), if any. */
export function savedFor(starter: StarterQuery, saved: readonly Query[]): Query | undefined {
  return saved.find((q) => q.name === starter.name)
}

export async function addStarters(
  store: QueryStore,
  starters: StarterQuery[],
  user: string,
): Promise<AddOutcome> {
  const saved = await store.getQueries()
  const out: AddOutcome = { added: [], present: [], kept: [] }
  for (const s of starters) {
    const existing = savedFor(s, saved)
    if (existing) {
      ;(same(existing.query_text, s.statement) && existing.provider === s.provider
        ? out.present
        : out.kept
      ).push(s)
      continue
    }
    await store.saveQuery(
      { name: s.name, description: s.description, query_text: s.statement, provider: s.provider },
      user,
    )
    out.added.push(s)
  }
  return out
}

/** What the New Schedule dialog is pre-filled with from a starter query. */
export interface SchedulePrefill {
  starterId: string
  name: string
  cron: string
  table: string
  /** Key columns: carried for the history issue (schedules have no keys column yet) and ignored on save. */
  keys: string[]
  /** The saved query the starter became, when it has been added to the library. */
  queryId?: number
}

export function schedulePrefill(starter: StarterQuery, saved: readonly Query[]): SchedulePrefill {
  return {
    starterId: starter.id,
    name: starter.name,
    cron: starter.cron,
    table: starter.table,
    keys: starter.keys,
    queryId: savedFor(starter, saved)?.id,
  }
}
