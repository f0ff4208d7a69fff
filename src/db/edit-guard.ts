// The edit guard of a keyed inventory table: a statement trigger that counts every INSERT, UPDATE,
// DELETE or TRUNCATE made outside the writer in stackql_app.inventory_edits (the function is in
// scripts/init_lakebase.sql; the writer marks its own transaction with `stackql.writer = on`). The
// delta write trusts a table's digest set (digests.ts) only while the table's edits are the ones its
// last write saw; an edit — even one that keeps the row count — makes the next run compare every
// row. A table without the guard (made by a previous version, or with the trigger disabled) is
// checked by counting its rows, as before; the writer puts the guard on when it is missing.
// Creating the trigger takes a SHARE ROW EXCLUSIVE lock until COMMIT: other writers wait (they do
// anyway, on the writer's advisory lock), readers do not.
import type { PendingQuery, Row as PgRow } from 'postgres'
import type { Sql } from './connect.js'

const TRIGGER = 'stackql_edit_guard'
/** The guard's trigger name (the delta write tells it from triggers someone else put on a table). */
export const EDIT_GUARD_TRIGGER = TRIGGER

/** Marks the writer's transaction: its own statements are not edits. */
export const WRITER_SETTING = 'stackql.writer'

/** SQL: the table carries the guard, enabled (a disabled trigger counts nothing). */
export function guardedSql(tx: Sql, schema: string, table: string): PendingQuery<PgRow[]> {
  return tx`exists (select 1 from pg_trigger g
    where g.tgrelid = to_regclass(quote_ident(${schema}) || '.' || quote_ident(${table}))
      and g.tgname = ${TRIGGER} and g.tgenabled in ('O', 'A'))`
}

/** SQL: the edits counted for the table so far (0 before the first). */
export function editsSql(tx: Sql, schema: string, table: string): PendingQuery<PgRow[]> {
  return tx`coalesce((select edits from stackql_app.inventory_edits
    where target_schema = ${schema} and target_table = ${table}), 0)`
}

/** Puts the guard on the table (replacing one that was disabled or changed). */
export async function ensureEditGuard(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`create or replace trigger ${tx(TRIGGER)}
    after insert or update or delete or truncate on ${tx(schema)}.${tx(table)}
    for each statement execute function stackql_app.inventory_edited()`
}

/** Whether the table carries the guard (tests, diagnostics). */
export async function hasEditGuard(tx: Sql, schema: string, table: string): Promise<boolean> {
  const [r] = await tx<{ on: boolean }[]>`select ${guardedSql(tx, schema, table)} as on`
  return r?.on === true
}
