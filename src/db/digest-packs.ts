// Packed copies of a keyed table's digests (stackql_app.inventory_digest_packs), so a run reads 200k
// (key hash, digest) pairs as a few ~1 MB values (~4 ms, as binary COPY) instead of 200k rows
// (~150-300 ms). The table's entries table (digest-entries.ts) stays the authority and is what a
// narrowed write changes (its writes follow the churn); the packs are rebuilt from it by the server
// after a full write, and when the entries changed since the last rebuild (the *overlay*:
// rows whose `version` is above the set's `packed_version`, tombstones included) pass a quarter of
// the table. A run reads the packs, then the overlay through the (table, version) index, and applies
// it. A full write stores its entries at version 0 (they are all packed): the index is partial,
// version > 0.

import os from 'node:os'
import { copyOut, readBinaryCopy, readUint53 } from './binary-copy.js'
import type { Sql } from './connect.js'
import { entriesRef, entriesTable } from './digest-entries.js'
import { DigestTable } from './digest-table.js'

/** Entries per chunk (~1 MB of pairs): a chunk is one value, read one at a time. */
const ENTRIES_PER_CHUNK = 65_536

/** The packs hold big-endian float8s; this machine's arrays may not. */
const SWAP = os.endianness() === 'LE'

/** Overlay entries (changed since the packs were built) above this share of the table: rebuild. */
export const OVERLAY_MAX_SHARE = 0.25

/**
 * The stored (key hash, digest) pairs of the slices in scope: the packs as of `packedVersion`, with
 * the entries written since applied (a NULL digest removes one). `expected` sizes the table. Both are
 * read as binary COPY streams (binary-copy.ts): no hex or decimal text, no round trip per chunk, and
 * a chunk at a time in memory whatever the table's size. COPY takes no parameters: the target and
 * the slices go in as settings of this transaction.
 */
export async function loadPairs(
  tx: Sql,
  at: { schema: string; table: string; slices?: string[]; packedVersion: number; expected: number },
): Promise<DigestTable> {
  if (!Number.isSafeInteger(at.packedVersion)) throw new Error(`bad packed version ${at.packedVersion}`)
  await tx`select set_config('stackql.digest_schema', ${at.schema}, true),
    set_config('stackql.digest_table', ${at.table}, true),
    set_config('stackql.digest_slices', ${at.slices ? JSON.stringify(at.slices) : ''}, true)`
  const sliceScope = `(current_setting('stackql.digest_slices') = ''
    or slice in (select jsonb_array_elements_text(current_setting('stackql.digest_slices')::jsonb)))`
  const inScope = `target_schema = current_setting('stackql.digest_schema')
    and target_table = current_setting('stackql.digest_table') and ${sliceScope}`
  const out = new DigestTable(at.expected)
  const packs = await copyOut(
    tx,
    `copy (select pairs from stackql_app.inventory_digest_packs where ${inScope}) to stdout (format binary)`,
  )
  let pairs = new Float64Array(0)
  await readBinaryCopy(packs, (buf, field) => {
    const bytes = buf.readInt32BE(field)
    if (bytes % 16 !== 0) throw new Error(`a digest pack of ${bytes} bytes (pairs are 16)`)
    // Into an aligned array of this machine's byte order (the pack holds big-endian float8s).
    if (pairs.length * 8 < bytes) pairs = new Float64Array(bytes / 8)
    const view = new Uint8Array(pairs.buffer, 0, bytes)
    view.set(buf.subarray(field + 4, field + 4 + bytes))
    if (SWAP) Buffer.from(view.buffer, 0, bytes).swap64()
    out.setPairs(pairs.subarray(0, bytes / 8))
  })
  // Then the overlay over them: newer digests replace packed ones, tombstones (NULL) remove them.
  // The entries table's name is a plain identifier (a hash, digest-entries.ts).
  const overlay = await copyOut(
    tx,
    `copy (select key_hash, digest from stackql_app.${entriesTable(at.schema, at.table)}
      where ${sliceScope} and version > ${at.packedVersion} and version > 0) to stdout (format binary)`,
  )
  await readBinaryCopy(overlay, (buf, field) => {
    const key = readUint53(buf, field + 4)
    if (buf.readInt32BE(field + 12) < 0) out.remove(key)
    else out.set(key, readUint53(buf, field + 16))
  })
  return out
}

/**
 * Rebuilds every pack of the table from its entries table (tombstones dropped there first): per
 * slice, chunks of ~65k entries by key hash modulo the slice's chunk count, each pair two big-endian
 * float8s (exact: both hashes are below 2^53).
 */
export async function rebuildPacks(tx: Sql, schema: string, table: string): Promise<void> {
  const entries = entriesRef(tx, schema, table)
  await tx`delete from ${entries} where digest is null`
  await tx`delete from stackql_app.inventory_digest_packs where target_schema = ${schema} and target_table = ${table}`
  await tx`insert into stackql_app.inventory_digest_packs (target_schema, target_table, slice, chunk, entries, pairs)
    select ${schema}, ${table}, d.slice, (d.key_hash % c.n)::int, count(*),
      string_agg(float8send(d.key_hash::float8) || float8send(d.digest::float8), ''::bytea)
    from ${entries} d
    join (select slice, greatest(1, ceil(count(*) / ${ENTRIES_PER_CHUNK}::numeric))::int as n
          from ${entries} group by slice) c using (slice)
    group by d.slice, (d.key_hash % c.n), c.n`
}
