// Packed copies of a keyed table's digests (stackql_app.inventory_digest_packs), so a run reads 200k
// (key hash, digest) pairs as a few ~1 MB values (~20 ms) instead of 200k rows (~150-300 ms). The
// row-per-entry table (inventory_digests, digests.ts) stays the authority and is what a narrowed
// write changes (its writes follow the churn); the packs are rebuilt from it by the server after a
// full write, and when the entries changed since the last rebuild (the *overlay*: rows whose
// `version` is above the set's `packed_version`, tombstones included) pass a quarter of the table.
// A run reads the packs, then the overlay through the (table, version) index, and applies it. A full
// write stores its entries at version 0 (they are all packed): the index is partial, version > 0.
import type { Sql } from './connect.js'
import { DigestTable } from './digest-table.js'

/** Entries per chunk (~1 MB of pairs): a chunk is one value, read one at a time. */
const ENTRIES_PER_CHUNK = 65_536

/** Overlay entries (changed since the packs were built) above this share of the table: rebuild. */
export const OVERLAY_MAX_SHARE = 0.25

const scopeFilter = (tx: Sql, slices: string[] | undefined) =>
  slices ? tx`and slice = any(${slices}::text[])` : tx``

/**
 * The stored (key hash, digest) pairs of the slices in scope: the packs as of `packedVersion`, with
 * the entries written since applied (a NULL digest removes one). `expected` sizes the table.
 */
export async function loadPairs(
  tx: Sql,
  at: { schema: string; table: string; slices?: string[]; packedVersion: number; expected: number },
): Promise<DigestTable> {
  const { schema, table, slices } = at
  const out = new DigestTable(at.expected)
  // One chunk at a time (a cursor of one row), whatever the table's size.
  const packs = tx<{ pairs: Buffer }[]>`
    select pairs from stackql_app.inventory_digest_packs
    where target_schema = ${schema} and target_table = ${table} ${scopeFilter(tx, slices)}`.cursor(1)
  for await (const [r] of packs) {
    const pairs = r!.pairs
    const view = new DataView(pairs.buffer, pairs.byteOffset, pairs.length)
    for (let at = 0; at < pairs.length; at += 16) out.set(view.getFloat64(at), view.getFloat64(at + 8))
  }
  // Then the overlay over them: newer digests replace packed ones, tombstones remove them. It can
  // reach a quarter of the table before a rebuild: read in batches.
  const rows = tx<{ k: string; d: string | null }[]>`
    select key_hash::text as k, digest::text as d from stackql_app.inventory_digests
    where target_schema = ${schema} and target_table = ${table} and version > ${at.packedVersion} and version > 0
      ${scopeFilter(tx, slices)}`.cursor(10_000)
  for await (const batch of rows) {
    for (const r of batch) {
      if (r.d === null) out.remove(Number(r.k))
      else out.set(Number(r.k), Number(r.d))
    }
  }
  return out
}

/**
 * Rebuilds every pack of the table from the row-per-entry table (tombstones dropped there first):
 * per slice, chunks of ~65k entries by key hash modulo the slice's chunk count, each pair two
 * big-endian float8s (exact: both hashes are below 2^53).
 */
export async function rebuildPacks(tx: Sql, schema: string, table: string): Promise<void> {
  await tx`delete from stackql_app.inventory_digests
    where target_schema = ${schema} and target_table = ${table} and digest is null`
  await tx`delete from stackql_app.inventory_digest_packs where target_schema = ${schema} and target_table = ${table}`
  await tx`insert into stackql_app.inventory_digest_packs (target_schema, target_table, slice, chunk, entries, pairs)
    select ${schema}, ${table}, d.slice, (d.key_hash % c.n)::int, count(*),
      string_agg(float8send(d.key_hash::float8) || float8send(d.digest::float8), ''::bytea)
    from stackql_app.inventory_digests d
    join (select slice, greatest(1, ceil(count(*) / ${ENTRIES_PER_CHUNK}::numeric))::int as n
          from stackql_app.inventory_digests where target_schema = ${schema} and target_table = ${table}
          group by slice) c using (slice)
    where d.target_schema = ${schema} and d.target_table = ${table}
    group by d.slice, (d.key_hash % c.n), c.n`
}
