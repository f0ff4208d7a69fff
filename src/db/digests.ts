// The digest set of a keyed inventory table (stackql_app.inventory_digest_sets, and its entries table,
// digest-entries.ts): for every row the writer wrote, a hash of its key, the key itself (the COPY
// text of its key columns, to delete it later) and the digest of its content (row-digest.ts). The
// delta write reads the (key hash, digest) pairs — packed, with the entries written since applied
// (digest-packs.ts) —, compares them with the run's in this process (digest-compare.ts) and stages
// only the rows whose digest changed. Maintained in the write's own transaction.
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Sql } from './connect.js'
import { escapeCopy } from './copy-encoding.js'
import {
  createEntries,
  deleteSliceEntries,
  dropEntries,
  entriesExistSql,
  entriesRef,
  finishEntries,
  replaceSliceEntries,
  upsertEntries,
} from './digest-entries.js'
import { rebuildPacks } from './digest-packs.js'
import { editsSql, guardedSql } from './edit-guard.js'

export interface DigestSet {
  /** 64-bit seed (text) of this table's digests. */
  seed: string
  keyColumns: string[]
  /** Rows the table held after the write that stored the set (a mismatch = the table changed since). */
  rowCount: number
  verifiedAt: Date
  /** Version of the last write (each write's entries carry the next one). */
  writeVersion: number
  /** The version the packs were built at (digest-packs.ts); null: no packs (a previous version's set). */
  packedVersion: number | null
  /** Entries written since the packs were built. */
  overlay: number
  /** The edits the last write saw (null: a previous version's set); others since = edited by hand. */
  checkedEdits: number | null
  /**
   * The set's entries table (digest-entries.ts) exists and the set's last write kept it; false: a
   * previous version's set, or one a previous version wrote since — not used.
   */
  entries: boolean
}

/** One row's entry: key hash, slice (profile or ''), key (COPY text), digest. */
export interface DigestEntry {
  keyHash: number
  slice: string
  rowKey: string
  digest: number
}

/** A full comparison at least this often, whatever the digests say (row-digest.ts). */
export const DIGEST_VERIFY_MS = 24 * 60 * 60 * 1000

const CHANGED_DIGESTS = 'stackql_delta_digests'

/** The stored set (null when there is none) and the table's edit guard (edit-guard.ts). */
export interface StoredDigests {
  set: DigestSet | null
  /** The table carries the guard, enabled. */
  guarded: boolean
  /** The edits the guard counted so far. */
  edits: number
}

export async function readDigestSet(tx: Sql, schema: string, table: string): Promise<StoredDigests> {
  const [row] = await tx<
    {
      seed: string | null
      key_columns: string[]
      row_count: string
      verified_at: Date
      write_version: string
      packed_version: string | null
      overlay: string
      checked_edits: string | null
      guarded: boolean
      edits: string
      entries: boolean
    }[]
  >`
    select s.seed::text as seed, s.key_columns, s.row_count::text as row_count, s.verified_at,
      s.write_version::text as write_version, s.entries_packed_version::text as packed_version,
      s.overlay::text as overlay, s.checked_edits::text as checked_edits,
      ${guardedSql(tx, schema, table)} as guarded, ${editsSql(tx, schema, table)}::text as edits,
      (${entriesExistSql(tx, schema, table)} and s.entries_version is not distinct from s.write_version) as entries
    from (select 1) one
    left join stackql_app.inventory_digest_sets s on s.target_schema = ${schema} and s.target_table = ${table}`
  const guard = { guarded: row!.guarded, edits: Number(row!.edits) }
  if (row!.seed === null) return { set: null, ...guard }
  return {
    set: {
      seed: row!.seed,
      keyColumns: row!.key_columns,
      rowCount: Number(row!.row_count),
      verifiedAt: row!.verified_at,
      writeVersion: Number(row!.write_version),
      packedVersion: row!.packed_version === null ? null : Number(row!.packed_version),
      overlay: Number(row!.overlay),
      checkedEdits: row!.checked_edits === null ? null : Number(row!.checked_edits),
      entries: row!.entries,
    },
    ...guard,
  }
}

/** A new random seed (a table's first digest set, or one rebuilt with other key columns). */
export function newSeed(): string {
  return randomBytes(8).readBigInt64BE().toString()
}

export { retireEntries } from './digest-entries.js'

const entryLine = (e: DigestEntry) =>
  `${e.keyHash}\t${escapeCopy(e.slice)}\t${escapeCopy(e.rowKey)}\t${e.digest}\n`

/** After a narrowed delta: the staged rows' entries replace or join the stored ones, at `version`. */
export async function applyDigestDelta(
  tx: Sql,
  schema: string,
  table: string,
  changed: DigestEntry[],
  version: number,
): Promise<void> {
  if (changed.length === 0) return
  await stageDigests(tx, Readable.from([changed]))
  await upsertEntries(tx, schema, table, CHANGED_DIGESTS, version)
}

/**
 * Entries streamed with COPY into a temporary table — a narrowed write upserts them from there
 * (applyDigestDelta), a write of slices puts them in place of the slices' (`storeDigests`) — or, for
 * a whole set, into the new entries table. Either way `storeDigests` makes them the stored set once
 * the caller has checked the run's keys on what the stream yielded.
 */
