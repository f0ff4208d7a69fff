// The delta write's high-churn strategy (delta.ts): when a large share of the rows in scope was
// modified, deleting the rows in scope and inserting every staged row costs less than updating each
// (200k rows modified: ~1.3 s -> ~0.55 s). Unchanged rows are then written again too, so it is not
// for a table someone gave triggers of their own or that foreign keys reference (their DELETE would
// fire or cascade). And the comparison must still describe the table when the rows are deleted: a
// row someone inserted by hand after the comparison read the table would be deleted without a
// change record (the row-by-row path leaves it, and the next run records it). So the write first
// takes a SHARE ROW EXCLUSIVE lock on the table — readers go on, other writers wait until COMMIT —
// and replaces only when the edit guard (edit-guard.ts) counted no edit since the write began.
// Waiting for the lock is bounded (a hand transaction left open, an anti-wraparound vacuum): past
// REPLACE_LOCK_WAIT the write applies the difference row by row instead. Autovacuum gives way to
// the lock request after deadlock_timeout (1 s by default).
import type postgres from 'postgres'
import type { Sql } from './connect.js'
import { EDIT_GUARD_TRIGGER, editsSql } from './edit-guard.js'

/**
 * Modified rows from which the write replaces every row in scope instead of updating each: at least
 * this share of the rows in scope, and this many (below, the cost is small and unchanged rows stay
 * untouched).
 */
export const REPLACE_SHARE = 0.4
export const REPLACE_MIN_ROWS = 1000
/** How long the write waits for its lock before it updates row by row instead. */
export const REPLACE_LOCK_WAIT = '2s'

/**
 * What the write knows of the table's edits: the edit guard's count when it began, or `locked` when
 * this transaction already holds a lock that keeps other writers out (it put the guard on).
 */
export type EditsAtStart = { count: number } | { locked: true }

export interface ReplaceInput {
  schema: string
  table: string
  /** Rows modified, and the rows in scope before the write. */
  modified: number
  before: number
  edits: EditsAtStart | undefined
}

/** Whether to replace the rows in scope whole (then holding the lock that makes it safe). */
export async function shouldReplace(tx: Sql, input: ReplaceInput): Promise<boolean> {
  if (input.modified < Math.max(REPLACE_MIN_ROWS, REPLACE_SHARE * input.before)) return false
  if (!input.edits || (await hasDependents(tx, input.schema, input.table))) return false
  if ('locked' in input.edits) return true
  if (!(await lockTable(tx, input.schema, input.table))) return false
  const [row] = await tx<{ n: string }[]>`select ${editsSql(tx, input.schema, input.table)}::text as n`
  return Number(row?.n) === input.edits.count
}

/** The table has triggers other than the writer's edit guard, or foreign keys point at it. */
async function hasDependents(tx: Sql, schema: string, table: string): Promise<boolean> {
  const [row] = await tx<{ yes: boolean }[]>`
    select exists (select 1 from pg_trigger g where g.tgrelid = c.oid and not g.tgisinternal
                   and g.tgname <> ${EDIT_GUARD_TRIGGER})
        or exists (select 1 from pg_constraint k where k.confrelid = c.oid and k.contype = 'f') as yes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${table}`
  return row?.yes === true
}

/** SHARE ROW EXCLUSIVE until COMMIT, waiting at most REPLACE_LOCK_WAIT; false when it timed out. */
async function lockTable(tx: Sql, schema: string, table: string): Promise<boolean> {
  const [setting] = await tx<{ was: string }[]>`select current_setting('lock_timeout') as was`
  try {
    // In a savepoint: a lock timeout rolls back to it, and the transaction goes on.
    await (tx as unknown as postgres.TransactionSql).savepoint(async (sp) => {
      await sp`select set_config('lock_timeout', ${REPLACE_LOCK_WAIT}, true)`
      await sp`lock table ${sp(schema)}.${sp(table)} in share row exclusive mode`
    })
    return true
  } catch (e) {
    if ((e as { code?: string }).code === '55P03') return false
    throw e
  } finally {
    await tx`select set_config('lock_timeout', ${setting!.was}, true)`
  }
}
