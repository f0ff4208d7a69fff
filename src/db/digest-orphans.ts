// Digest sets (digests.ts) of inventory tables that no longer exist — dropped or renamed by hand:
// nothing writes them again under that name, so their set, packs and entries table (one per table,
// digest-entries.ts) would stay forever. The run's housekeeping (services/run-support.ts, with the
// change-record retention) drops them. A table being written right now is left alone: its writer
// holds the target's lock (target-lock.ts) and may be creating the table in its transaction.
import type { Sql } from './connect.js'
import { dropDigests } from './digests.js'
import { tryLockTarget } from './target-lock.js'

/**
 * Drops the digests of every table that is gone (a set per table, in this version and the previous
 * one, whose rows of the shared `inventory_digests` go with it); returns the tables they were of.
 */
export async function dropOrphanDigests(sql: Sql): Promise<{ schema: string; table: string }[]> {
  const orphans = await sql<{ schema: string; table: string }[]>`
    select target_schema as schema, target_table as table from stackql_app.inventory_digest_sets
    where to_regclass(quote_ident(target_schema) || '.' || quote_ident(target_table)) is null
    order by 1, 2`
  const dropped: { schema: string; table: string }[] = []
  for (const { schema, table } of orphans) {
    const done = await sql.begin(async (t) => {
      const tx = t as unknown as Sql
      if (!(await tryLockTarget(tx, schema, table))) return false
      // Under the lock: a writer that created the table meanwhile has committed it.
      const [still] = await tx<{ gone: boolean }[]>`
        select to_regclass(quote_ident(${schema}) || '.' || quote_ident(${table})) is null as gone`
      if (!still?.gone) return false
      await dropDigests(tx, schema, table)
      await tx`delete from stackql_app.inventory_digests where target_schema = ${schema} and target_table = ${table}`
      return true
    })
    if (done) dropped.push({ schema, table })
  }
  return dropped
}
