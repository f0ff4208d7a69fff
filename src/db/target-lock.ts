// The advisory lock that serialises writers of one inventory table (inventory-writer.ts): class
// "STKW", key hashtext('<schema>.<table>'), held until the transaction ends. Whoever changes what
// the writer keeps about a table (its digest set: digest-orphans.ts) takes it too.
import type { Sql } from './connect.js'

export const TARGET_LOCK_CLASS = 0x5354_4b57

/** Waits for the target's lock (bounded by the transaction's lock_timeout). */
export async function lockTarget(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(${TARGET_LOCK_CLASS}, hashtext(${`${schema}.${table}`}))`
}

/** Takes the target's lock if nobody holds it; false when a writer does. */
export async function tryLockTarget(tx: Sql, schema: string, table: string): Promise<boolean> {
  const [r] = await tx<{ ok: boolean }[]>`
    select pg_try_advisory_xact_lock(${TARGET_LOCK_CLASS}, hashtext(${`${schema}.${table}`})) as ok`
  return r?.ok === true
}
