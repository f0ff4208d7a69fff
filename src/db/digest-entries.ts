// The row-per-entry part of a keyed table's digest set (digests.ts): one table per inventory table,
// `stackql_app.stackql_digests_<16 hex of sha256(schema.table)>` — key hash (primary key), slice
// (profile or ''), key (the COPY text of the key columns, to delete the row later), digest (NULL: a
// tombstone, the row went) and the version of the write that stored it (0: a whole-set write; above:
// a narrowed write's, the *overlay* the packs do not hold yet, digest-packs.ts).
//
// A table of its own so that a whole-set write (the first keyed run, high churn, the daily check)
// builds it anew — created, filled, its indexes built after the fill, the old one dropped — instead
// of rewriting a shared table's rows one index entry at a time: 200k entries ~1.1-1.6 s -> ~0.2 s.
// A write of slices, a narrowed write's entries and tombstones change it in place. The name comes
// from a hash, so it is always a plain identifier. The previous version kept every table's entries
// in the shared `stackql_app.inventory_digests`: a set without its own table is not used (the next
// write compares every row and builds one) and its shared rows are deleted then.
import { hashOf } from './column-names.js'
import type { Sql } from './connect.js'

/** The entries table's name (in stackql_app). */
export function entriesTable(schema: string, table: string): string {
  return `stackql_digests_${hashOf(`${schema}.${table}`, 16)}`
}

/** `stackql_app.<entries table>` as an identifier fragment. */
export function entriesRef(tx: Sql, schema: string, table: string) {
  return tx`stackql_app.${tx(entriesTable(schema, table))}`
}

/** SQL that is true when the table's entries table exists. */
export function entriesExistSql(tx: Sql, schema: string, table: string) {
  return tx`(to_regclass(${`stackql_app.${entriesTable(schema, table)}`}) is not null)`
}

async function deleteLegacy(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`delete from stackql_app.inventory_digests where target_schema = ${schema} and target_table = ${table}`
}

/** A new, empty entries table in place of the old one; a whole-set write COPYs its entries into it. */
export async function createEntries(tx: Sql, schema: string, table: string): Promise<void> {
  const ref = entriesRef(tx, schema, table)
  await tx`drop table if exists ${ref}`
  await tx`create table ${ref} (key_hash bigint not null, slice text not null default '', row_key text not null,
    digest bigint, version bigint not null default 0)`
}

/**
 * The new entries table, filled: its indexes are built now, once (not maintained entry by entry).
 * `hashTwice`: the run had a key hash twice that its typed key check found to be distinct keys (a
 * hash collision): one entry is kept.
 */
export async function finishEntries(
  tx: Sql,
  schema: string,
  table: string,
  hashTwice: boolean,
): Promise<void> {
  const name = entriesTable(schema, table)
  const ref = entriesRef(tx, schema, table)
  if (hashTwice)
    await tx`delete from ${ref} a using ${ref} b where a.key_hash = b.key_hash and a.ctid > b.ctid`
  await tx`alter table ${ref} add constraint ${tx(`${name}_pkey`)} primary key (key_hash)`
  // The overlay is read by version (digest-packs.ts); a whole-set write's entries are all version 0.
  await tx`create index ${tx(`${name}_overlay`)} on ${ref} (version) where version > 0`
  await deleteLegacy(tx, schema, table)
}

/** The entries of `slices` from `staged`, in place: the other slices keep theirs. */
export async function replaceSliceEntries(
  tx: Sql,
  schema: string,
  table: string,
  slices: string[],
  staged: string,
  hashTwice: boolean,
): Promise<void> {
  await deleteSliceEntries(tx, schema, table, slices)
  await tx`insert into ${entriesRef(tx, schema, table)} (key_hash, slice, row_key, digest)
    select key_hash, slice, row_key, digest from ${tx(staged)} ${hashTwice ? tx`on conflict do nothing` : tx``}`
}

/** Removes the entries of `slices`. */
export async function deleteSliceEntries(
  tx: Sql,
  schema: string,
  table: string,
  slices: string[],
): Promise<void> {
  await tx`delete from ${entriesRef(tx, schema, table)} where slice = any(${slices}::text[])`
}

/** Removes the entries table (and a previous version's shared rows). */
export async function dropEntries(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`drop table if exists ${entriesRef(tx, schema, table)}`
  await deleteLegacy(tx, schema, table)
}

/**
 * A narrowed delta's gone rows: their entries become tombstones (NULL digest) at `version` (the packs
 * see them as the overlay); returns their stored keys (COPY text of the key columns) — one statement
 * finds the entries for both.
 */
export async function retireEntries(
  tx: Sql,
  schema: string,
  table: string,
  hashes: number[],
  version: number,
): Promise<string[]> {
  if (hashes.length === 0) return []
  const rows = await tx<{ row_key: string }[]>`
    update ${entriesRef(tx, schema, table)} set digest = null, version = ${version}
    where key_hash = any(${hashes}::bigint[])
    returning row_key`
  return rows.map((r) => r.row_key)
}

/** A narrowed delta's staged entries replace or join the stored ones, at `version`. */
export async function upsertEntries(
  tx: Sql,
  schema: string,
  table: string,
  staged: string,
  version: number,
): Promise<void> {
  await tx`insert into ${entriesRef(tx, schema, table)} (key_hash, slice, row_key, digest, version)
    select key_hash, slice, row_key, digest, ${version} from ${tx(staged)}
    on conflict (key_hash)
    do update set slice = excluded.slice, row_key = excluded.row_key, digest = excluded.digest, version = excluded.version`
}