export async function stageDigests(
  tx: Sql,
  entries: AsyncIterable<DigestEntry[]>,
  signal?: AbortSignal,
  wholeSet?: { schema: string; table: string },
): Promise<void> {
  async function* lines() {
    for await (const batch of entries) yield batch.map(entryLine).join('')
  }
  let into = tx`${tx(CHANGED_DIGESTS)}`
  if (wholeSet) {
    // Straight into a new entries table (digest-entries.ts): its indexes are built once it is full.
    await createEntries(tx, wholeSet.schema, wholeSet.table)
    into = tx`${entriesRef(tx, wholeSet.schema, wholeSet.table)} (key_hash, slice, row_key, digest)`
  } else {
    await tx`create temp table ${tx(CHANGED_DIGESTS)} (key_hash bigint, slice text, row_key text, digest bigint) on commit drop`
  }
  await pipeline(
    Readable.from(lines()),
    await tx`copy ${into} from stdin`.writable(),
    signal ? { signal } : {},
  )
}

/**
 * The staged entries replace the stored ones — all (the new entries table they were COPYed into,
 * `stageDigests` with `wholeSet`), or those of the slices in scope (in place) — at version 0: they
 * are in the packs the caller rebuilds next, so the overlay index (version > 0) never holds them. `hashTwice`: the run had a key hash twice and its typed key
 * check found distinct keys (a hash collision): one entry is kept. Otherwise no conflict check: the
 * keys were checked unique already.
 */
export async function storeDigests(
  tx: Sql,
  schema: string,
  table: string,
  slices: string[] | undefined,
  hashTwice: boolean,
): Promise<void> {
  if (slices) await replaceSliceEntries(tx, schema, table, slices, CHANGED_DIGESTS, hashTwice)
  else await finishEntries(tx, schema, table, hashTwice)
}

/** Records the set's seed, keys and the table's row count after this write. */
export async function saveDigestSet(
  tx: Sql,
  schema: string,
  table: string,
  set: {
    seed: string
    keyColumns: string[]
    verified: boolean
    rowCount?: number
    writeVersion: number
    packedVersion: number
    overlay: number
    /**
     * The table's edits as this write read them before it looked at the rows (edit-guard.ts); null
     * for a table this write created (nobody else can have edited it yet): the count as it stands.
     */
    checkedEdits: number | null
  },
): Promise<void> {
  // The row count is counted unless the caller knows it (a narrowed write: before + added - removed).
  const rows =
    set.rowCount === undefined
      ? tx`(select count(*) from ${tx(schema)}.${tx(table)})`
      : tx`${set.rowCount}::bigint`
  const checked = set.checkedEdits === null ? editsSql(tx, schema, table) : tx`${set.checkedEdits}::bigint`
  // Versions side by side: a previous version reads `packed_version` and keeps its entries in the
  // shared table, so this version leaves `packed_version` NULL (a previous version then compares in
  // full instead of trusting a set it cannot read), and keeps its own in `entries_packed_version`.
  // `entries_version` is the write that last kept this set's entries table: a previous version
  // writing in between bumps `write_version` only, and this version then compares in full.
  await tx`insert into stackql_app.inventory_digest_sets
      (target_schema, target_table, seed, key_columns, row_count, verified_at, write_version, packed_version, overlay,
       checked_edits, entries_version, entries_packed_version)
    values (${schema}, ${table}, ${set.seed}::bigint, ${set.keyColumns}::text[], ${rows}, now(),
      ${set.writeVersion}, null, ${set.overlay}, ${checked}, ${set.writeVersion}, ${set.packedVersion})
    on conflict (target_schema, target_table) do update set seed = excluded.seed, key_columns = excluded.key_columns,
      row_count = excluded.row_count, write_version = excluded.write_version,
      packed_version = null, entries_version = excluded.entries_version,
      entries_packed_version = excluded.entries_packed_version,
      overlay = excluded.overlay, checked_edits = excluded.checked_edits,
      verified_at = case when ${set.verified} then excluded.verified_at else stackql_app.inventory_digest_sets.verified_at end`
}

/** Records the edits a write that changed nothing began with (see saveDigestSet's `checkedEdits`). */
export async function saveCheckedEdits(tx: Sql, schema: string, table: string, edits: number): Promise<void> {
  await tx`update stackql_app.inventory_digest_sets set checked_edits = ${edits}
    where target_schema = ${schema} and target_table = ${table}`
}

/**
 * After an empty scoped write (a for_each finish retiring profiles): the entries of its slices ('' =
 * rows without one) go with their rows; the other slices' entries still describe theirs, so the set
 * stays current (not verified) at the next write version, its packs rebuilt.
 */
export async function retireSlices(
  tx: Sql,
  schema: string,
  table: string,
  set: {
    seed: string
    keyColumns: string[]
    writeVersion: number
    slices: string[]
    rowCount: number
    checkedEdits: number
  },
): Promise<void> {
  await deleteSliceEntries(tx, schema, table, set.slices)
  await rebuildPacks(tx, schema, table)
  const version = set.writeVersion + 1
  await saveDigestSet(tx, schema, table, {
    seed: set.seed,
    keyColumns: set.keyColumns,
    verified: false,
    rowCount: set.rowCount,
    writeVersion: version,
    packedVersion: version,
    overlay: 0,
    checkedEdits: set.checkedEdits,
  })
}

/** The table has no (usable) digest set any more: the next keyed write compares every row. */
export async function dropDigests(tx: Sql, schema: string, table: string): Promise<void> {
  await dropEntries(tx, schema, table)
  await tx`delete from stackql_app.inventory_digest_packs where target_schema = ${schema} and target_table = ${table}`
  await tx`delete from stackql_app.inventory_digest_sets where target_schema = ${schema} and target_table = ${table}`
}

/** The current row count of the target (is the stored set still about this table's rows?). */
export async function tableRowCount(tx: Sql, schema: string, table: string): Promise<number> {
  const [r] = await tx<{ n: string }[]>`select count(*)::text as n from ${tx(schema)}.${tx(table)}`
  return Number(r!.n)
}
